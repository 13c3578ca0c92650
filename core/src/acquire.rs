//! The acquire protocol shared by semaphores and leases.
//!
//! The contended object holds only its holders and a fencing counter, and
//! every change to it is one guarded write, so etcd orders all grants and "at
//! most `capacity` holders" holds whoever writes. A caller that finds a free
//! slot takes it in one write. Otherwise it queues as a small [`Waiter`]
//! object of its own, heartbeats that object (never the contended one) and
//! follows the contended object through a watch. A release hands the slot to
//! the head of the queue in the same write (when the releasing process
//! follows the queue); otherwise the head takes it itself. Holders whose
//! owner stopped renewing are evicted by the head of the queue once this
//! process has seen them unchanged for their TTL.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backoff::after_lost_race;
use crate::client::Shared;
use crate::duration::{format_duration, server_ttl};
use crate::error::{Argument, Error, Result};
use crate::held::give_back;
use crate::names::{validate_holder, validate_name};
use crate::objects::Objects;
use crate::observer::Event;
use crate::options::{default_holder, Options, MAX_TTL};
use crate::queue::{Queue, Standing, MAX_WAITER_TTL};
use crate::resource::{
    LockMode, ObjectMeta, Resource, Waiter, WaiterSpec, WaiterTarget, API_VERSION, TARGET_UID_LABEL,
};
use crate::slots::{Place, Slots};
use crate::staleness::{Observed, Staleness, Verdict};
use crate::time::now_rfc3339;
use crate::watch::{is_newer, Follow, Memo, Wake};

/// How long a caller that gave up may spend removing its records.
const LEAVE_BUDGET: Duration = Duration::from_secs(10);

/// At most this many stale waiter objects are deleted per look at the queue.
const STALE_DELETES: usize = 8;

/// How soon a waiter looks again when a slot is free but not yet its turn
/// (a local check: the waiters ahead may have left or died meanwhile).
const RECHECK: Duration = Duration::from_millis(100);

/// A new acquisition identity: 64 random bits (std's per-process random
/// hash keys, mixed with a counter, the time and the process id).
pub(crate) fn new_ticket() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::AtomicU64;
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
    /// The view of the queue, when we waited in it: kept while holding, so
    /// that the release can hand the slot to the next waiter.
    pub queue: Option<Queue>,
}

/// The staleness key of a holder record; it changes on every renewal.
pub fn holder_key(holder: &str, token: u64, renew_count: u64) -> String {
    format!("h/{holder}/{token}/{renew_count}")
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

/// Notes the holders of `object` in this client's staleness tracker and says
/// which are stale.
pub(crate) fn observe<K: Resource>(
    staleness: &Staleness,
    object: &K,
    slots: &Slots,
    default_ttl: Duration,
) -> Verdict {
    let observed = observed_records(slots, default_ttl);
    staleness.observe(&object.key(), &observed, Instant::now())
}

/// The holder records of `slots` whose staleness an observer tracks, each
/// with the TTL it claims as read from the server, capped at [`MAX_TTL`]
/// (`default_ttl` when unreadable), so that no record can block a slot for longer.
pub fn observed_records(slots: &Slots, default_ttl: Duration) -> Vec<Observed> {
    slots
        .holders
        .iter()
        .map(|h| Observed {
            key: holder_key(&h.holder, h.token, h.renew_count),
            ttl: server_ttl(&h.ttl, default_ttl),
        })
        .collect()
}

/// Acquires a slot of `name` in `mode` (an RWMutex's read or write lock;
/// none for the other kinds), waiting as `options` allow.
pub(crate) fn acquire_in<K: Slotted>(
    shared: &Shared,
    name: &str,
    options: &Options,
    mode: Option<LockMode>,
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
    let result = Acquisition::<K>::new(shared, name, holder.clone(), options, started)
        .and_then(|a| a.run_in(mode));
    if let Some(observer) = &options.observer {
        observer.waited(&event, started.elapsed());
        match &result {
            Ok(granted) => observer.acquired(&event, granted.waited),
            Err(error) => observer.error(&event, error),
        }
    }
    result
}

/// Our place in the queue: our waiter object as created, and the start of
/// each write of it (by heartbeat count), since a hand-off names the
/// heartbeat its granter saw.
struct Queued {
    waiter: Waiter,
    writes: Vec<Instant>,
    /// Start of the earliest heartbeat attempt whose outcome is unknown.
    unconfirmed: Option<Instant>,
    queue: Queue,
    listener: u64,
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
    /// True while `object` is a remembered copy not yet confirmed by the
    /// server: a write from it is fine (guarded), a verdict is not.
    from_cache: bool,
    hold_ttl: Duration,
    waiter_ttl: Duration,
    priority: i32,
    /// This acquisition's identity in the records it writes.
    ticket: String,
    /// Start of our first write: the earliest moment a grant to us (whose
    /// answer may have been lost) could have been seen by anyone.
    first_write: Option<Instant>,
    /// Start of the earliest take whose answer was lost (it may have landed).
    unanswered_take: Option<Instant>,
    queued: Option<Queued>,
    /// Set while a slot is free but not ours yet: then queue changes wake us.
    interested: Arc<AtomicBool>,
    /// When we next look anyway: a version with a holder expiring sooner
    /// wakes us.
    planned_wake: Arc<std::sync::Mutex<Option<Instant>>>,
    /// Writes that lost a race so far, for back-off.
    conflicts: u32,
    follow: Option<Follow<K>>,
    /// The lock mode wanted (RWMutex only).
    mode: Option<LockMode>,
    /// The queue's view before we queue (RWMutex only: a newcomer never
    /// overtakes a waiter).
    view: Option<Queue>,
}

/// What a planned status write is for.
#[derive(Debug, PartialEq)]
enum Plan {
    Take(u64),
    Evict,
}

/// The next step, decided from the object, the queue and the clock.
#[derive(Debug, PartialEq)]
enum Step {
    /// A guarded write of the status.
    Write(Slots, Plan),
    /// Create our waiter object.
    Enqueue,
    /// No room, and the caller does not wait.
    Busy,
    /// Wait for a change, or until this time.
    Wait(Option<Instant>),
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
        let (object, from_cache) = match shared.latest.get::<K>(&shared.namespace, name) {
            Some(object) => (object, true),
            None => (objects.get::<K>(&shared.namespace, name)?, false),
        };
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
            from_cache,
            hold_ttl,
            waiter_ttl: hold_ttl.min(MAX_WAITER_TTL),
            ticket: new_ticket(),
            first_write: None,
            unanswered_take: None,
            queued: None,
            interested: Arc::new(AtomicBool::new(false)),
            planned_wake: Arc::default(),
            conflicts: 0,
            follow: None,
            mode: None,
            view: None,
        })
    }

    /// [`Error::Cancelled`] once the caller's cancel token has fired.
    fn check_cancelled(&self) -> Result<()> {
        match &self.options.cancel {
            Some(token) if token.is_cancelled() => Err(Error::Cancelled { what: self.what() }),
            _ => Ok(()),
        }
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

    fn run_in(mut self, mode: Option<LockMode>) -> Result<Granted> {
        self.mode = mode;
        let result = match self.step_until_granted() {
            // A request cut off at the deadline: the caller's wait timed out.
            // (A try-once's own Timeout says there was no room; keep it.)
            Err(Error::Timeout { .. }) if !self.try_once() => Err(Error::Timeout {
                what: self.what(),
                waited: self.started.elapsed(),
            }),
            other => other,
        };
        if let Some(queued) = &self.queued {
            queued.queue.unlisten(queued.listener);
        }
        match result {
            Ok(granted) => Ok(granted),
            Err(error) => {
                if self.first_write.is_some() {
                    // Leave the queue (or give back a slot granted meanwhile,
                    // or by a write whose answer was lost) so that nothing
                    // stays held by a caller that gave up.
                    self.leave();
                }
                Err(error)
            }
        }
    }

    /// Re-reads the object after a failed guard.
    fn reread(&mut self) -> Result<()> {
        self.shared
            .latest
            .forget::<K>(&self.shared.namespace, self.name);
        self.object = self.objects.get(&self.shared.namespace, self.name)?;
        self.from_cache = false;
        self.shared.latest.put(&self.object);
        Ok(())
    }

    fn step_until_granted(&mut self) -> Result<Granted> {
        loop {
            self.check_cancelled()?;
            let mut slots = self.object.slots();
            // A grant handed to an acquisition of ours that gave up (by a
            // view of the queue that had not seen it leave) is ours to
            // remove: in the write we make next, if any.
            let orphans: Vec<String> = slots
                .holders
                .iter()
                .filter(|h| self.shared.abandoned.contains(&h.ticket))
                .map(|h| h.ticket.clone())
                .collect();
            for orphan in &orphans {
                slots.withdraw(orphan);
            }
            match slots.place_of(&self.holder, &self.ticket) {
                // Ours: handed over by someone's write, or taken by a write
                // of ours whose answer was lost.
                Place::Holding(token) => return self.adopt(&slots, token),
                // At the start, the name holds a slot under another
                // acquisition (unless our copy is out of date). Once queued,
                // we are an acquisition of our own, granted by ticket.
                Place::Absent
                    if self.queued.is_none() && slots.place(&self.holder) != Place::Absent =>
                {
                    if self.from_cache {
                        self.reread()?;
                        continue;
                    }
                    return Err(self.already_held());
                }
                Place::Absent => {}
            }
            let step = self.next_step(&slots)?;
            let followed = || self.shared.hubs.follows(&self.object);
            if self.from_cache
                && (matches!(step, Step::Busy) || (matches!(step, Step::Enqueue) && !followed()))
            {
                // Only a fresh read may say there is no room (or, to queue,
                // the copy a watch keeps current: a stale one costs a waiter
                // object, then the head of the queue takes the free slot).
                self.reread()?;
                continue;
            }
            match step {
                Step::Write(next, plan) => {
                    let write_started = Instant::now();
                    self.first_write.get_or_insert(write_started);
                    let mut updated = self.object.clone();
                    updated.store(next);
                    match self.objects.write_status(&self.object, &updated) {
                        Ok(written) => {
                            self.shared.latest.put(&written);
                            self.object = written;
                            self.from_cache = false;
                            if let Plan::Take(token) = plan {
                                let granted = self.granted(token, write_started);
                                return Ok(self.leave_queue(granted));
                            }
                        }
                        Err(error) if error.is_conflict() => {
                            self.conflicts += 1;
                            after_lost_race(self.conflicts);
                            self.reread()?;
                        }
                        // No answer: the take may have landed. Re-read; the
                        // next round finds our ticket or tries again.
                        Err(error) if error.is_retryable() => {
                            if matches!(plan, Plan::Take(_)) {
                                self.unanswered_take.get_or_insert(write_started);
                            }
                            self.conflicts += 1;
                            after_lost_race(self.conflicts);
                            self.reread()?;
                        }
                        Err(error) => return Err(error),
                    }
                }
                Step::Enqueue => self.enqueue()?,
                Step::Busy => return Err(K::busy(self.name, &slots)),
                Step::Wait(timer) => {
                    self.heartbeat_if_due()?;
                    let heartbeat_at = self.heartbeat_due();
                    let timer = [timer, heartbeat_at].into_iter().flatten().min();
                    self.wait_for_change(timer)?;
                }
            }
        }
    }

    /// Decides what to do next (see [`decide`]), deleting stale waiter
    /// objects on the way when we are at the head of the queue.
    fn next_step(&mut self, slots: &Slots) -> Result<Step> {
        let now = Instant::now();
        let verdict = observe(&self.shared.staleness, &self.object, slots, self.hold_ttl);
        let standing = match &self.queued {
            // Nobody can be granted while every holder is live (every slot
            // held, or a writer holds), whatever the queue says (so a wake
            // costs O(1), not O(queue)).
            Some(_) if !slots.open() && verdict.stale.is_empty() => {
                self.interested.store(false, Ordering::SeqCst);
                return Ok(Step::Wait(verdict.next_expiry));
            }
            Some(queued) => Some(queued.queue.standing(&queued.waiter, slots, now)),
            None => None,
        };
        let newcomer = match (&standing, self.mode) {
            (None, Some(_)) => Some(self.view()?.newcomer(slots, now)),
            _ => None,
        };
        if let Some(standing) = &standing {
            if standing.ahead == 0 {
                for (name, version) in standing.stale.iter().take(STALE_DELETES) {
                    // Only while unchanged: a heartbeat landing meanwhile saves it.
                    self.objects.delete_if_unchanged::<Waiter>(
                        &self.shared.namespace,
                        name,
                        version,
                    )?;
                }
            }
        }
        let contender = Contender {
            holder: &self.holder,
            ticket: &self.ticket,
            priority: self.priority,
            hold_ttl: self.hold_ttl,
            try_once: self.try_once(),
            mode: self.mode,
            ahead_of_newcomer: newcomer.map_or(0, |n| n.ahead),
        };
        let (step, interested) = decide(
            &contender,
            slots,
            standing.as_ref(),
            &verdict,
            &now_rfc3339(),
        );
        self.interested.store(interested, Ordering::SeqCst);
        Ok(match step {
            Step::Wait(timer) if interested => {
                Step::Wait(Some(timer.map_or(now + RECHECK, |t| t.min(now + RECHECK))))
            }
            other => other,
        })
    }

    /// The queue's view for deciding as a newcomer, joined (and its first
    /// list awaited, within the request deadline) on first use.
    fn view(&mut self) -> Result<&Queue> {
        let queue = match self.view.take() {
            Some(queue) => queue,
            None => {
                let queue = Queue::join(self.shared, &self.object.metadata().uid);
                let deadline = self.options.request_deadline(self.started);
                match queue.synced(deadline, self.options.cancel.as_ref()) {
                    Err(Error::Cancelled { .. }) => {
                        return Err(Error::Cancelled { what: self.what() })
                    }
                    other => other?,
                }
                queue
            }
        };
        Ok(self.view.insert(queue))
    }

    fn granted(&self, token: u64, anchor: Instant) -> Granted {
        Granted {
            holder: self.holder.clone(),
            token,
            ttl: self.hold_ttl,
            anchor,
            waited: self.started.elapsed(),
            queue: None,
        }
    }

    /// Takes over a grant found in the object under our ticket: handed to us
    /// by a release, or taken by a write of ours whose answer was lost.
    fn adopt(&mut self, slots: &Slots, token: u64) -> Result<Granted> {
        let record = slots.record_of(&self.ticket).cloned().unwrap_or_default();
        // No later than anyone could have seen the grant: a hand-off was
        // decided from a version of our waiter object we wrote at a known
        // time; a take of ours, at the start of a take whose answer was lost.
        let handed_from = record.handoff.and_then(|heartbeat| {
            let queued = self.queued.as_ref()?;
            queued.writes.get(usize::try_from(heartbeat).ok()?).copied()
        });
        let anchor = match (record.handoff, handed_from) {
            (_, Some(at)) => Some(at),
            // A hand-off naming a heartbeat we cannot date: the earliest.
            (Some(_), None) => self.first_write,
            (None, None) => self.unanswered_take.or(self.first_write),
        }
        .unwrap_or_else(Instant::now);
        let record_ttl = server_ttl(&record.ttl, self.waiter_ttl).min(self.hold_ttl);
        let mut granted = self.granted(token, anchor);
        granted.ttl = record_ttl;
        let left = (anchor + record_ttl).saturating_duration_since(Instant::now());
        if record_ttl < self.hold_ttl || left < record_ttl / 2 {
            // A hand-off lives for the waiter's liveness TTL until renewed,
            // and a grant found late may have little of it left: renew to
            // our own TTL before returning, never returning a grant that is
            // about to run out.
            granted.anchor = self.renew_once(token)?;
            granted.ttl = self.hold_ttl;
        }
        Ok(self.leave_queue(granted))
    }

    /// One renewal of our fresh grant to our TTL; returns its start.
    fn renew_once(&mut self, token: u64) -> Result<Instant> {
        loop {
            self.check_cancelled()?;
            let started = Instant::now();
            let mut slots = self.object.slots();
            if !slots.renew(
                &self.holder,
                token,
                &format_duration(self.hold_ttl),
                &now_rfc3339(),
            ) {
                return Err(Error::Lost {
                    kind: K::KIND,
                    name: self.name.to_owned(),
                    holder: self.holder.clone(),
                    reason: "it was reclaimed before it could be renewed".to_owned(),
                });
            }
            let mut updated = self.object.clone();
            updated.store(slots);
            match self.objects.write_status(&self.object, &updated) {
                Ok(written) => {
                    self.shared.latest.put(&written);
                    self.object = written;
                    return Ok(started);
                }
                Err(error) if error.is_conflict() || error.is_retryable() => {
                    self.conflicts += 1;
                    after_lost_race(self.conflicts);
                    self.reread()?;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Deletes our waiter object once we hold a slot, and hands the queue
    /// view to the grant (so its release can hand the slot on).
    fn leave_queue(&mut self, mut granted: Granted) -> Granted {
        if let Some(queued) = self.queued.take() {
            queued.queue.unlisten(queued.listener);
            // Best effort: a waiter object left behind goes stale and is
            // deleted by the next head (and our ticket, once finished, is
            // never handed a slot again).
            let name = queued.waiter.metadata.name.clone();
            queued.queue.forget(&name);
            granted.queue = Some(queued.queue);
            // Off the caller's path: the grant is ours already, and the
            // hand-off costs the caller no more than one watch event.
            let objects = self
                .shared
                .objects
                .until(Instant::now().checked_add(LEAVE_BUDGET));
            let namespace = self.shared.namespace.clone();
            let delete = move || {
                let _ = objects.delete::<Waiter>(&namespace, &name);
            };
            let spawned = std::thread::Builder::new()
                .name("konductor-dequeue".to_owned())
                .spawn(delete.clone());
            if spawned.is_err() {
                delete();
            }
        }
        granted
    }

    /// Creates our waiter object and joins the queue's view.
    fn enqueue(&mut self) -> Result<()> {
        let meta = self.object.metadata();
        let mut labels = BTreeMap::new();
        labels.insert(TARGET_UID_LABEL.to_owned(), meta.uid.clone());
        let mut extra = serde_json::Map::new();
        extra.insert(
            "ownerReferences".to_owned(),
            serde_json::json!([{
                "apiVersion": API_VERSION,
                "kind": K::KIND,
                "name": meta.name,
                "uid": meta.uid,
            }]),
        );
        let waiter = Waiter {
            api_version: API_VERSION.to_owned(),
            kind: Waiter::KIND.to_owned(),
            metadata: ObjectMeta {
                name: self.ticket.clone(),
                labels,
                extra,
                ..ObjectMeta::default()
            },
            spec: WaiterSpec {
                target: WaiterTarget {
                    kind: K::KIND.to_owned(),
                    name: meta.name.clone(),
                    uid: meta.uid.clone(),
                },
                holder: self.holder.clone(),
                ticket: self.ticket.clone(),
                priority: self.priority,
                ttl: format_duration(self.waiter_ttl),
                hold_ttl: format_duration(self.hold_ttl),
                renew_count: 0,
                sequence: None,
                enqueued_at: now_rfc3339(),
                mode: self.mode,
            },
            status: None,
        };
        let write_started = Instant::now();
        self.first_write.get_or_insert(write_started);
        let created = loop {
            self.check_cancelled()?;
            match self.objects.create(&self.shared.namespace, &waiter) {
                Ok(created) => break created,
                // Named after our ticket: it is ours, from a create whose
                // answer was lost.
                Err(Error::AlreadyExists { .. }) => {
                    break self.objects.get(&self.shared.namespace, &self.ticket)?
                }
                Err(error) if error.is_retryable() => {
                    self.conflicts += 1;
                    after_lost_race(self.conflicts);
                }
                Err(error) => return Err(error),
            }
        };
        let queue = Queue::join(self.shared, &meta.uid);
        queue.note(created.clone());
        let follow = self.follow();
        let nudge = follow.nudger();
        let interested = self.interested.clone();
        let listener = queue.listen(Box::new(move || {
            !interested.load(Ordering::SeqCst) || nudge()
        }));
        // Queued from here on: if the wait ends now, leaving deletes the
        // waiter object.
        let queued = self.queued.insert(Queued {
            writes: vec![write_started],
            unconfirmed: None,
            waiter: created,
            queue,
            listener,
        });
        match queued
            .queue
            .synced(self.deadline, self.options.cancel.as_ref())
        {
            Err(Error::Cancelled { .. }) => Err(Error::Cancelled { what: self.what() }),
            other => other,
        }
    }

    /// When our waiter object's next heartbeat is due.
    fn heartbeat_due(&self) -> Option<Instant> {
        let queued = self.queued.as_ref()?;
        Some(*queued.writes.last()? + self.waiter_ttl / 3)
    }

    /// Heartbeats our waiter object when due: one small write to it, never
    /// to the contended object. If it was deleted (judged stale while we
    /// could not write), queue again at the back.
    fn heartbeat_if_due(&mut self) -> Result<()> {
        if self
            .heartbeat_due()
            .map_or(true, |due| Instant::now() < due)
        {
            return Ok(());
        }
        let Some(queued) = &mut self.queued else {
            return Ok(());
        };
        let count = queued.waiter.spec.renew_count;
        let sequence = queued
            .waiter
            .spec
            .sequence
            .clone()
            .unwrap_or_else(|| queued.waiter.metadata.resource_version.clone());
        let patch = serde_json::json!([
            { "op": "test", "path": "/spec/renewCount", "value": count },
            { "op": "replace", "path": "/spec/renewCount", "value": count + 1 },
            { "op": "add", "path": "/spec/sequence", "value": sequence },
        ]);
        // The start of the earliest attempt not yet known to have landed:
        // a heartbeat whose answer was lost may have landed then.
        let write_started = *queued.unconfirmed.get_or_insert_with(Instant::now);
        match self.objects.patch::<Waiter>(
            &self.shared.namespace,
            &queued.waiter.metadata.name,
            &patch,
        ) {
            Ok(written) => {
                queued.writes.push(write_started);
                queued.unconfirmed = None;
                queued.waiter = written;
                Ok(())
            }
            // Deleted as stale: queue afresh.
            Err(Error::NotFound { .. }) => {
                if let Some(queued) = self.queued.take() {
                    queued.queue.unlisten(queued.listener);
                }
                Ok(())
            }
            // Not answered, or the test failed (an earlier unanswered
            // heartbeat landed): read what is there and go on.
            Err(error)
                if error.is_retryable() || matches!(&error, Error::Api(s) if s.code == 422) =>
            {
                if let Ok(current) = self
                    .objects
                    .get::<Waiter>(&self.shared.namespace, &queued.waiter.metadata.name)
                {
                    if current.spec.renew_count > count {
                        queued.writes.push(write_started);
                        queued.unconfirmed = None;
                    }
                    queued.waiter = current;
                }
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    /// Our watch of the object. It wakes us only for versions that matter
    /// to a waiter (a free slot, or a grant to us), so a write does not wake
    /// every thread waiting on the object; it notes every version's holders
    /// in the staleness tracker, so expiry is judged from when a version was
    /// first seen, whoever was woken.
    fn follow(&mut self) -> &Follow<K> {
        let (shared, object, cancel) = (self.shared, &self.object, self.options.cancel.as_ref());
        let ticket = self.ticket.clone();
        let staleness = shared.staleness.clone();
        let hold_ttl = self.hold_ttl;
        let planned = self.planned_wake.clone();
        let interest = move |version: &K, memo: &mut Memo| {
            let Some(reading) = Reading::of(memo, version, &staleness, hold_ttl) else {
                return true;
            };
            let planned = *planned.lock().unwrap_or_else(|e| e.into_inner());
            // A holder that expires before we planned to look again.
            let sooner = reading
                .verdict
                .next_expiry
                .is_some_and(|expiry| planned.map_or(true, |at| expiry < at));
            reading.slots.open()
                || reading.slots.holds(&ticket)
                || sooner
                || !reading.verdict.stale.is_empty()
        };
        self.follow.get_or_insert_with(|| {
            Follow::start_with(shared, object, cancel, Some(Box::new(interest)))
        })
    }

    /// Blocks until the object or the queue changes, a timer is due, the
    /// deadline passes or the caller cancels.
    fn wait_for_change(&mut self, timer: Option<Instant>) -> Result<()> {
        let wake_at = match (timer, self.deadline) {
            (Some(t), Some(d)) => Some(t.min(d)),
            (t, d) => t.or(d),
        };
        *self.planned_wake.lock().unwrap_or_else(|e| e.into_inner()) = wake_at;
        let wakes = self.follow().changes(wake_at);
        // Awake: any version with a holder expiring from now on matters.
        *self.planned_wake.lock().unwrap_or_else(|e| e.into_inner()) = None;
        // Versions that did not wake us: a timer may need the newest.
        let current = self.object.metadata().resource_version.clone();
        if let Some(newer) = self.follow().latest(&current) {
            self.shared.latest.put(&newer);
            self.object = newer;
            self.from_cache = false;
        }
        for wake in wakes {
            match wake {
                Wake::Changed(object) => {
                    if is_newer(
                        &object.metadata().resource_version,
                        &self.object.metadata().resource_version,
                    ) {
                        self.shared.latest.put(&object);
                        self.object = object;
                        self.from_cache = false;
                    }
                }
                Wake::Deleted => {
                    self.shared
                        .latest
                        .forget::<K>(&self.shared.namespace, self.name);
                    return Err(crate::objects::not_found::<K>(
                        &self.shared.namespace,
                        self.name,
                    ));
                }
                Wake::Failed(error) => return Err(error),
                Wake::Cancelled => return Err(Error::Cancelled { what: self.what() }),
                Wake::Nudged => {}
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

    /// Deletes our waiter object, then gives back the slot granted to us
    /// meanwhile (or by a write whose answer was lost), handing it on.
    /// Bounded by [`LEAVE_BUDGET`]; what it cannot remove expires on its own.
    fn leave(&mut self) {
        let objects = self
            .shared
            .objects
            .until(Instant::now().checked_add(LEAVE_BUDGET));
        let queue = self.queued.take().map(|queued| {
            self.shared.abandoned.add(&self.ticket);
            let name = &queued.waiter.metadata.name;
            queued.queue.forget(name);
            let _ = objects.delete::<Waiter>(&self.shared.namespace, name);
            queued.queue
        });
        let ticket = &self.ticket;
        let _ = give_back::<K>(self.shared, &objects, self.name, queue, |slots| {
            slots.withdraw(ticket)
        });
    }
}

/// The contender's side of a decision.
struct Contender<'a> {
    holder: &'a str,
    ticket: &'a str,
    priority: i32,
    hold_ttl: Duration,
    /// A zero timeout: take a free slot or give up, never queue.
    try_once: bool,
    /// The lock mode wanted (RWMutex only).
    mode: Option<LockMode>,
    /// Before queueing: the live waiters that hold nothing yet (counted
    /// only for an RWMutex, where a newcomer never overtakes them).
    ahead_of_newcomer: usize,
}

/// One version's slots and the staleness verdict on its holders, read once
/// for all the threads that wait on the object.
struct Reading {
    slots: Slots,
    verdict: Verdict,
    /// The TTL assumed for records whose own is unreadable.
    default_ttl: Duration,
}

impl Reading {
    /// The reading of `version` left in `memo`, made (and its holders noted
    /// in `staleness`) by the first caller; a caller assuming another
    /// default TTL reads the version again. (None only if `memo` held
    /// something else, which no caller leaves.)
    fn of<'m, K: Slotted>(
        memo: &'m mut Memo,
        version: &K,
        staleness: &Staleness,
        default_ttl: Duration,
    ) -> Option<&'m Reading> {
        let shared = memo
            .as_ref()
            .and_then(|m| m.downcast_ref::<Reading>())
            .is_some_and(|r| r.default_ttl == default_ttl);
        if !shared {
            let slots = version.slots();
            let verdict = observe(staleness, version, &slots, default_ttl);
            *memo = Some(Box::new(Reading {
                slots,
                verdict,
                default_ttl,
            }));
        }
        memo.as_ref().and_then(|m| m.downcast_ref::<Reading>())
    }
}

/// Decides the next step from the object's holders, our standing in the
/// queue (none: not queued yet) and which holders are stale: evict stale
/// holders (only at the head of the queue, or as a newcomer), take a slot
/// when the grant rule admits us ([`Slots::admits`]: for the slotted kinds
/// when fewer live waiters are ahead of us than slots are free; for an
/// RWMutex when nobody is ahead and our mode fits the holders), else queue
/// or wait. Also says whether queue changes matter now (a slot is free
/// but not ours yet). Pure: no I/O, no clock.
fn decide(
    me: &Contender,
    slots: &Slots,
    standing: Option<&Standing>,
    verdict: &Verdict,
    now_text: &str,
) -> (Step, bool) {
    let ahead = standing.map_or(me.ahead_of_newcomer, |s| s.ahead);
    let mut next = slots.clone();
    let mut evicted = false;
    if !verdict.stale.is_empty() && ahead == 0 {
        evicted = next.evict(|h| {
            verdict
                .stale
                .contains(&holder_key(&h.holder, h.token, h.renew_count))
        }) > 0;
    }
    if next.admits(me.mode, ahead) {
        let token = next.take(
            me.holder,
            me.ticket,
            me.priority,
            &format_duration(me.hold_ttl),
            now_text,
            me.mode,
        );
        return (Step::Write(next, Plan::Take(token)), false);
    }
    if evicted {
        return (Step::Write(next, Plan::Evict), false);
    }
    if me.try_once {
        return (Step::Busy, false);
    }
    match standing {
        None => (Step::Enqueue, false),
        Some(standing) => {
            let timer = [verdict.next_expiry, standing.next_expiry]
                .into_iter()
                .flatten()
                .min();
            // Queue changes matter while a slot is free or a holder is
            // stale (the head may leave, and then we evict).
            (Step::Wait(timer), next.open() || !verdict.stale.is_empty())
        }
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
            try_once: false,
            mode: None,
            ahead_of_newcomer: 0,
        }
    }

    fn slots(capacity: u32, holders: &[&str]) -> Slots {
        Slots {
            capacity,
            holders: holders
                .iter()
                .enumerate()
                .map(|(i, h)| HolderRecord {
                    holder: (*h).to_owned(),
                    token: i as u64 + 1,
                    ttl: "30s".to_owned(),
                    ..HolderRecord::default()
                })
                .collect(),
            fencing: holders.len() as u64,
            finished: Vec::new(),
        }
    }

    fn fresh() -> Verdict {
        Verdict::default()
    }

    fn queued(ahead: usize) -> Standing {
        Standing {
            ahead,
            ..Standing::default()
        }
    }

    #[test]
    fn a_newcomer_takes_a_free_slot_with_the_next_fencing_token() {
        let before = slots(2, &["a"]);
        match decide(&me("b"), &before, None, &fresh(), NOW).0 {
            Step::Write(after, Plan::Take(token)) => {
                assert_eq!(token, 2);
                assert_eq!(after.fencing, 2);
                assert_eq!(after.holders.len(), 2);
                assert_eq!(after.holders[1].ticket, "t");
            }
            other => panic!("expected to take the free slot, got {other:?}"),
        }
    }

    #[test]
    fn a_newcomer_without_room_queues_and_a_try_once_gives_up() {
        let full = slots(1, &["a"]);
        assert_eq!(
            decide(&me("b"), &full, None, &fresh(), NOW).0,
            Step::Enqueue
        );
        let mut b = me("b");
        b.try_once = true;
        assert_eq!(decide(&b, &full, None, &fresh(), NOW).0, Step::Busy);
    }

    #[test]
    fn a_waiter_takes_only_when_fewer_live_waiters_are_ahead_than_slots_are_free() {
        let one_free = slots(2, &["a"]);
        let (step, interested) = decide(&me("b"), &one_free, Some(&queued(1)), &fresh(), NOW);
        assert_eq!(step, Step::Wait(None), "the one ahead takes it");
        assert!(interested, "if the one ahead leaves, look again");
        assert!(matches!(
            decide(&me("b"), &one_free, Some(&queued(0)), &fresh(), NOW).0,
            Step::Write(_, Plan::Take(2))
        ));
        let two_free = slots(3, &["a"]);
        assert!(matches!(
            decide(&me("b"), &two_free, Some(&queued(1)), &fresh(), NOW).0,
            Step::Write(_, Plan::Take(_))
        ));
    }

    #[test]
    fn a_full_object_makes_a_waiter_wait_until_the_next_expiry_quietly() {
        let full = slots(1, &["a"]);
        let soon = Instant::now() + Duration::from_secs(3);
        let verdict = Verdict {
            stale: Vec::new(),
            next_expiry: Some(soon),
        };
        let (step, interested) = decide(&me("b"), &full, Some(&queued(4)), &verdict, NOW);
        assert_eq!(step, Step::Wait(Some(soon)));
        assert!(
            !interested,
            "queue changes do not matter while no slot is free"
        );
    }

    #[test]
    fn only_the_head_evicts_a_stale_holder_and_takes_its_slot() {
        let before = slots(1, &["dead"]);
        let verdict = Verdict {
            stale: vec![holder_key("dead", 1, 0)],
            next_expiry: None,
        };
        assert!(
            matches!(
                decide(&me("second"), &before, Some(&queued(1)), &verdict, NOW).0,
                Step::Wait(_)
            ),
            "a waiter behind a live head must not write"
        );
        match decide(&me("head"), &before, Some(&queued(0)), &verdict, NOW).0 {
            Step::Write(after, Plan::Take(2)) => {
                assert_eq!(after.holders.len(), 1);
                assert_eq!(after.holders[0].holder, "head");
            }
            other => panic!("expected eviction and take with token 2, got {other:?}"),
        }
    }

    #[test]
    fn a_try_once_evicts_a_stale_holder_to_take_its_slot_but_never_queues() {
        let before = slots(1, &["dead"]);
        let verdict = Verdict {
            stale: vec![holder_key("dead", 1, 0)],
            next_expiry: None,
        };
        let mut b = me("b");
        b.try_once = true;
        assert!(matches!(
            decide(&b, &before, None, &verdict, NOW).0,
            Step::Write(_, Plan::Take(2))
        ));
    }

    fn moded(holders: &[(&str, LockMode)]) -> Slots {
        let mut s = slots(10, &[]);
        for (holder, mode) in holders {
            s.take(holder, holder, 0, "30s", NOW, Some(*mode));
        }
        s
    }

    fn wanting(holder: &str, mode: LockMode) -> Contender<'_> {
        let mut c = me(holder);
        c.mode = Some(mode);
        c
    }

    #[test]
    fn readers_share_an_rwmutex_and_a_writer_waits_for_nobody_holding() {
        let read = moded(&[("r1", LockMode::Read)]);
        match decide(&wanting("r2", LockMode::Read), &read, None, &fresh(), NOW).0 {
            Step::Write(after, Plan::Take(2)) => {
                assert_eq!(after.holders[1].mode, Some(LockMode::Read));
            }
            other => panic!("a second reader shares the lock, got {other:?}"),
        }
        assert_eq!(
            decide(&wanting("w", LockMode::Write), &read, None, &fresh(), NOW).0,
            Step::Enqueue,
            "a writer never joins a reader"
        );
        let free = moded(&[]);
        match decide(&wanting("w", LockMode::Write), &free, None, &fresh(), NOW).0 {
            Step::Write(after, Plan::Take(1)) => {
                assert_eq!(after.holders[0].mode, Some(LockMode::Write));
                assert!(!after.open(), "nobody joins a writer");
            }
            other => panic!("a writer takes a free rwmutex, got {other:?}"),
        }
        let written = moded(&[("w", LockMode::Write)]);
        for mode in [LockMode::Read, LockMode::Write] {
            let mut c = wanting("x", mode);
            c.try_once = true;
            assert_eq!(decide(&c, &written, None, &fresh(), NOW).0, Step::Busy);
        }
    }

    #[test]
    fn an_rwmutex_is_strict_fifo_so_a_reader_never_overtakes_a_queued_writer() {
        let read = moded(&[("r1", LockMode::Read)]);
        let mut newcomer = wanting("r2", LockMode::Read);
        newcomer.ahead_of_newcomer = 1;
        assert_eq!(
            decide(&newcomer, &read, None, &fresh(), NOW).0,
            Step::Enqueue,
            "a writer queued: a new reader queues behind it"
        );
        let (step, interested) = decide(
            &wanting("r2", LockMode::Read),
            &read,
            Some(&queued(1)),
            &fresh(),
            NOW,
        );
        assert_eq!(
            step,
            Step::Wait(None),
            "a queued reader behind the writer waits"
        );
        assert!(
            interested,
            "the lock is open to readers: queue changes matter"
        );
        assert!(
            matches!(
                decide(
                    &wanting("w", LockMode::Write),
                    &read,
                    Some(&queued(0)),
                    &fresh(),
                    NOW
                )
                .0,
                Step::Wait(_)
            ),
            "the writer at the head waits for the readers ahead of it to release"
        );
        let free = moded(&[]);
        assert!(
            matches!(
                decide(
                    &wanting("w", LockMode::Write),
                    &free,
                    Some(&queued(0)),
                    &fresh(),
                    NOW
                )
                .0,
                Step::Write(_, Plan::Take(1))
            ),
            "once they released, the writer at the head takes it"
        );
        assert!(
            matches!(
                decide(
                    &wanting("w", LockMode::Write),
                    &free,
                    Some(&queued(1)),
                    &fresh(),
                    NOW
                )
                .0,
                Step::Wait(_)
            ),
            "even a free rwmutex goes to the waiter ahead first"
        );
    }

    #[test]
    fn the_head_of_an_rwmutex_evicts_a_stale_writer_and_takes_its_place() {
        let dead = moded(&[("dead", LockMode::Write)]);
        let verdict = Verdict {
            stale: vec![holder_key("dead", 1, 0)],
            next_expiry: None,
        };
        match decide(
            &wanting("r", LockMode::Read),
            &dead,
            Some(&queued(0)),
            &verdict,
            NOW,
        )
        .0
        {
            Step::Write(after, Plan::Take(2)) => {
                assert_eq!(after.holders.len(), 1);
                assert_eq!(after.holders[0].holder, "r");
                assert_eq!(after.finished, ["dead"]);
            }
            other => panic!("expected eviction and a read take with token 2, got {other:?}"),
        }
    }
}
