//! Reconciling semaphores and leases: reclaim stale holders and waiters, hand
//! freed slots to the head of the queue, keep the derived fields true.
//!
//! The operator follows the clients' protocol exactly (`konductor::protocol`):
//! a record is stale only after this process has seen it unchanged for its
//! TTL plus a margin, by its own monotonic clock, so it never evicts earlier
//! than a waiting client would; and every change is a resourceVersion-guarded
//! status write, so it cannot over-grant while clients write concurrently.

use std::sync::Arc;
use std::time::{Duration, Instant};

use konductor::protocol::{holder_key, waiter_key, Observed, Slotted, Staleness};
use konductor::resource::{Condition, Lease, Semaphore};
use kube::api::DynamicObject;
use kube::runtime::controller::Action;

use crate::clock::now_rfc3339;
use crate::conditions::{self, READY};
use crate::context::Context;
use crate::error::Result;
use crate::object::{decode, describe, replace_status, Written};

/// How long an unparsable waiter TTL is taken to be (the clients' maximum).
const WAITER_TTL: Duration = Duration::from_secs(30);
/// Status writes attempted per reconcile before leaving it to the next event.
const ATTEMPTS: usize = 5;

/// What the operator needs of a kind with holders and waiters, beyond [`Slotted`].
pub trait Tracked: Slotted {
    /// The status conditions, creating an empty status if needed.
    fn conditions_mut(&mut self) -> &mut Vec<Condition>;
    /// The current phase.
    fn phase(&self) -> &str;
    /// Why the spec cannot be used, if it cannot.
    fn spec_problem(&self) -> Option<String>;
    /// Adjusts the phase after the operator reclaimed the last holder.
    fn mark_reclaimed(&mut self, _before: &Self) {}
}

impl Tracked for Semaphore {
    fn conditions_mut(&mut self) -> &mut Vec<Condition> {
        &mut self.status.get_or_insert_with(Default::default).conditions
    }

    fn phase(&self) -> &str {
        self.status.as_ref().map_or("", |s| s.phase.as_str())
    }

    fn spec_problem(&self) -> Option<String> {
        if self.spec.permits == 0 {
            return Some("spec.permits must be at least 1".into());
        }
        self.default_ttl().err().map(|e| format!("spec.ttl: {e}"))
    }
}

impl Tracked for Lease {
    fn conditions_mut(&mut self) -> &mut Vec<Condition> {
        &mut self.status.get_or_insert_with(Default::default).conditions
    }

    fn phase(&self) -> &str {
        self.status.as_ref().map_or("", |s| s.phase.as_str())
    }

    fn spec_problem(&self) -> Option<String> {
        self.default_ttl().err().map(|e| format!("spec.ttl: {e}"))
    }

    /// A lease whose holder expired and that nobody took over shows `Expired`
    /// until the next acquire (core's `store` only knows Held and Available).
    fn mark_reclaimed(&mut self, before: &Self) {
        if let Some(status) = self.status.as_mut() {
            let was_expired = before.phase() == "Expired";
            if status.holder.is_none()
                && (was_expired || before.status.as_ref().is_some_and(|s| s.holder.is_some()))
            {
                status.phase = "Expired".into();
            }
        }
    }
}

/// What one look at an object decided.
pub struct Plan<K> {
    /// The object to write, if anything must change.
    pub write: Option<K>,
    /// Holders removed as stale.
    pub reclaimed_holders: Vec<String>,
    /// Waiters removed as stale.
    pub reclaimed_waiters: Vec<String>,
    /// Waiters granted a freed slot by this write.
    pub granted: Vec<String>,
    /// When the next remaining record turns stale if it stays unchanged.
    pub next_expiry: Option<Instant>,
}

/// The key under which `staleness` keeps the expiry clocks of `object`'s records.
pub fn staleness_key<K: Tracked>(object: &K) -> String {
    let meta = object.metadata();
    format!(
        "{}/{}/{}/{}",
        K::PLURAL,
        meta.namespace,
        meta.name,
        meta.uid
    )
}

/// Decides the status write (if any) for `object` as seen at `now`.
pub fn plan<K: Tracked>(
    object: &K,
    staleness: &Staleness,
    now: Instant,
    now_text: &str,
) -> Plan<K> {
    let slots = object.slots();
    let hold_ttl = object.default_ttl().unwrap_or(konductor::DEFAULT_TTL);
    let observed: Vec<Observed> = slots
        .holders
        .iter()
        .map(|h| Observed {
            key: holder_key(&h.holder, h.token, h.renew_count),
            ttl: konductor::parse_duration(&h.ttl).unwrap_or(hold_ttl),
        })
        .chain(slots.waiters.iter().map(|w| Observed {
            key: waiter_key(&w.holder, w.renew_count),
            ttl: konductor::parse_duration(&w.ttl).unwrap_or(WAITER_TTL),
        }))
        .collect();
    let meta = object.metadata();
    let verdict = staleness.observe(&staleness_key(object), &observed, now);

    let mut next = slots.clone();
    let is_stale_holder = |h: &konductor::resource::HolderRecord| {
        verdict
            .stale
            .contains(&holder_key(&h.holder, h.token, h.renew_count))
    };
    let reclaimed_holders: Vec<String> = next
        .holders
        .iter()
        .filter(|h| is_stale_holder(h))
        .map(|h| h.holder.clone())
        .collect();
    next.holders.retain(|h| !is_stale_holder(h));
    let is_stale_waiter = |w: &konductor::resource::WaiterRecord| {
        verdict
            .stale
            .contains(&waiter_key(&w.holder, w.renew_count))
    };
    let reclaimed_waiters: Vec<String> = next
        .waiters
        .iter()
        .filter(|w| is_stale_waiter(w))
        .map(|w| w.holder.clone())
        .collect();
    next.waiters.retain(|w| !is_stale_waiter(w));
    let granted = next.grant_free(now_text);

    let mut updated = object.clone();
    updated.store(next);
    if !reclaimed_holders.is_empty() || object.phase() == "Expired" {
        updated.mark_reclaimed(object);
    }
    let generation = meta.generation;
    match object.spec_problem() {
        Some(problem) => conditions::set(
            updated.conditions_mut(),
            READY,
            false,
            "InvalidSpec",
            problem,
            generation,
            now_text,
        ),
        None => conditions::set(
            updated.conditions_mut(),
            READY,
            true,
            "Reconciled",
            "holders and waiters are tracked by the operator".into(),
            generation,
            now_text,
        ),
    }
    let changed = serde_json::to_value(&updated).ok() != serde_json::to_value(object).ok();
    Plan {
        write: changed.then_some(updated),
        reclaimed_holders,
        reclaimed_waiters,
        granted,
        next_expiry: verdict.next_expiry,
    }
}

/// Reconciles one semaphore or lease.
pub async fn reconcile<K: Tracked>(
    object: Arc<DynamicObject>,
    ctx: Arc<Context>,
) -> Result<Action> {
    let started = Instant::now();
    let result = reconcile_inner::<K>(&object, &ctx).await;
    ctx.metrics
        .reconciled(K::KIND, started.elapsed(), result.is_err());
    result
}

async fn reconcile_inner<K: Tracked>(object: &DynamicObject, ctx: &Context) -> Result<Action> {
    let mut current: K = decode(object)?;
    ctx.track_staleness(&current.metadata().uid, &staleness_key(&current));
    for _ in 0..ATTEMPTS {
        let plan = plan(&current, &ctx.staleness, Instant::now(), &now_rfc3339());
        let Some(update) = plan.write else {
            note_phase(ctx, &current);
            return Ok(requeue_at(plan.next_expiry));
        };
        match replace_status(&ctx.client, &update).await? {
            Written::Applied(written) => {
                ctx.metrics.status_write(K::KIND, false);
                report(
                    ctx,
                    &written,
                    &plan.reclaimed_holders,
                    &plan.reclaimed_waiters,
                    &plan.granted,
                );
                note_phase(ctx, &written);
                return Ok(requeue_at(plan.next_expiry));
            }
            Written::Conflict(Some(fresh)) => {
                ctx.metrics.status_write(K::KIND, true);
                current = fresh;
            }
            Written::Conflict(None) => {
                ctx.forget(&current);
                return Ok(Action::await_change());
            }
        }
    }
    // The object keeps changing under us; its next watch event brings us back.
    Ok(Action::requeue(Duration::from_millis(200)))
}

fn report<K: Tracked>(
    ctx: &Context,
    object: &K,
    holders: &[String],
    waiters: &[String],
    granted: &[String],
) {
    let what = describe(object);
    ctx.metrics.reclaimed(K::KIND, "holder", holders.len());
    ctx.metrics.reclaimed(K::KIND, "waiter", waiters.len());
    for holder in holders {
        tracing::info!(
            object = what,
            holder,
            "reclaimed a holder that stopped renewing"
        );
        ctx.event(
            object,
            false,
            "Reclaimed",
            format!("holder {holder} stopped renewing; its slot was reclaimed"),
        );
    }
    for waiter in waiters {
        tracing::info!(
            object = what,
            waiter,
            "removed a waiter that stopped heartbeating"
        );
        ctx.event(
            object,
            false,
            "WaiterExpired",
            format!("waiter {waiter} stopped heartbeating and left the queue"),
        );
    }
    for holder in granted {
        tracing::info!(
            object = what,
            holder,
            "handed a freed slot to the head waiter"
        );
        ctx.event(
            object,
            false,
            "Granted",
            format!("freed slot handed to waiter {holder}"),
        );
    }
}

fn note_phase<K: Tracked>(ctx: &Context, object: &K) {
    if let Some(previous) = ctx.phase_change(object, object.phase()) {
        let phase = object.phase();
        tracing::debug!(object = describe(object), previous, phase, "phase changed");
        if phase == "Expired" || previous == "Expired" {
            ctx.event(
                object,
                false,
                "PhaseChanged",
                format!("phase {previous} → {phase}"),
            );
        }
    }
}

/// Requeue just after the next expiry, or wait for a change when nothing can expire.
fn requeue_at(next_expiry: Option<Instant>) -> Action {
    match next_expiry {
        Some(at) => {
            Action::requeue(at.saturating_duration_since(Instant::now()) + Duration::from_millis(1))
        }
        None => Action::await_change(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use konductor::protocol::Slots;
    use konductor::resource::{HolderRecord, SemaphoreSpec, WaiterRecord};

    fn semaphore(permits: u32) -> Semaphore {
        let mut s = Semaphore::new(
            "s",
            SemaphoreSpec {
                permits,
                ttl: Some("10s".into()),
            },
        );
        s.metadata.namespace = "ns".into();
        s.metadata.uid = "u1".into();
        s
    }

    fn with_slots<K: Tracked>(mut object: K, holders: &[&str], waiters: &[&str]) -> K {
        let mut slots = Slots {
            capacity: 0,
            ..object.slots()
        };
        for h in holders {
            slots.fencing += 1;
            slots.holders.push(HolderRecord {
                holder: (*h).into(),
                token: slots.fencing,
                ttl: "10s".into(),
                ..HolderRecord::default()
            });
        }
        for w in waiters {
            slots.waiters.push(WaiterRecord {
                holder: (*w).into(),
                ttl: "30s".into(),
                hold_ttl: "10s".into(),
                ..WaiterRecord::default()
            });
        }
        object.store(slots);
        object
    }

    #[test]
    fn a_holder_is_reclaimed_only_after_its_ttl_by_our_clock_and_the_slot_goes_to_the_head() {
        let staleness = Staleness::default();
        let sem = with_slots(semaphore(1), &["dead"], &["w1", "w2"]);
        let t0 = Instant::now();
        let first = plan(&sem, &staleness, t0, "t0");
        assert!(first.reclaimed_holders.is_empty());
        let expiry = first.next_expiry.expect("records can expire");
        assert!(
            expiry >= t0 + Duration::from_secs(10),
            "never before the TTL"
        );
        // Only the Ready condition is new on first sight.
        let sem = first.write.unwrap();

        let later = plan(&sem, &staleness, t0 + Duration::from_millis(10_500), "t1");
        assert_eq!(later.reclaimed_holders, ["dead"]);
        assert_eq!(later.granted, ["w1"]);
        let written = later.write.unwrap();
        let status = written.status.as_ref().unwrap();
        assert_eq!(status.holder_names(), ["w1"]);
        assert_eq!(
            status.holders[0].token, 2,
            "the new grant carries a larger fencing token"
        );
        assert_eq!(
            (status.in_use, status.available, status.phase.as_str()),
            (1, 0, "Full")
        );
        assert_eq!(status.waiters.len(), 1);
    }

    #[test]
    fn nothing_is_written_when_nothing_changed() {
        let staleness = Staleness::default();
        let sem = with_slots(semaphore(2), &["a"], &[]);
        let t0 = Instant::now();
        let sem = plan(&sem, &staleness, t0, "t0")
            .write
            .expect("Ready condition added");
        let again = plan(&sem, &staleness, t0 + Duration::from_secs(1), "t1");
        assert!(
            again.write.is_none(),
            "a second look at the same state must not write"
        );
    }

    #[test]
    fn raising_permits_grants_queued_waiters() {
        let staleness = Staleness::default();
        let mut sem = with_slots(semaphore(1), &["a"], &["w1", "w2"]);
        sem.spec.permits = 3;
        let p = plan(&sem, &staleness, Instant::now(), "t0");
        assert_eq!(p.granted, ["w1", "w2"]);
        assert_eq!(p.write.unwrap().status.unwrap().available, 0);
    }

    #[test]
    fn an_expired_lease_without_waiters_shows_expired_and_stays_so() {
        let staleness = Staleness::default();
        let mut lease = Lease::new("l", Default::default());
        lease.metadata.uid = "u2".into();
        let lease = with_slots(lease, &["leader"], &[]);
        let t0 = Instant::now();
        let lease = plan(&lease, &staleness, t0, "t0").write.unwrap();
        let p = plan(&lease, &staleness, t0 + Duration::from_secs(11), "t1");
        assert_eq!(p.reclaimed_holders, ["leader"]);
        let lease = p.write.unwrap();
        let status = lease.status.as_ref().unwrap();
        assert_eq!(
            (status.holder.as_deref(), status.phase.as_str()),
            (None, "Expired")
        );
        assert!(plan(&lease, &staleness, t0 + Duration::from_secs(12), "t2")
            .write
            .is_none());
    }
}
