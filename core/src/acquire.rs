//! The acquire protocol shared by semaphores and leases.
//!
//! Every step is one resourceVersion-guarded write of the object's status,
//! so etcd orders all grants and "at most `capacity` holders" holds whoever
//! writes. A caller that finds no free slot queues itself in the object and
//! follows it through a watch; the write that frees a slot also hands it to
//! the head of the queue, so the waiter learns of its grant from one watch
//! event. Records whose owner stopped renewing are evicted by the first live
//! waiter once this process has seen them unchanged for their TTL.

use std::time::{Duration, Instant};

use crate::backoff::after_lost_race;
use crate::client::Shared;
use crate::duration::{format_duration, server_ttl};
use crate::error::{Argument, Error, Result};
use crate::names::{validate_holder, validate_name};
use crate::objects::Objects;
use crate::observer::Event;
use crate::options::{default_holder, Options, MAX_TTL};
use crate::resource::{Resource, WaiterRecord};
use crate::slots::{Place, Slots};
use crate::staleness::{Observed, Staleness, Verdict};
use crate::time::now_rfc3339;
use crate::transport::Retry;
use crate::watch::{is_newer, Follow, Wake};

/// Longest time a waiter entry lives without a heartbeat. Every write costs
/// the API server time in proportion to the queue's length, so heartbeats are
/// rare (every third of this); dead waiters are skipped on release anyway.
pub const MAX_WAITER_TTL: Duration = Duration::from_secs(60);

/// How long a caller that gave up may spend removing its records.
const LEAVE_BUDGET: Duration = Duration::from_secs(10);

/// A new acquisition identity: 64 random bits (std's per-process random
/// hash keys, mixed with a counter, the time and the process id).
fn new_ticket() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    if let Ok(since_epoch) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(since_epoch.as_nanos());
    }
    format!("{:016x}", hasher.finish())
}

/// A resource whose status holds slots (Semaphore, Lease).
pub trait Slotted: Resource {
    /// The coordination state.
    fn slots(&self) -> Slots;
    /// Writes the coordination state back, with the fields derived from it.
    fn store(&mut self, slots: Slots);
    /// TTL for acquirers that do not give one.
    fn default_ttl(&self) -> Result<Duration>;
    /// Priority for acquirers that do not give one.
    fn default_priority(&self) -> i32 {
        0
    }
    /// The error for a try-once acquire that found no free slot.
    fn busy(name: &str, slots: &Slots) -> Error;
}

/// A successful acquisition.
pub(crate) struct Granted {
    pub holder: String,
    pub token: u64,
    pub ttl: Duration,
    /// The holder must consider the grant lost at `anchor + ttl`: `anchor` is
    /// no later than the moment anyone else could first have seen the grant.
    pub anchor: Instant,
    pub waited: Duration,
}

/// The staleness key of a holder record; it changes on every renewal.
pub fn holder_key(holder: &str, token: u64, renew_count: u64) -> String {
    format!("h/{holder}/{token}/{renew_count}")
}

/// The staleness key of a waiter record; it changes on every heartbeat.
pub fn waiter_key(holder: &str, renew_count: u64) -> String {
    format!("w/{holder}/{renew_count}")
}

pub(crate) fn validate_ttl(ttl: Duration) -> Result<()> {
    if ttl < Duration::from_millis(100) {
        return Err(Error::invalid(
            Argument::Ttl,
            format_duration(ttl),
            "must be at least 100ms",
        ));
    }
    if ttl > MAX_TTL {
        return Err(Error::invalid(
            Argument::Ttl,
            format_duration(ttl),
            format!("must be at most {}", format_duration(MAX_TTL)),
        ));
    }
    Ok(())
}

/// Notes the records of `object` in this client's staleness tracker and says
/// which are stale; `me` (our own waiter entry) is never judged.
pub(crate) fn observe<K: Resource>(
    staleness: &Staleness,
    object: &K,
    slots: &Slots,
    me: &str,
    default_ttl: Duration,
) -> Verdict {
    let observed = observed_records(slots, Some(me), default_ttl);
    staleness.observe(&object.key(), &observed, Instant::now())
}

/// The records of `slots` whose staleness an observer tracks, each with the
/// TTL it claims as read from the server, capped: a holder's at most
/// [`MAX_TTL`] (`default_ttl` when unreadable), a waiter's at most
/// [`MAX_WAITER_TTL`], so that no record can block a queue for longer. `me`,
/// when given, is the observer's own waiter entry, never judged.
pub fn observed_records(slots: &Slots, me: Option<&str>, default_ttl: Duration) -> Vec<Observed> {
    let holders = slots.holders.iter().map(|h| Observed {
        key: holder_key(&h.holder, h.token, h.renew_count),
        ttl: server_ttl(&h.ttl, default_ttl),
    });
    let waiters = slots
        .waiters
        .iter()
        .filter(|w| Some(w.holder.as_str()) != me)
        .map(|w| Observed {
            key: waiter_key(&w.holder, w.renew_count),
            ttl: server_ttl(&w.ttl, MAX_WAITER_TTL).min(MAX_WAITER_TTL),
        });
    holders.chain(waiters).collect()
}

/// Acquires a slot of `name`, waiting as `options` allow.
pub(crate) fn acquire<K: Slotted>(
    shared: &Shared,
    name: &str,
    options: &Options,
) -> Result<Granted> {
    validate_name(name)?;
    let holder = match &options.holder {
        Some(holder) => holder.clone(),
        None => default_holder(),
    };
    validate_holder(&holder)?;
    if let Some(ttl) = options.ttl {
        validate_ttl(ttl)?;
    }
    let event = Event {
        kind: K::KIND,
        namespace: &shared.namespace,
        name,
        holder: &holder,
    };
    let started = Instant::now();
    let result =
        Acquisition::<K>::new(shared, name, holder.clone(), options, started).and_then(|a| a.run());
    if let Some(observer) = &options.observer {
        observer.waited(&event, started.elapsed());
        match &result {
            Ok(granted) => observer.acquired(&event, granted.waited),
            Err(error) => observer.error(&event, error),
        }
    }
    result
}

struct Acquisition<'a, K: Slotted> {
    shared: &'a Shared,
    /// Reads and writes bounded by the caller's deadline.
    objects: Objects,
    name: &'a str,
    holder: String,
    options: &'a Options,
    started: Instant,
    deadline: Option<Instant>,
    object: K,
    hold_ttl: Duration,
    waiter_ttl: Duration,
    priority: i32,
    /// This acquisition's identity in the records it writes.
    ticket: String,
    /// False once our record came back without our ticket (a CRD that
    /// prunes it, or an older writer): we then recognise our records by
    /// holder name, as clients before tickets did.
    tickets_kept: bool,
    /// Start of our first write: the earliest moment a grant to us (whose
    /// answer may have been lost) could have been seen by anyone.
    first_write: Option<Instant>,
    /// Start of our last successful write of our waiter entry.
    last_waiter_write: Option<Instant>,
    /// Set when an append failed, so we queue with guarded writes instead.
    append_unsupported: bool,
    /// Writes that lost a race so far, for back-off.
    conflicts: u32,
    follow: Option<Follow<K>>,
}

/// What a planned status write is for.
#[derive(Debug, PartialEq)]
enum Plan {
    Take(u64),
    Queue,
    Housekeeping,
}

/// A planned write.
#[derive(Debug)]
enum Write {
    /// A resourceVersion-guarded replacement of the status.
    Put(Slots, Plan),
    /// An atomic append of our waiter entry (no conflicts possible).
    Append(WaiterRecord),
}

impl<'a, K: Slotted> Acquisition<'a, K> {
    fn new(
        shared: &'a Shared,
        name: &'a str,
        holder: String,
        options: &'a Options,
        started: Instant,
    ) -> Result<Self> {
        let objects = shared.objects.until(options.request_deadline(started));
        let object: K = objects.get(&shared.namespace, name)?;
        let hold_ttl = match options.ttl {
            Some(ttl) => ttl,
            None => object.default_ttl()?,
        };
        validate_ttl(hold_ttl)?;
        Ok(Acquisition {
            shared,
            objects,
            name,
            holder,
            options,
            started,
            deadline: options.deadline(started),
            priority: options
                .priority
                .unwrap_or_else(|| object.default_priority()),
            object,
            hold_ttl,
            waiter_ttl: hold_ttl.min(MAX_WAITER_TTL),
            ticket: new_ticket(),
            tickets_kept: true,
            first_write: None,
            last_waiter_write: None,
            append_unsupported: false,
            conflicts: 0,
            follow: None,
        })
    }

    fn try_once(&self) -> bool {
        self.options.timeout == Some(Duration::ZERO)
    }

    fn what(&self) -> String {
        format!(
            "{} {}/{}",
            K::KIND.to_lowercase(),
            self.shared.namespace,
            self.name
        )
    }

    fn run(mut self) -> Result<Granted> {
        let result = match self.step_until_granted() {
            // A request cut off at the deadline: the caller's wait timed out.
            // (A try-once's own Timeout says there was no room; keep it.)
            Err(Error::Timeout { .. }) if !self.try_once() => Err(Error::Timeout {
                what: self.what(),
                waited: self.started.elapsed(),
            }),
            other => other,
        };
        if result.is_err() && self.first_write.is_some() {
            // Leave the queue (or give back a slot granted meanwhile, or by a
            // write whose answer was lost) so that nothing stays held by a
            // caller that gave up.
            self.leave();
        }
        result
    }

    fn step_until_granted(&mut self) -> Result<Granted> {
        loop {
            if let Some(token) = &self.options.cancel {
                if token.is_cancelled() {
                    return Err(Error::Cancelled { what: self.what() });
                }
            }
            let now = Instant::now();
            let slots = self.object.slots();
            // Once we have written, our record may come back without its
            // ticket (a CRD that prunes it, or an older writer rewriting the
            // status, even when our write's answer was lost): from then on,
            // our name is us.
            if self.tickets_kept
                && self.first_write.is_some()
                && ticket_pruned(&slots, &self.holder, &self.ticket)
            {
                self.tickets_kept = false;
            }
            let place = if self.tickets_kept {
                slots.place_of(&self.holder, &self.ticket)
            } else {
                slots.place(&self.holder)
            };
            let ours = self.tickets_kept || self.first_write.is_some();
            match place {
                // Ours: handed over by someone's write, or taken by a write
                // of ours whose answer was lost.
                Place::Holding(token) if ours => {
                    return Ok(Granted {
                        holder: self.holder.clone(),
                        token,
                        ttl: self.hold_ttl,
                        anchor: self.last_waiter_write.or(self.first_write).unwrap_or(now),
                        waited: self.started.elapsed(),
                    })
                }
                // Queued, though the answer to our queueing write was lost.
                Place::Queued(_) if ours => {
                    if self.last_waiter_write.is_none() {
                        self.last_waiter_write = self.first_write;
                    }
                }
                Place::Holding(_) | Place::Queued(_) => return Err(self.already_held()),
                // The name is in use by another acquisition (or an older client).
                Place::Absent if slots.place(&self.holder) != Place::Absent => {
                    return Err(self.already_held())
                }
                Place::Absent => {}
            }

            let (write, next_expiry) = self.plan(&slots, &place, now);
            match write {
                Some(Write::Put(next, plan)) => {
                    let write_started = Instant::now();
                    self.first_write.get_or_insert(write_started);
                    let mut updated = self.object.clone();
                    updated.store(next);
                    match self.objects.write_status(&self.object, &updated) {
                        Ok(written) => {
                            self.object = written;
                            match plan {
                                Plan::Take(token) => {
                                    return Ok(Granted {
                                        holder: self.holder.clone(),
                                        token,
                                        ttl: self.hold_ttl,
                                        anchor: write_started,
                                        waited: self.started.elapsed(),
                                    })
                                }
                                Plan::Queue => self.last_waiter_write = Some(write_started),
                                Plan::Housekeeping => {}
                            }
                        }
                        Err(error) if error.is_conflict() => {
                            self.conflicts += 1;
                            after_lost_race(self.conflicts);
                            self.object = self.objects.get(&self.shared.namespace, self.name)?;
                        }
                        Err(error) => return Err(error),
                    }
                    continue;
                }
                Some(Write::Append(waiter)) => {
                    let write_started = Instant::now();
                    self.first_write.get_or_insert(write_started);
                    let patch = serde_json::json!([{ "op": "add", "path": "/status/waiters/-", "value": waiter }]);
                    match self.objects.patch_status::<K>(
                        &self.shared.namespace,
                        self.name,
                        &patch,
                        Retry::Never,
                    ) {
                        Ok(written) => {
                            self.object = written;
                            self.last_waiter_write = Some(write_started);
                        }
                        // The list vanished meanwhile (status reset): queue with a full write.
                        Err(Error::Api(status)) if status.code == 422 => {
                            self.object = self.objects.get(&self.shared.namespace, self.name)?;
                            self.append_unsupported = true;
                        }
                        // No answer (server overloaded, connection lost): the
                        // append may or may not have happened. Re-read; the
                        // next round sees us queued or appends again, and a
                        // duplicate entry is harmless (see Slots::grant_free).
                        Err(error @ (Error::Transport { .. } | Error::Api(_)))
                            if error.is_retryable() =>
                        {
                            self.conflicts += 1;
                            after_lost_race(self.conflicts);
                            self.object = self.objects.get(&self.shared.namespace, self.name)?;
                            if matches!(
                                self.object.slots().place(&self.holder),
                                Place::Queued(_) | Place::Holding(_)
                            ) {
                                self.last_waiter_write = Some(write_started);
                            }
                        }
                        Err(error) => return Err(error),
                    }
                    continue;
                }
                None => {}
            }

            if self.try_once() {
                return Err(K::busy(self.name, &slots));
            }
            self.wait_for_change(next_expiry)?;
        }
    }

    /// Decides the next write, if any (see [`plan`]).
    fn plan(&self, slots: &Slots, place: &Place, now: Instant) -> (Option<Write>, Option<Instant>) {
        let verdict = observe(
            &self.shared.staleness,
            &self.object,
            slots,
            &self.holder,
            self.hold_ttl,
        );
        let me = Contender {
            holder: &self.holder,
            ticket: &self.ticket,
            priority: self.priority,
            hold_ttl: self.hold_ttl,
            waiter_ttl: self.waiter_ttl,
            last_waiter_write: self.last_waiter_write,
            may_append: !self.append_unsupported && self.object.has_status(),
            try_once: self.try_once(),
        };
        plan(&me, slots, place, &verdict, now, &now_rfc3339())
    }

    /// Blocks until the object changes, a timer is due, the deadline passes or
    /// the caller cancels.
    fn wait_for_change(&mut self, timer: Option<Instant>) -> Result<()> {
        let follow = self.follow.get_or_insert_with(|| {
            Follow::start(self.shared, &self.object, self.options.cancel.as_ref())
        });
        let wake_at = match (timer, self.deadline) {
            (Some(t), Some(d)) => Some(t.min(d)),
            (t, d) => t.or(d),
        };
        for wake in follow.changes(wake_at) {
            match wake {
                Wake::Changed(object) => {
                    if is_newer(
                        &object.metadata().resource_version,
                        &self.object.metadata().resource_version,
                    ) {
                        self.object = object;
                    }
                }
                Wake::Deleted => {
                    return Err(crate::objects::not_found::<K>(
                        &self.shared.namespace,
                        self.name,
                    ))
                }
                Wake::Failed(error) => return Err(error),
                Wake::Cancelled => return Err(Error::Cancelled { what: self.what() }),
            }
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Error::Timeout {
                what: self.what(),
                waited: self.started.elapsed(),
            });
        }
        Ok(())
    }

    fn already_held(&self) -> Error {
        Error::AlreadyHeld {
            kind: K::KIND,
            name: self.name.to_owned(),
            holder: self.holder.clone(),
        }
    }

    /// Removes our waiter entry, or the slot granted to us meanwhile, from a
    /// fresh read (our last answer may have been lost). Bounded by
    /// [`LEAVE_BUDGET`]; what it cannot remove expires on its own.
    fn leave(&mut self) {
        let objects = self
            .shared
            .objects
            .until(Instant::now().checked_add(LEAVE_BUDGET));
        for attempt in 1..=20 {
            let Ok(object) = objects.get::<K>(&self.shared.namespace, self.name) else {
                return;
            };
            let mut slots = object.slots();
            // Our records by ticket; by name when tickets were stripped (a
            // pruning CRD, or an older writer rewriting the status).
            let stripped = ticket_pruned(&slots, &self.holder, &self.ticket);
            let removed = if self.tickets_kept && !stripped {
                slots.withdraw(&self.ticket)
            } else {
                slots.remove(&self.holder, None)
            };
            if !removed {
                return;
            }
            slots.grant_free(&now_rfc3339());
            let mut updated = object.clone();
            updated.store(slots);
            match objects.write_status(&object, &updated) {
                Err(error) if error.is_conflict() => after_lost_race(attempt),
                _ => return,
            }
        }
    }
}

/// True when `slots`, written after our record, hold a record under our name
/// without any ticket and none with ours: the server pruned the field, or an
/// older writer rewrote the status without it.
fn ticket_pruned(slots: &Slots, holder: &str, ticket: &str) -> bool {
    let untagged = |name: &str, t: &str| name == holder && t.is_empty();
    slots.place_of(holder, ticket) == Place::Absent
        && (slots.holders.iter().any(|h| untagged(&h.holder, &h.ticket))
            || slots.waiters.iter().any(|w| untagged(&w.holder, &w.ticket)))
}

/// The contender's side of a planning decision.
struct Contender<'a> {
    holder: &'a str,
    ticket: &'a str,
    priority: i32,
    hold_ttl: Duration,
    waiter_ttl: Duration,
    /// Start of our last successful write of our waiter entry (none: not queued).
    last_waiter_write: Option<Instant>,
    /// An atomic append of our waiter entry can work (the object has a waiter list).
    may_append: bool,
    /// A zero timeout: take a free slot or give up, never queue.
    try_once: bool,
}

/// Decides the next write, if any, from the object's slots, our place in
/// them and which records are stale: evict stale records, take a free slot,
/// queue, settle (hand free slots to the queue) or refresh the waiter entry.
/// Also returns when to look again if nothing changes. Pure: no I/O, no clock.
fn plan(
    me: &Contender,
    slots: &Slots,
    place: &Place,
    verdict: &Verdict,
    now: Instant,
    now_text: &str,
) -> (Option<Write>, Option<Instant>) {
    let mut wake_at = verdict.next_expiry;

    let mut next = slots.clone();
    let mut changed = false;
    // Only the first live waiter in grant order (or, with no live waiter,
    // a newcomer) evicts and settles, so one event does not set off a
    // herd of conflicting writes.
    let order = slots.grant_order();
    let ahead = match place {
        Place::Queued(rank) => &order[..*rank],
        _ => &order[..],
    };
    let live_ahead = ahead.iter().any(|&i| {
        let w = &slots.waiters[i];
        !verdict
            .stale
            .contains(&waiter_key(&w.holder, w.renew_count))
    });
    if !verdict.stale.is_empty() && !live_ahead {
        next.holders.retain(|h| {
            !verdict
                .stale
                .contains(&holder_key(&h.holder, h.token, h.renew_count))
        });
        next.waiters.retain(|w| {
            !verdict
                .stale
                .contains(&waiter_key(&w.holder, w.renew_count))
        });
        changed = true;
    }

    let mut plan = Plan::Housekeeping;
    match place {
        Place::Absent => {
            if next.waiters.is_empty() && next.free() > 0 {
                let token = next.take(
                    me.holder,
                    me.ticket,
                    me.priority,
                    &format_duration(me.hold_ttl),
                    now_text,
                );
                plan = Plan::Take(token);
                changed = true;
            } else if me.try_once {
                // No room: evictions alone are not worth a write.
                return (None, wake_at);
            } else {
                let waiter = WaiterRecord {
                    holder: me.holder.to_owned(),
                    ticket: me.ticket.to_owned(),
                    priority: me.priority,
                    enqueued_at: now_text.to_owned(),
                    renewed_at: now_text.to_owned(),
                    renew_count: 0,
                    ttl: format_duration(me.waiter_ttl),
                    hold_ttl: format_duration(me.hold_ttl),
                };
                if !changed && me.may_append {
                    // Appending never conflicts, so a crowd of newcomers
                    // queues in one request each.
                    return (Some(Write::Append(waiter)), wake_at);
                }
                next.enqueue(waiter);
                plan = Plan::Queue;
                changed = true;
            }
        }
        Place::Queued(_) => {
            let heartbeat_at = me.last_waiter_write.map(|t| t + me.waiter_ttl / 3);
            if heartbeat_at.is_some_and(|at| now >= at) {
                next.heartbeat(me.holder, now_text);
                plan = Plan::Queue;
                changed = true;
            } else if let Some(at) = heartbeat_at {
                wake_at = Some(wake_at.map_or(at, |w| w.min(at)));
            }
            if next.free() > 0 && !live_ahead {
                changed = true;
            }
        }
        Place::Holding(_) => {}
    }
    if changed {
        next.grant_free(now_text);
        (Some(Write::Put(next, plan)), wake_at)
    } else {
        (None, wake_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::HolderRecord;

    const NOW: &str = "2026-12-01T00:00:00Z";

    fn me(holder: &str) -> Contender<'_> {
        Contender {
            holder,
            ticket: "t",
            priority: 0,
            hold_ttl: Duration::from_secs(30),
            waiter_ttl: Duration::from_secs(30),
            last_waiter_write: None,
            may_append: true,
            try_once: false,
        }
    }

    fn holder(name: &str, token: u64) -> HolderRecord {
        HolderRecord {
            holder: name.to_owned(),
            token,
            ttl: "30s".to_owned(),
            ..HolderRecord::default()
        }
    }

    fn waiter(name: &str, priority: i32) -> WaiterRecord {
        WaiterRecord {
            holder: name.to_owned(),
            priority,
            ttl: "30s".to_owned(),
            hold_ttl: "30s".to_owned(),
            ..WaiterRecord::default()
        }
    }

    fn slots(capacity: u32, holders: &[&str], waiters: &[&str]) -> Slots {
        Slots {
            capacity,
            holders: holders
                .iter()
                .enumerate()
                .map(|(i, h)| holder(h, i as u64 + 1))
                .collect(),
            waiters: waiters.iter().map(|w| waiter(w, 0)).collect(),
            fencing: holders.len() as u64,
        }
    }

    fn fresh() -> Verdict {
        Verdict {
            stale: Vec::new(),
            next_expiry: None,
        }
    }

    fn stale(keys: &[String]) -> Verdict {
        Verdict {
            stale: keys.to_vec(),
            next_expiry: None,
        }
    }

    fn decide(me: &Contender, slots: &Slots, verdict: &Verdict) -> Option<Write> {
        let place = slots.place(me.holder);
        plan(me, slots, &place, verdict, Instant::now(), NOW).0
    }

    #[test]
    fn a_newcomer_takes_a_free_slot_with_the_next_fencing_token() {
        let before = slots(2, &["a"], &[]);
        match decide(&me("b"), &before, &fresh()) {
            Some(Write::Put(after, Plan::Take(token))) => {
                assert_eq!(token, 2);
                assert_eq!(after.fencing, 2);
                assert_eq!(after.holders.len(), 2);
            }
            other => panic!("expected to take the free slot, got {other:?}"),
        }
    }

    #[test]
    fn a_newcomer_never_jumps_the_queue_and_appends_itself() {
        let before = slots(2, &["a"], &["w"]);
        match decide(&me("b"), &before, &fresh()) {
            Some(Write::Append(entry)) => {
                assert_eq!(entry.holder, "b");
                assert_eq!(entry.hold_ttl, "30s");
            }
            other => panic!("expected an append behind the queue, got {other:?}"),
        }
    }

    #[test]
    fn without_an_appendable_list_the_newcomer_queues_with_a_guarded_write() {
        let before = slots(1, &["a"], &[]);
        let mut b = me("b");
        b.may_append = false;
        match decide(&b, &before, &fresh()) {
            Some(Write::Put(after, Plan::Queue)) => {
                assert_eq!(after.holders, before.holders);
                assert_eq!(after.waiters.len(), 1);
            }
            other => panic!("expected a guarded enqueue, got {other:?}"),
        }
    }

    #[test]
    fn try_once_without_room_writes_nothing_even_with_stale_records() {
        let before = slots(1, &["a"], &["w"]);
        let mut b = me("b");
        b.try_once = true;
        let verdict = stale(&[waiter_key("w", 0)]);
        assert!(decide(&b, &before, &verdict).is_none());
    }

    #[test]
    fn a_stale_holder_is_evicted_and_its_slot_taken() {
        let before = slots(1, &["dead"], &[]);
        let verdict = stale(&[holder_key("dead", 1, 0)]);
        match decide(&me("b"), &before, &verdict) {
            Some(Write::Put(after, Plan::Take(2))) => {
                assert_eq!(after.holders.len(), 1);
                assert_eq!(after.holders[0].holder, "b");
            }
            other => panic!("expected eviction and take with token 2, got {other:?}"),
        }
    }

    #[test]
    fn only_the_head_of_the_queue_settles_a_free_slot() {
        // A slot is free (capacity 2, one holder) but the queue has not been
        // settled yet: the head hands it over, the one behind stays quiet.
        let before = slots(2, &["a"], &["head", "second"]);
        let mut second = me("second");
        second.last_waiter_write = Some(Instant::now());
        assert!(
            decide(&second, &before, &fresh()).is_none(),
            "a waiter behind a live head must not write"
        );
        let mut head = me("head");
        head.last_waiter_write = Some(Instant::now());
        match decide(&head, &before, &fresh()) {
            Some(Write::Put(after, Plan::Housekeeping)) => {
                assert!(after.holders.iter().any(|h| h.holder == "head"));
                assert_eq!(after.waiters.len(), 1);
            }
            other => panic!("expected the head to settle, got {other:?}"),
        }
    }

    #[test]
    fn a_queued_waiter_heartbeats_only_when_due_and_says_when() {
        let before = slots(1, &["a"], &["b"]);
        let written = Instant::now();
        let mut b = me("b");
        b.last_waiter_write = Some(written);
        let place = before.place("b");
        let (write, wake_at) = plan(&b, &before, &place, &fresh(), written, NOW);
        assert!(write.is_none(), "no heartbeat before a third of the TTL");
        assert_eq!(wake_at, Some(written + Duration::from_secs(10)));
        let later = written + Duration::from_secs(11);
        match plan(&b, &before, &place, &fresh(), later, NOW) {
            (Some(Write::Put(after, Plan::Queue)), _) => {
                assert_eq!(after.waiters[0].renew_count, 1);
            }
            other => panic!("expected a heartbeat, got {:?}", other.0),
        }
    }

    #[test]
    fn a_server_that_prunes_tickets_is_noticed() {
        let mut kept = slots(1, &["a"], &[]);
        kept.waiters.push(WaiterRecord {
            ticket: "t".to_owned(),
            ..waiter("b", 0)
        });
        assert!(!ticket_pruned(&kept, "b", "t"), "our ticket came back");
        let pruned = slots(1, &["a"], &["b"]);
        assert!(
            ticket_pruned(&pruned, "b", "t"),
            "our name came back without it"
        );
        let other = slots(1, &["a"], &[]);
        assert!(!ticket_pruned(&other, "b", "t"), "no record of ours at all");
    }
}
