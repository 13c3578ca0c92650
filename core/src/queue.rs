//! The queue of one semaphore or lease, as this client sees it.
//!
//! Each queued acquisition is a small [`Waiter`] object labelled with the
//! uid of the object it waits for. One watch per queue per client keeps a
//! local copy of all of them, and notes when it first saw each version of
//! each waiter: a waiter whose heartbeat this process has not seen change for
//! longer than its TTL is stale, by this process's own clock, as holders are.
//! Order: higher priority first, then arrival (creation resourceVersion).
//!
//! Waiting threads ask how many live waiters are ahead of them; a releaser
//! asks for the heads of the queue to hand its slot to. Both are local reads:
//! however long the queue, a grant costs the API server O(1) requests. The
//! watch lives while someone uses the queue and for [`LINGER`] after, so a
//! process that keeps acquiring keeps its view.

use std::any::Any;
use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::client::Shared;
use crate::duration::server_ttl;
use crate::error::{Error, Result};
use crate::resource::{LockMode, Resource, Waiter, TARGET_UID_LABEL};
use crate::slots::{Candidate, Slots};
use crate::staleness::margin;
use crate::watch::{Sink, Watcher};

/// Longest time a waiter entry lives without a heartbeat, whatever it claims.
pub const MAX_WAITER_TTL: Duration = Duration::from_secs(60);

/// How long a queue's watch outlives its last user.
const LINGER: Duration = Duration::from_secs(60);

/// One waiter as seen here.
struct Entry {
    waiter: Waiter,
    /// Its place in grant order (priority, arrival), read once.
    rank: (Reverse<i32>, u64),
    /// When this version of it was first seen.
    seen: Instant,
    /// Its claimed liveness TTL, capped.
    ttl: Duration,
}

impl Entry {
    fn order(&self) -> (Reverse<i32>, u64, &str) {
        (self.rank.0, self.rank.1, self.waiter.metadata.name.as_str())
    }

    fn expiry(&self) -> Instant {
        self.seen + self.ttl + margin(self.ttl)
    }
}

/// Grant order: higher priority first, then arrival, then name.
pub(crate) fn order_of(waiter: &Waiter) -> (Reverse<i32>, u64, &str) {
    (
        Reverse(waiter.spec.priority),
        waiter.sequence(),
        waiter.metadata.name.as_str(),
    )
}

#[derive(Default)]
struct State {
    entries: HashMap<String, Entry>,
    /// True once the first list arrived.
    synced: bool,
    /// Why the watch stopped for good (e.g. forbidden).
    failure: Option<String>,
    /// Called when someone joins or leaves the queue; false = remove.
    listeners: Vec<(u64, Box<dyn Fn() -> bool + Send>)>,
    users: usize,
    idle_since: Option<Instant>,
}

/// One queue's watch and the copy it keeps.
struct Hub {
    state: Mutex<State>,
    synced: Condvar,
    stop: AtomicBool,
    next_id: AtomicU64,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notify(state: &mut State) {
        state.listeners.retain(|(_, listener)| listener());
    }

    /// False once the queue has been unused for longer than [`LINGER`].
    fn wanted(&self, state: &State) -> bool {
        state.users > 0
            || state
                .idle_since
                .map_or(true, |idle| idle.elapsed() < LINGER)
    }

    fn insert(state: &mut State, waiter: Waiter, now: Instant) -> bool {
        let name = waiter.metadata.name.clone();
        let ttl = server_ttl(&waiter.spec.ttl, MAX_WAITER_TTL).min(MAX_WAITER_TTL);
        let seen = match state.entries.get(&name) {
            Some(known)
                if known.waiter.metadata.resource_version == waiter.metadata.resource_version =>
            {
                known.seen
            }
            _ => now,
        };
        let rank = (Reverse(waiter.spec.priority), waiter.sequence());
        state
            .entries
            .insert(
                name,
                Entry {
                    waiter,
                    rank,
                    seen,
                    ttl,
                },
            )
            .is_none()
    }
}

impl Sink<Waiter> for Hub {
    fn changed(&self, waiter: Waiter) -> bool {
        let mut state = self.lock();
        if Hub::insert(&mut state, waiter, Instant::now()) {
            Hub::notify(&mut state);
        }
        self.wanted(&state)
    }

    fn deleted(&self, waiter: Option<Waiter>) -> bool {
        let mut state = self.lock();
        if let Some(waiter) = waiter {
            if state.entries.remove(&waiter.metadata.name).is_some() {
                Hub::notify(&mut state);
            }
        }
        self.wanted(&state)
    }

    fn relisted(&self, waiters: Vec<Waiter>) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        let names: HashSet<&str> = waiters.iter().map(|w| w.metadata.name.as_str()).collect();
        state
            .entries
            .retain(|name, _| names.contains(name.as_str()));
        for waiter in waiters {
            Hub::insert(&mut state, waiter, now);
        }
        state.synced = true;
        Hub::notify(&mut state);
        self.synced.notify_all();
        self.wanted(&state)
    }

    fn failed(&self, error: Error) -> bool {
        let mut state = self.lock();
        state.failure = Some(error.to_string());
        Hub::notify(&mut state);
        self.synced.notify_all();
        self.wanted(&state)
    }

    fn stopped(&self) -> bool {
        if self.stop.load(Ordering::SeqCst) {
            return true;
        }
        let state = self.lock();
        if self.wanted(&state) {
            return false;
        }
        drop(state);
        self.stop.store(true, Ordering::SeqCst);
        true
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.synced.notify_all();
    }
}

/// The label selector of the waiters of the object with `uid`, escaped.
pub(crate) fn selector_of(uid: &str) -> String {
    format!(
        "labelSelector={}%3D{uid}",
        TARGET_UID_LABEL.replace('/', "%2F")
    )
}

/// A live waiter that could be handed a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub holder: String,
    pub ticket: String,
    pub priority: i32,
    pub ttl: String,
    pub heartbeat: u64,
    pub mode: Option<LockMode>,
}

impl Head {
    pub(crate) fn candidate(&self) -> Candidate<'_> {
        Candidate {
            holder: &self.holder,
            ticket: &self.ticket,
            priority: self.priority,
            ttl: &self.ttl,
            heartbeat: self.heartbeat,
            mode: self.mode,
        }
    }
}

/// Where one acquisition stands in the queue.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Standing {
    /// Live waiters ahead of it that hold nothing yet.
    pub ahead: usize,
    /// When the next of those turns stale, if it stays unchanged.
    pub next_expiry: Option<Instant>,
    /// Stale waiters (name, resourceVersion) anyone may delete.
    pub stale: Vec<(String, String)>,
}

/// A use of one queue's shared view; the watch lives while any exists (and
/// for [`LINGER`] after).
pub(crate) struct Queue {
    hub: Arc<Hub>,
}

impl Queue {
    fn hub_key(uid: &str) -> String {
        format!("{}/{uid}", Waiter::PLURAL)
    }

    /// Joins the view of the queue of the object with `uid`, starting its watch if needed.
    pub(crate) fn join(shared: &Shared, uid: &str) -> Queue {
        let key = Queue::hub_key(uid);
        let mut hubs = shared.hubs.lock();
        let existing = hubs
            .get(&key)
            .and_then(|hub| Arc::clone(hub).downcast::<Hub>().ok())
            .filter(|hub| !hub.stop.load(Ordering::SeqCst));
        let hub = match existing {
            Some(hub) => hub,
            None => {
                let hub = Arc::new(Hub {
                    state: Mutex::new(State::default()),
                    synced: Condvar::new(),
                    stop: AtomicBool::new(false),
                    next_id: AtomicU64::new(0),
                });
                hubs.insert(key, hub.clone() as Arc<dyn Any + Send + Sync>);
                Watcher {
                    objects: shared.objects.clone(),
                    namespace: shared.namespace.clone(),
                    selector: selector_of(uid),
                    resource_version: String::new(),
                    sink: hub.clone(),
                    kind: std::marker::PhantomData,
                }
                .spawn(&format!("queue-{uid}"));
                hub
            }
        };
        hub.lock().users += 1;
        Queue { hub }
    }

    /// The view of the queue of the object with `uid`, when this client
    /// follows it already (a releaser hands its slot over only then).
    pub(crate) fn find(shared: &Shared, uid: &str) -> Option<Queue> {
        let hubs = shared.hubs.lock();
        let hub = hubs
            .get(&Queue::hub_key(uid))
            .and_then(|hub| Arc::clone(hub).downcast::<Hub>().ok())
            .filter(|hub| !hub.stop.load(Ordering::SeqCst))?;
        let mut state = hub.lock();
        if !state.synced {
            return None;
        }
        state.users += 1;
        drop(state);
        Some(Queue { hub })
    }

    /// Waits until the view holds the whole queue (its first list), or
    /// `deadline`, or `cancel`.
    pub(crate) fn synced(
        &self,
        deadline: Option<Instant>,
        cancel: Option<&crate::cancel::CancelToken>,
    ) -> Result<()> {
        let mut state = self.hub.lock();
        loop {
            if cancel.is_some_and(|c| c.is_cancelled()) {
                return Err(Error::Cancelled {
                    what: "waiting for the queue's first list".to_owned(),
                });
            }
            if let Some(failure) = &state.failure {
                return Err(Error::Api(Box::new(crate::error::ApiStatus {
                    message: format!("cannot follow the queue: {failure}"),
                    ..Default::default()
                })));
            }
            if state.synced {
                return Ok(());
            }
            if self.hub.stop.load(Ordering::SeqCst) {
                return Err(Error::Api(Box::new(crate::error::ApiStatus {
                    message: "the queue's watch stopped before its first list".to_owned(),
                    ..Default::default()
                })));
            }
            let wait = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(1),
            };
            if wait.is_zero() {
                return Err(Error::Timeout {
                    what: "the queue's first list".to_owned(),
                    waited: Duration::ZERO,
                });
            }
            state = self
                .hub
                .synced
                .wait_timeout(state, wait.min(Duration::from_secs(1)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Calls `listener` whenever a waiter joins or leaves, until it returns
    /// false or [`Queue::unlisten`]; returns its id.
    pub(crate) fn listen(&self, listener: Box<dyn Fn() -> bool + Send>) -> u64 {
        let id = self.hub.next_id.fetch_add(1, Ordering::Relaxed);
        self.hub.lock().listeners.push((id, listener));
        id
    }

    /// Adds the waiter `waiter` to this view at once (its own process
    /// created it; the watch will confirm), so that a later newcomer of this
    /// process never overtakes it.
    pub(crate) fn note(&self, waiter: Waiter) {
        let mut state = self.hub.lock();
        if Hub::insert(&mut state, waiter, Instant::now()) {
            Hub::notify(&mut state);
        }
    }

    /// Drops the waiter `name` from this view at once (its own process
    /// deleted it; the watch will confirm).
    pub(crate) fn forget(&self, name: &str) {
        let mut state = self.hub.lock();
        if state.entries.remove(name).is_some() {
            Hub::notify(&mut state);
        }
    }

    /// Stops calling the listener `id`.
    pub(crate) fn unlisten(&self, id: u64) {
        self.hub.lock().listeners.retain(|(i, _)| *i != id);
    }

    /// Where the waiter `me` stands at `now`, given the current holders
    /// (a waiter that holds a slot already, or has finished, is not ahead
    /// of anyone).
    pub(crate) fn standing(&self, me: &Waiter, slots: &Slots, now: Instant) -> Standing {
        let state = self.hub.lock();
        let mine = order_of(me);
        let mut standing = Standing::default();
        for entry in state.entries.values() {
            if entry.waiter.spec.ticket == me.spec.ticket {
                continue;
            }
            let expiry = entry.expiry();
            if now >= expiry {
                standing.stale.push((
                    entry.waiter.metadata.name.clone(),
                    entry.waiter.metadata.resource_version.clone(),
                ));
                continue;
            }
            if entry.order() < mine && !slots.served(&entry.waiter.spec.ticket) {
                standing.ahead += 1;
                standing.next_expiry = Some(standing.next_expiry.map_or(expiry, |e| e.min(expiry)));
            }
        }
        standing
    }

    /// Where an acquisition that has not queued stands at `now`: behind
    /// every live waiter that holds nothing yet.
    pub(crate) fn newcomer(&self, slots: &Slots, now: Instant) -> Standing {
        let state = self.hub.lock();
        let mut standing = Standing::default();
        for entry in state.entries.values() {
            let expiry = entry.expiry();
            if now >= expiry {
                standing.stale.push((
                    entry.waiter.metadata.name.clone(),
                    entry.waiter.metadata.resource_version.clone(),
                ));
            } else if !slots.served(&entry.waiter.spec.ticket) {
                standing.ahead += 1;
                standing.next_expiry = Some(standing.next_expiry.map_or(expiry, |e| e.min(expiry)));
            }
        }
        standing
    }

    /// Up to `limit` waiters this view has not heard from for longer than
    /// their TTL (name, resourceVersion): anyone may delete them.
    pub(crate) fn stale(&self, now: Instant, limit: usize) -> Vec<(String, String)> {
        let state = self.hub.lock();
        state
            .entries
            .values()
            .filter(|e| now >= e.expiry())
            .take(limit)
            .map(|e| {
                (
                    e.waiter.metadata.name.clone(),
                    e.waiter.metadata.resource_version.clone(),
                )
            })
            .collect()
    }

    /// The first `count` live waiters that hold nothing and have not
    /// finished, in grant order.
    pub(crate) fn heads(&self, count: usize, slots: &Slots, now: Instant) -> Vec<Head> {
        if count == 0 {
            return Vec::new();
        }
        let state = self.hub.lock();
        let mut live: Vec<&Entry> = state
            .entries
            .values()
            .filter(|e| now < e.expiry() && !slots.served(&e.waiter.spec.ticket))
            .collect();
        if live.len() > count {
            live.select_nth_unstable_by(count - 1, |a, b| a.order().cmp(&b.order()));
            live.truncate(count);
        }
        live.sort_by(|a, b| a.order().cmp(&b.order()));
        live.iter()
            .map(|e| Head {
                holder: e.waiter.spec.holder.clone(),
                ticket: e.waiter.spec.ticket.clone(),
                priority: e.waiter.spec.priority,
                ttl: e.waiter.spec.ttl.clone(),
                heartbeat: e.waiter.spec.renew_count,
                mode: e.waiter.spec.mode,
            })
            .collect()
    }
}

impl Clone for Queue {
    fn clone(&self) -> Queue {
        self.hub.lock().users += 1;
        Queue {
            hub: self.hub.clone(),
        }
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        let mut state = self.hub.lock();
        state.users = state.users.saturating_sub(1);
        if state.users == 0 {
            state.idle_since = Some(Instant::now());
        }
    }
}

/// Hands the free slots of `slots` to the heads of `queue`, skipping
/// acquisitions this client abandoned. Returns how many.
pub(crate) fn hand_off(
    slots: &mut Slots,
    queue: &Queue,
    abandoned: &Abandoned,
    now: Instant,
    now_text: &str,
) -> usize {
    // A few more than the free slots, in case some were abandoned; past
    // those, the heads of the queue take the slots themselves.
    let heads = queue.heads(slots.free() + 8, slots, now);
    let mut handed = 0;
    for head in heads.iter().filter(|h| !abandoned.contains(&h.ticket)) {
        if slots.hand_to(&head.candidate(), now_text) {
            handed += 1;
        } else if head.mode.is_some() {
            // An RWMutex is strict FIFO: nobody overtakes a waiter that
            // cannot be granted yet (readers stop at a writer).
            break;
        }
    }
    handed
}

/// The tickets of the acquisitions this client gave up while queued (most
/// recent [`ABANDONED`]). Another process's view of the queue may still hand
/// one a slot for a moment; this client then never hands them one, and an
/// acquisition of its own that finds such a grant under its holder name
/// removes it instead of reporting the name as held.
#[derive(Default)]
pub(crate) struct Abandoned {
    tickets: Mutex<std::collections::VecDeque<String>>,
}

/// How many abandoned tickets a client remembers.
const ABANDONED: usize = 256;

impl Abandoned {
    pub(crate) fn add(&self, ticket: &str) {
        let mut tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        tickets.push_back(ticket.to_owned());
        if tickets.len() > ABANDONED {
            tickets.pop_front();
        }
    }

    pub(crate) fn contains(&self, ticket: &str) -> bool {
        let tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        tickets.iter().any(|t| t == ticket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::WaiterSpec;

    fn waiter(name: &str, priority: i32, created_at: &str) -> Waiter {
        let mut w = Waiter::new(
            name,
            WaiterSpec {
                holder: format!("holder-{name}"),
                ticket: name.to_owned(),
                priority,
                ttl: "10s".to_owned(),
                hold_ttl: "1m0s".to_owned(),
                ..WaiterSpec::default()
            },
        );
        w.metadata.resource_version = created_at.to_owned();
        w
    }

    fn queue(waiters: Vec<Waiter>) -> Queue {
        let hub = Arc::new(Hub {
            state: Mutex::new(State::default()),
            synced: Condvar::new(),
            stop: AtomicBool::new(false),
            next_id: AtomicU64::new(0),
        });
        hub.relisted(waiters);
        hub.lock().users += 1;
        Queue { hub }
    }

    fn slots() -> Slots {
        Slots {
            capacity: 1,
            ..Slots::default()
        }
    }

    #[test]
    fn grant_order_is_priority_then_creation_version() {
        let q = queue(vec![
            waiter("a", 0, "10"),
            waiter("b", 5, "30"),
            waiter("c", 0, "20"),
            waiter("d", 5, "40"),
        ]);
        let now = Instant::now();
        let heads: Vec<String> = q
            .heads(4, &slots(), now)
            .into_iter()
            .map(|h| h.ticket)
            .collect();
        assert_eq!(heads, ["b", "d", "a", "c"]);
        let me = waiter("me", 0, "15");
        assert_eq!(q.standing(&me, &slots(), now).ahead, 3, "b, d and a");
        let first: Vec<String> = q
            .heads(1, &slots(), now)
            .into_iter()
            .map(|h| h.ticket)
            .collect();
        assert_eq!(first, ["b"]);
    }

    #[test]
    fn served_and_stale_waiters_are_not_ahead_and_get_nothing() {
        let q = queue(vec![
            waiter("a", 0, "10"),
            waiter("b", 0, "20"),
            waiter("c", 0, "30"),
        ]);
        let mut s = slots();
        s.take("holder-a", "a", 0, "1m0s", "t", None);
        s.finished.push("b".to_owned());
        let now = Instant::now();
        let me = waiter("me", 0, "99");
        assert_eq!(q.standing(&me, &s, now).ahead, 1, "only c waits");
        assert_eq!(q.heads(2, &s, now).len(), 1);
        let later = now + Duration::from_secs(11);
        let standing = q.standing(&me, &s, later);
        assert_eq!(
            standing.ahead, 0,
            "unheard of for longer than its TTL: stale"
        );
        assert_eq!(standing.stale.len(), 3);
        assert!(q.heads(1, &s, later).is_empty());
    }

    #[test]
    fn a_heartbeat_restarts_the_clock_and_its_sequence_keeps_the_place() {
        let q = queue(vec![waiter("a", 0, "10"), waiter("b", 0, "20")]);
        let start = Instant::now();
        let mut beat = waiter("b", 0, "50");
        beat.spec.renew_count = 1;
        beat.spec.sequence = Some("20".to_owned());
        std::thread::sleep(Duration::from_millis(300));
        q.hub.changed(beat);
        let me = waiter("me", 0, "30");
        let later = start + Duration::from_millis(10_300);
        let standing = q.standing(&me, &slots(), later);
        assert_eq!(standing.stale, [("a".to_owned(), "10".to_owned())]);
        assert_eq!(
            standing.ahead, 1,
            "b still counts, and still before me (20 < 30)"
        );
        q.forget("b");
        assert_eq!(
            q.standing(&me, &slots(), start).ahead,
            1,
            "a is ahead, b is gone"
        );
    }

    #[test]
    fn a_hand_off_skips_abandoned_acquisitions_and_fills_only_free_slots() {
        let q = queue(vec![
            waiter("a", 0, "10"),
            waiter("b", 0, "20"),
            waiter("c", 0, "30"),
        ]);
        let abandoned = Abandoned::default();
        abandoned.add("a");
        let mut s = slots();
        s.capacity = 2;
        assert_eq!(hand_off(&mut s, &q, &abandoned, Instant::now(), "t"), 2);
        let granted: Vec<&str> = s.holders.iter().map(|h| h.ticket.as_str()).collect();
        assert_eq!(granted, ["b", "c"]);
        assert_eq!(
            hand_off(&mut s, &q, &abandoned, Instant::now(), "t"),
            0,
            "no slot left"
        );
    }

    fn wanting(name: &str, created_at: &str, mode: LockMode) -> Waiter {
        let mut w = waiter(name, 0, created_at);
        w.spec.mode = Some(mode);
        w
    }

    fn granted(s: &Slots) -> Vec<&str> {
        s.holders.iter().map(|h| h.ticket.as_str()).collect()
    }

    #[test]
    fn an_rwmutex_hand_off_grants_the_readers_at_the_head_together_and_stops_at_a_writer() {
        let q = queue(vec![
            wanting("r1", "10", LockMode::Read),
            wanting("r2", "20", LockMode::Read),
            wanting("w", "30", LockMode::Write),
            wanting("r3", "40", LockMode::Read),
        ]);
        let abandoned = Abandoned::default();
        let mut s = slots();
        s.capacity = 10;
        assert_eq!(hand_off(&mut s, &q, &abandoned, Instant::now(), "t"), 2);
        assert_eq!(granted(&s), ["r1", "r2"], "r3 must not overtake the writer");
        assert!(s.withdraw("r1"));
        assert_eq!(
            hand_off(&mut s, &q, &abandoned, Instant::now(), "t"),
            0,
            "the writer waits for r2, and r3 waits behind the writer"
        );
        assert!(s.withdraw("r2"));
        assert_eq!(hand_off(&mut s, &q, &abandoned, Instant::now(), "t"), 1);
        assert_eq!(granted(&s), ["w"]);
        assert!(s.write_held());
        let token = s.holders[0].token;
        assert!(s.withdraw("w"));
        assert_eq!(hand_off(&mut s, &q, &abandoned, Instant::now(), "t"), 1);
        assert_eq!(granted(&s), ["r3"]);
        assert!(s.holders[0].token > token, "tokens strictly increase");
    }

    #[test]
    fn a_newcomer_stands_behind_every_live_waiter_that_holds_nothing() {
        let q = queue(vec![
            wanting("r1", "10", LockMode::Read),
            wanting("w", "20", LockMode::Write),
        ]);
        let mut s = slots();
        s.capacity = 10;
        let now = Instant::now();
        assert_eq!(q.newcomer(&s, now).ahead, 2);
        s.take("holder-r1", "r1", 0, "1m0s", "t", Some(LockMode::Read));
        assert_eq!(q.newcomer(&s, now).ahead, 1, "the writer still waits");
        let later = now + Duration::from_secs(11);
        let standing = q.newcomer(&s, later);
        assert_eq!((standing.ahead, standing.stale.len()), (0, 2));
    }
}
