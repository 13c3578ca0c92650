//! Reconciling semaphores, leases, mutexes, rwmutexes and onces: reclaim stale holders and keep the
//! derived fields true. (The queue lives in the clients' `Waiter` objects:
//! the head of the queue takes a reclaimed slot itself.)
//!
//! The operator follows the clients' protocol exactly (`konductor::protocol`):
//! a record is stale only after this process has seen it unchanged for its
//! TTL plus a margin, by its own monotonic clock, so it never evicts earlier
//! than a waiting client would; and every change is a resourceVersion-guarded
//! status write, so it cannot over-grant while clients write concurrently.

use std::time::{Duration, Instant};

use konductor::protocol::{holder_key, observed_records, Slotted, Staleness};
use konductor::resource::{
    HolderRecord, Lease, LeasePhase, LeaseStatus, Mutex, Once, OncePhase, RWMutex, Semaphore,
};
use kube::runtime::controller::Action;

use crate::clock::now_rfc3339;
use crate::context::Context;
use crate::events::EventType;
use crate::object::describe;
use crate::reconciler::{Decision, Reconciler};
use crate::status::{set_ready, ConditionStatus, Phased};

/// What the operator needs of a kind with holders, beyond [`Slotted`].
pub trait Tracked: Slotted + Phased + Sync {
    /// Why the spec cannot be used, if it cannot.
    fn spec_problem(&self) -> Option<String>;
    /// Adjusts the phase after the operator reclaimed the last holder.
    fn mark_reclaimed(&mut self, _before: &Self) {}
    /// Whether a change from phase `previous` to `phase` gets an Event.
    fn announces(previous: &str, phase: &str) -> bool {
        let expired = LeasePhase::Expired.as_str();
        phase == expired || previous == expired
    }
}

impl Tracked for Semaphore {
    fn spec_problem(&self) -> Option<String> {
        if self.spec.permits == 0 {
            return Some("spec.permits must be at least 1".into());
        }
        self.default_ttl().err().map(|e| format!("spec.ttl: {e}"))
    }
}

impl Tracked for RWMutex {
    fn spec_problem(&self) -> Option<String> {
        self.default_ttl().err().map(|e| format!("spec.ttl: {e}"))
    }
}

/// The one-holder kinds (Lease, Mutex): the same spec and status.
macro_rules! single_holder {
    ($($kind:ty),+) => {$(
        impl Tracked for $kind {
            fn spec_problem(&self) -> Option<String> {
                self.default_ttl().err().map(|e| format!("spec.ttl: {e}"))
            }

            fn mark_reclaimed(&mut self, before: &Self) {
                mark_expired(&mut self.status, before.status.as_ref());
            }
        }
    )+};
}
single_holder!(Lease, Mutex);

impl Tracked for Once {
    fn spec_problem(&self) -> Option<String> {
        self.default_ttl().err().map(|e| format!("spec.ttl: {e}"))
    }

    /// A once's executor reclaimed makes it `Pending` (core's `store`); its
    /// outcome is announced: `Done`, `Failed`, and a run given up.
    fn announces(previous: &str, phase: &str) -> bool {
        phase == OncePhase::Done.as_str()
            || phase == OncePhase::Failed.as_str()
            || (previous == OncePhase::Running.as_str() && phase == OncePhase::Pending.as_str())
    }
}

/// A one-holder object whose holder expired and that nobody took over shows
/// `Expired` until the next acquire (core's `store` only knows Held and
/// Available).
fn mark_expired(status: &mut Option<LeaseStatus>, before: Option<&LeaseStatus>) {
    if let Some(status) = status.as_mut() {
        let was_expired = before.and_then(|s| s.phase) == Some(LeasePhase::Expired);
        if status.holder.is_none() && (was_expired || before.is_some_and(|s| s.holder.is_some())) {
            status.phase = Some(LeasePhase::Expired);
        }
    }
}

/// Decides the status write (if any) for `object` as seen at `now`.
pub fn plan<K: Tracked>(
    object: &K,
    staleness: &Staleness,
    now: Instant,
    now_text: &str,
) -> Decision<K, Reclaimed> {
    let slots = object.slots();
    let hold_ttl = object.default_ttl().unwrap_or(konductor::DEFAULT_TTL);
    let observed = observed_records(&slots, hold_ttl);
    let verdict = staleness.observe(&object.key(), &observed, now);

    let mut next = slots.clone();
    let is_stale = |h: &HolderRecord| {
        verdict
            .stale
            .contains(&holder_key(&h.holder, h.token, h.renew_count))
    };
    let reclaimed_holders: Vec<String> = slots
        .holders
        .iter()
        .filter(|h| is_stale(h))
        .map(|h| h.holder.clone())
        .collect();
    next.evict(is_stale);

    let mut updated = object.clone();
    updated.store(next);
    if !reclaimed_holders.is_empty() || object.phase() == LeasePhase::Expired.as_str() {
        updated.mark_reclaimed(object);
    }
    let (ready, reason, message) = match object.spec_problem() {
        Some(problem) => (ConditionStatus::False, "InvalidSpec", problem),
        None => (
            ConditionStatus::True,
            "Reconciled",
            "holders are tracked by the operator".to_owned(),
        ),
    };
    set_ready(&mut updated, object, ready, reason, message, now_text);
    let changed = serde_json::to_value(&updated).ok() != serde_json::to_value(object).ok();
    Decision {
        write: changed.then_some(updated),
        note: Reclaimed {
            holders: reclaimed_holders,
            next_expiry: verdict.next_expiry,
        },
    }
}

/// What a reclaim does besides the write, for Events and metrics once it is written.
pub struct Reclaimed {
    /// Holders removed as stale.
    pub holders: Vec<String>,
    /// When the next remaining record turns stale if it stays unchanged.
    pub next_expiry: Option<Instant>,
}

impl<K: Tracked> Reconciler for K {
    type Note = Reclaimed;

    async fn decide(ctx: &Context, object: &K) -> Decision<K, Reclaimed> {
        ctx.track_staleness(&object.metadata().uid, &object.key());
        plan(object, &ctx.staleness, Instant::now(), &now_rfc3339())
    }

    /// Reports what was reclaimed; looks again at the next expiry.
    fn settled(ctx: &Context, object: &K, reclaimed: Reclaimed) -> Action {
        report(ctx, object, &reclaimed);
        note_phase(ctx, object);
        requeue_at(reclaimed.next_expiry)
    }
}

/// Logs each reclaimed holder and reports the reclaim in one Event (one
/// status write, one Event, whatever the number of holders it removed).
fn report<K: Tracked>(ctx: &Context, object: &K, reclaimed: &Reclaimed) {
    let holders = &reclaimed.holders;
    ctx.metrics.reclaimed(K::KIND, "holder", holders.len());
    if holders.is_empty() {
        return;
    }
    let what = describe(object);
    for holder in holders {
        tracing::info!(
            object = what,
            holder,
            "reclaimed a holder that stopped renewing"
        );
    }
    ctx.event(
        object,
        EventType::Normal,
        "Reclaimed",
        reclaimed_note(holders),
    );
}

/// The note of a `Reclaimed` Event: every holder it removed, by name.
fn reclaimed_note(holders: &[String]) -> String {
    match holders {
        [one] => format!("holder {one} stopped renewing; its slot was reclaimed"),
        many => format!(
            "holders {} stopped renewing; their slots were reclaimed",
            many.join(", ")
        ),
    }
}

fn note_phase<K: Tracked>(ctx: &Context, object: &K) {
    if let Some(previous) = ctx.phase_change(object, object.phase()) {
        let phase = object.phase();
        tracing::debug!(object = describe(object), previous, phase, "phase changed");
        if K::announces(&previous, phase) {
            ctx.event(
                object,
                EventType::Normal,
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
    use konductor::resource::{HolderRecord, SemaphorePhase, SemaphoreSpec};

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

    fn with_slots<K: Tracked>(mut object: K, holders: &[&str]) -> K {
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
        object.store(slots);
        object
    }

    #[test]
    fn a_holder_is_reclaimed_only_after_its_ttl_by_our_clock() {
        let staleness = Staleness::default();
        let sem = with_slots(semaphore(2), &["live", "dead"]);
        let t0 = Instant::now();
        let first = plan(&sem, &staleness, t0, "t0");
        assert!(first.note.holders.is_empty());
        let expiry = first.note.next_expiry.expect("records can expire");
        assert!(
            expiry >= t0 + Duration::from_secs(10),
            "never before the TTL"
        );
        assert!(
            first.write.is_none(),
            "nothing to write on first sight, not even the Ready condition"
        );

        let later = plan(&sem, &staleness, t0 + Duration::from_millis(10_500), "t1");
        assert_eq!(later.note.holders, ["live", "dead"]);
        let written = later.write.unwrap();
        let status = written.status.as_ref().unwrap();
        assert!(status.holder_names().is_empty());
        assert_eq!(
            status.fencing_token, 2,
            "the fencing counter never goes back"
        );
        assert_eq!(
            (status.in_use, status.available, status.phase),
            (0, 2, Some(SemaphorePhase::Ready))
        );
    }

    #[test]
    fn nothing_is_written_when_nothing_changed() {
        let staleness = Staleness::default();
        let sem = with_slots(semaphore(2), &["a"]);
        let t0 = Instant::now();
        assert!(plan(&sem, &staleness, t0, "t0").write.is_none());
        let again = plan(&sem, &staleness, t0 + Duration::from_secs(1), "t1");
        assert!(
            again.write.is_none(),
            "a second look at the same state must not write"
        );
    }

    #[test]
    fn one_reclaim_is_one_note_naming_every_holder() {
        assert_eq!(
            reclaimed_note(&["a".into()]),
            "holder a stopped renewing; its slot was reclaimed"
        );
        assert_eq!(
            reclaimed_note(&["a".into(), "b".into()]),
            "holders a, b stopped renewing; their slots were reclaimed"
        );
    }

    #[test]
    fn an_expired_lease_without_waiters_shows_expired_and_stays_so() {
        let staleness = Staleness::default();
        let mut lease = Lease::new("l", Default::default());
        lease.metadata.uid = "u2".into();
        let lease = with_slots(lease, &["leader"]);
        let t0 = Instant::now();
        assert!(plan(&lease, &staleness, t0, "t0").write.is_none());
        let p = plan(&lease, &staleness, t0 + Duration::from_secs(11), "t1");
        assert_eq!(p.note.holders, ["leader"]);
        let lease = p.write.unwrap();
        let status = lease.status.as_ref().unwrap();
        assert_eq!(
            (status.holder.as_deref(), status.phase),
            (None, Some(LeasePhase::Expired))
        );
        assert!(plan(&lease, &staleness, t0 + Duration::from_secs(12), "t2")
            .write
            .is_none());
    }
}
