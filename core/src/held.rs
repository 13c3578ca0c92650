//! A held slot of a semaphore or lease: renewal, release, expiry and loss.
//!
//! The holder keeps its own deadline by its monotonic clock: the start of its
//! last successful write plus the TTL. Others call the record stale only after
//! seeing it unchanged for longer than the TTL, which they can first do after
//! that write, so the holder always learns of the loss first.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::acquire::{Granted, Slotted};
use crate::backoff::after_lost_race;
use crate::cancel::CancelToken;
use crate::client::Shared;
use crate::duration::format_duration;
use crate::error::{Error, Result};
use crate::objects::Objects;
use crate::observer::{Event, Observer};
use crate::queue::{hand_off, Queue};
use crate::resource::Waiter;
use crate::slots::Slots;
use crate::time::now_rfc3339;

/// The least time a release may take to reach the server, even for a grant
/// whose deadline is near or past.
const RELEASE_BUDGET: Duration = if cfg!(test) {
    Duration::from_secs(1)
} else {
    Duration::from_secs(10)
};

/// The object to write from: the client's remembered copy unless `fresh`
/// is asked for (or there is none), then a read. True when remembered.
fn read<K: Slotted>(
    shared: &Shared,
    objects: &Objects,
    name: &str,
    fresh: bool,
) -> Result<(K, bool)> {
    if !fresh {
        if let Some(object) = shared.latest.get::<K>(&shared.namespace, name) {
            return Ok((object, true));
        }
    }
    let object = objects.get::<K>(&shared.namespace, name)?;
    shared.latest.put(&object);
    Ok((object, false))
}

/// Gives back what `remove` takes out of the slots of object `name` (a
/// grant being released, or left behind by a caller that gave up) and hands
/// the freed slots to the heads of the queue in the same guarded write, when
/// this process follows the queue (`queue`, or found); otherwise the head
/// takes them. Starts from the remembered copy; nothing to remove there, or a
/// lost race, means a fresh read. Bounded by `objects`' deadline.
pub(crate) fn give_back<K: Slotted>(
    shared: &Shared,
    objects: &Objects,
    name: &str,
    queue: Option<Queue>,
    remove: impl Fn(&mut Slots) -> bool,
) -> Result<()> {
    let mut races_lost = 0;
    let mut fresh = false;
    loop {
        let (read, remembered) = match read::<K>(shared, objects, name, fresh) {
            Ok(object) => object,
            Err(Error::NotFound { .. }) => return Ok(()),
            Err(error) => return Err(error),
        };
        let mut slots = read.slots();
        if !remove(&mut slots) {
            if remembered {
                fresh = true;
                continue;
            }
            return Ok(());
        }
        let queue = queue
            .clone()
            .or_else(|| Queue::find(shared, &read.metadata().uid));
        if let Some(queue) = &queue {
            hand_off(
                &mut slots,
                queue,
                &shared.abandoned,
                Instant::now(),
                &now_rfc3339(),
            );
        }
        let mut object = read.clone();
        object.store(slots);
        match objects.write_status(&read, &object) {
            Ok(written) => {
                shared.latest.put(&written);
                if let Some(queue) = &queue {
                    // Waiters that died while the slots stayed full are
                    // never at the head to be skipped and deleted there:
                    // the releaser, one at a time, deletes a few.
                    for (name, version) in queue.stale(Instant::now(), STALE_DELETES) {
                        let _ = objects.delete_if_unchanged::<Waiter>(
                            &shared.namespace,
                            &name,
                            &version,
                        );
                    }
                }
                return Ok(());
            }
            Err(Error::NotFound { .. }) => return Ok(()),
            Err(error) if error.is_conflict() => {
                races_lost += 1;
                fresh = true;
                after_lost_race(races_lost);
            }
            Err(error) => return Err(error),
        }
    }
}

/// At most this many stale waiter objects a release deletes.
const STALE_DELETES: usize = 2;

/// Renews the grant `holder` has in object `name` (the one with `token`,
/// when given) from any process, for grants kept with [`Held::keep`]: the
/// record's TTL, or `ttl`, counts again from now. Returns the grant's token;
/// [`Error::Lost`] when `holder` holds nothing there (it expired, was
/// reclaimed or released).
pub(crate) fn renew_recorded<K: Slotted>(
    shared: &Shared,
    name: &str,
    holder: &str,
    token: Option<u64>,
    ttl: Option<Duration>,
) -> Result<u64> {
    let objects = shared
        .objects
        .until(Instant::now().checked_add(RELEASE_BUDGET));
    let mut races_lost = 0;
    loop {
        let read = objects.get::<K>(&shared.namespace, name)?;
        let mut slots = read.slots();
        let Some(record) = slots
            .holders
            .iter()
            .find(|h| h.holder == holder && token.map_or(true, |t| t == h.token))
        else {
            return Err(not_held(K::KIND, name, holder));
        };
        let granted = record.token;
        let ttl = ttl.map_or_else(|| record.ttl.clone(), format_duration);
        slots.renew(holder, granted, &ttl, &now_rfc3339());
        let mut object = read.clone();
        object.store(slots);
        match objects.write_status(&read, &object) {
            Ok(written) => {
                shared.latest.put(&written);
                return Ok(granted);
            }
            Err(error) if error.is_conflict() => {
                races_lost += 1;
                after_lost_race(races_lost);
            }
            Err(error) => return Err(error),
        }
    }
}

/// Gives back the grant `holder` has in object `name` (the one with
/// `token`, when given) from any process, for grants kept with
/// [`Held::keep`]. [`Error::Lost`] when `holder` holds nothing there.
pub(crate) fn release_recorded<K: Slotted>(
    shared: &Shared,
    name: &str,
    holder: &str,
    token: Option<u64>,
) -> Result<()> {
    let objects = shared
        .objects
        .until(Instant::now().checked_add(RELEASE_BUDGET));
    let removed = std::cell::Cell::new(false);
    give_back::<K>(shared, &objects, name, None, |slots| {
        let done = slots.remove(holder, token);
        removed.set(done);
        done
    })?;
    if removed.get() {
        return Ok(());
    }
    // Nothing removed: say whether the object is gone or the holder is.
    objects.get::<K>(&shared.namespace, name)?;
    Err(not_held(K::KIND, name, holder))
}

fn not_held(kind: &'static str, name: &str, holder: &str) -> Error {
    Error::Lost {
        kind,
        name: name.to_owned(),
        holder: holder.to_owned(),
        reason: "it holds nothing there (expired, reclaimed or already released)".to_owned(),
    }
}

/// Shared state of one grant, used by its handle and its renewal threads.
pub(crate) struct Grant<K> {
    shared: Arc<Shared>,
    name: String,
    holder: String,
    token: u64,
    ttl: Duration,
    acquired: Instant,
    observer: Option<Arc<dyn Observer>>,
    /// The queue's view, when the grant came through the queue: kept so that
    /// the release can hand the slot on.
    queue: Option<Queue>,
    state: Mutex<State>,
    changed: Condvar,
    /// Fired when the grant is lost, for callers that stop work on loss.
    on_lost: CancelToken,
    kind: PhantomData<fn() -> K>,
}

struct State {
    deadline: Instant,
    released: bool,
    lost: Option<String>,
}

impl<K: Slotted> Grant<K> {
    pub(crate) fn new(
        shared: Arc<Shared>,
        name: &str,
        granted: Granted,
        observer: Option<Arc<dyn Observer>>,
    ) -> Arc<Self> {
        Arc::new(Grant {
            shared,
            name: name.to_owned(),
            holder: granted.holder,
            token: granted.token,
            ttl: granted.ttl,
            acquired: Instant::now(),
            observer,
            queue: granted.queue,
            state: Mutex::new(State {
                deadline: granted.anchor + granted.ttl,
                released: false,
                lost: None,
            }),
            changed: Condvar::new(),
            on_lost: CancelToken::new(),
            kind: PhantomData,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn event(&self) -> Event<'_> {
        Event {
            kind: K::KIND,
            namespace: &self.shared.namespace,
            name: &self.name,
            holder: &self.holder,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn holder(&self) -> &str {
        &self.holder
    }

    pub(crate) fn token(&self) -> u64 {
        self.token
    }

    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    pub(crate) fn lost_token(&self) -> &CancelToken {
        &self.on_lost
    }

    /// When the grant runs out unless renewed, by this machine's clock.
    pub(crate) fn expires_at(&self) -> SystemTime {
        let deadline = self.lock().deadline;
        let now = Instant::now();
        if deadline >= now {
            SystemTime::now() + (deadline - now)
        } else {
            SystemTime::now() - (now - deadline)
        }
    }

    /// True when the grant is no longer held: expired, taken away or released.
    pub(crate) fn is_lost(&self) -> bool {
        let state = self.lock();
        state.released || state.lost.is_some() || Instant::now() >= state.deadline
    }

    fn lost_error(&self, reason: &str) -> Error {
        Error::Lost {
            kind: K::KIND,
            name: self.name.clone(),
            holder: self.holder.clone(),
            reason: reason.to_owned(),
        }
    }

    /// Marks the grant lost (once) and tells whoever listens.
    fn mark_lost(&self, reason: &str) {
        {
            let mut state = self.lock();
            if state.released || state.lost.is_some() {
                return;
            }
            state.lost = Some(reason.to_owned());
        }
        self.changed.notify_all();
        self.on_lost.cancel();
        if let Some(observer) = &self.observer {
            observer.lost(&self.event(), reason);
        }
    }

    /// Checks that the grant is still ours by our own clock.
    fn check_held(&self) -> Result<()> {
        let expired = {
            let state = self.lock();
            if state.released {
                return Err(self.lost_error("it was released"));
            }
            if let Some(reason) = &state.lost {
                return Err(self.lost_error(reason));
            }
            Instant::now() >= state.deadline
        };
        if expired {
            self.mark_lost("its TTL passed before it was renewed");
            return Err(self.lost_error("its TTL passed before it was renewed"));
        }
        Ok(())
    }

    /// Extends the grant by its TTL from now.
    pub(crate) fn renew(&self) -> Result<()> {
        let result = match self.renew_inner() {
            // Cut off at our deadline (or failing until it): the grant is
            // lost, say so.
            Err(error) => self.check_held().and(Err(error)),
            ok => ok,
        };
        if let (Err(error), Some(observer)) = (&result, &self.observer) {
            observer.error(&self.event(), error);
        }
        result
    }

    fn renew_inner(&self) -> Result<()> {
        self.check_held()?;
        // A renewal that lands after our deadline could not save the grant:
        // others may already have taken the slot.
        let objects = self.shared.objects.until(Some(self.lock().deadline));
        let mut races_lost = 0;
        let mut fresh = false;
        loop {
            let started = Instant::now();
            let (read, remembered) = match self.read(&objects, fresh) {
                Ok(object) => object,
                Err(Error::NotFound { .. }) => {
                    self.mark_lost("the object was deleted");
                    return Err(self.lost_error("the object was deleted"));
                }
                Err(error) => return Err(error),
            };
            let now = now_rfc3339();
            let mut slots = read.slots();
            if !slots.renew(&self.holder, self.token, &format_duration(self.ttl), &now) {
                if remembered {
                    // Our copy may be out of date: judge from a fresh read.
                    fresh = true;
                    continue;
                }
                self.mark_lost("it was reclaimed as expired");
                return Err(self.lost_error("it was reclaimed as expired"));
            }
            self.check_held()?;
            let mut object = read.clone();
            object.store(slots);
            match objects.write_status(&read, &object) {
                Ok(written) => {
                    self.shared.latest.put(&written);
                    let mut state = self.lock();
                    if state.lost.is_none() && !state.released {
                        state.deadline = started + self.ttl;
                    }
                    drop(state);
                    self.changed.notify_all();
                    return Ok(());
                }
                Err(error) if error.is_conflict() => {
                    races_lost += 1;
                    fresh = true;
                    after_lost_race(races_lost);
                }
                Err(Error::NotFound { .. }) => {
                    self.mark_lost("the object was deleted");
                    return Err(self.lost_error("the object was deleted"));
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Gives the slot back (handing it to the head waiter). Idempotent.
    pub(crate) fn release(&self) -> Result<()> {
        {
            let mut state = self.lock();
            if state.released {
                return Ok(());
            }
            state.released = true;
        }
        self.changed.notify_all();
        let result = self.release_inner();
        if result
            .as_ref()
            .is_err_and(|e| e.is_retryable() || matches!(e, Error::Timeout { .. }))
        {
            // The server was not reached: a later release (or the drop) tries
            // again. Meanwhile the grant counts as lost: we asked to give it up.
            let mut state = self.lock();
            state.released = false;
            state
                .lost
                .get_or_insert_with(|| "its release did not reach the server".to_owned());
        }
        if let Some(observer) = &self.observer {
            match &result {
                Ok(()) => observer.released(&self.event(), self.acquired.elapsed()),
                Err(error) => observer.error(&self.event(), error),
            }
        }
        result
    }

    fn release_inner(&self) -> Result<()> {
        // Past our deadline the record is reclaimed anyway: a release (and a
        // drop) never blocks longer than that, or RELEASE_BUDGET from now.
        let deadline = self.lock().deadline;
        let until = Instant::now()
            .checked_add(RELEASE_BUDGET)
            .map_or(deadline, |floor| floor.max(deadline));
        let objects = self.shared.objects.until(Some(until));
        give_back::<K>(
            &self.shared,
            &objects,
            &self.name,
            self.queue.clone(),
            |slots| slots.remove(&self.holder, Some(self.token)),
        )
    }

    /// The object to write from: the client's remembered copy unless
    /// `fresh` is asked for (or there is none), then a read. True when remembered.
    fn read(&self, objects: &Objects, fresh: bool) -> Result<(K, bool)> {
        if !fresh {
            if let Some(object) = self
                .shared
                .latest
                .get::<K>(&self.shared.namespace, &self.name)
            {
                return Ok((object, true));
            }
        }
        let object = objects.get::<K>(&self.shared.namespace, &self.name)?;
        self.shared.latest.put(&object);
        Ok((object, false))
    }

    /// Starts background renewal at a third of the TTL and a watchdog that
    /// reports loss the moment the deadline passes unrenewed.
    pub(crate) fn start_auto_renew(self: &Arc<Self>) {
        let renewer = Arc::clone(self);
        thread::Builder::new()
            .name(format!("konductor-renew-{}", self.name))
            .spawn(move || renewer.renew_loop())
            .expect("failed to spawn renewal thread");
        let watchdog = Arc::clone(self);
        thread::Builder::new()
            .name(format!("konductor-expiry-{}", self.name))
            .spawn(move || watchdog.watchdog_loop())
            .expect("failed to spawn expiry thread");
    }

    fn renew_loop(&self) {
        let retry = (self.ttl / 10).max(Duration::from_millis(50));
        loop {
            {
                let mut state = self.lock();
                loop {
                    if state.released || state.lost.is_some() {
                        return;
                    }
                    let renew_at = state.deadline - self.ttl + self.ttl / 3;
                    let now = Instant::now();
                    if now >= renew_at {
                        break;
                    }
                    state = self
                        .changed
                        .wait_timeout(state, renew_at - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
            match self.renew() {
                Ok(()) => {}
                Err(Error::Lost { .. }) => return,
                Err(_) => {
                    // Transient failure: try again soon; the watchdog reports
                    // loss if the deadline passes first.
                    let state = self.lock();
                    let _ = self.changed.wait_timeout(state, retry);
                }
            }
        }
    }

    fn watchdog_loop(&self) {
        let mut state = self.lock();
        loop {
            if state.released || state.lost.is_some() {
                return;
            }
            let now = Instant::now();
            if now >= state.deadline {
                drop(state);
                self.mark_lost("its TTL passed before it was renewed");
                return;
            }
            let wait = state.deadline - now;
            state = self
                .changed
                .wait_timeout(state, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// A held slot: a semaphore [`Permit`](crate::Permit) or a
/// [`Lease`](crate::Lease). Release it with [`Held::release`]; dropping it
/// releases it too (errors are then ignored).
pub struct Held<K: Slotted> {
    grant: Arc<Grant<K>>,
}

impl<K: Slotted> Held<K> {
    /// Wraps a fresh grant, starting its background renewal when asked.
    pub(crate) fn new(grant: Arc<Grant<K>>, auto_renew: bool) -> Held<K> {
        if auto_renew {
            grant.start_auto_renew();
        }
        Held { grant }
    }

    /// Name of the semaphore or lease.
    pub fn name(&self) -> &str {
        self.grant.name()
    }

    /// Holder identity this grant is recorded under.
    pub fn holder(&self) -> &str {
        self.grant.holder()
    }

    /// Fencing token: strictly increases with every grant of this object, so
    /// downstream systems can reject writes from a stale holder.
    pub fn token(&self) -> u64 {
        self.grant.token()
    }

    /// Time-to-live granted; renew within it.
    pub fn ttl(&self) -> Duration {
        self.grant.ttl()
    }

    /// When the grant runs out unless renewed, by this machine's clock.
    pub fn expires_at(&self) -> SystemTime {
        self.grant.expires_at()
    }

    /// True once the grant is no longer held (expired, reclaimed or released).
    pub fn is_lost(&self) -> bool {
        self.grant.is_lost()
    }

    /// A token that is cancelled the moment the grant is lost; pass it to
    /// work that must stop then.
    pub fn lost_token(&self) -> CancelToken {
        self.grant.lost_token().clone()
    }

    /// Extends the grant by its TTL; [`Error::Lost`] when it is no longer held.
    pub fn renew(&self) -> Result<()> {
        self.grant.renew()
    }

    /// Gives the slot back, handing it to the first waiter. Idempotent.
    pub fn release(&self) -> Result<()> {
        self.grant.release()
    }

    /// Stops managing the grant without giving it back: no more renewal, and
    /// dropping does not release it. The record stays until it is renewed or
    /// released by holder name ([`Api::renew_holder`](crate::Api::renew_holder),
    /// [`Api::release_holder`](crate::Api::release_holder)), from this
    /// process or another, or expires at its TTL. For grants that outlive
    /// their process, as a shell script's steps do.
    pub fn keep(self) {
        self.disown();
    }

    /// [`Held::keep`] through a shared reference, for bindings that share
    /// the handle: no more renewal, and neither [`Held::release`] nor the
    /// drop gives the grant back.
    pub fn disown(&self) {
        self.grant.lock().released = true;
        self.grant.changed.notify_all();
    }

    /// `Ok` while the grant is ours by our own clock, without a request;
    /// [`Error::Lost`] (and the loss reported) once it expired unrenewed, was
    /// taken away or released. For work that must know it kept exclusivity.
    pub fn still_held(&self) -> Result<()> {
        self.grant.check_held()
    }
}

impl<K: Slotted> Drop for Held<K> {
    fn drop(&mut self) {
        let _ = self.grant.release();
    }
}

impl<K: Slotted> fmt::Debug for Held<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if K::KIND == "Semaphore" {
            "Permit"
        } else {
            K::KIND
        };
        f.debug_struct(kind)
            .field("name", &self.name())
            .field("holder", &self.holder())
            .field("token", &self.token())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Semaphore;
    use crate::{Client, Config};

    /// A grant from a client whose API server refuses every connection, so
    /// that nothing here can reach a cluster.
    fn grant(ttl: Duration, anchor: Instant, auto_renew: bool) -> Held<Semaphore> {
        let config = Config::new("https://127.0.0.1:1")
            .expect("URL")
            .with_namespace("ns");
        let client = Client::new(Some(config)).expect("client");
        let granted = Granted {
            holder: "me".to_owned(),
            token: 7,
            ttl,
            anchor,
            waited: Duration::ZERO,
            queue: None,
        };
        Held::new(Grant::new(client.shared, "s", granted, None), auto_renew)
    }

    /// A grant whose TTL ran out a second ago, without auto-renewal.
    fn expired() -> Held<Semaphore> {
        grant(
            Duration::from_secs(1),
            Instant::now() - Duration::from_secs(2),
            false,
        )
    }

    #[test]
    fn a_grant_runs_out_at_its_anchor_plus_ttl_by_our_clock() {
        let held = grant(Duration::from_secs(30), Instant::now(), false);
        assert!(!held.is_lost());
        let left = held
            .expires_at()
            .duration_since(SystemTime::now())
            .expect("in the future");
        assert!(
            left <= Duration::from_secs(30) && left > Duration::from_secs(25),
            "{left:?}"
        );
        let late = expired();
        assert!(
            late.is_lost(),
            "a grant past its deadline is lost without any request"
        );
    }

    #[test]
    fn renewing_after_the_deadline_is_lost_without_a_request() {
        let held = expired();
        let started = Instant::now();
        match held.renew() {
            Err(Error::Lost { reason, .. }) => assert!(reason.contains("TTL"), "{reason}"),
            other => panic!("expected Lost, got {other:?}"),
        }
        assert!(
            held.lost_token().is_cancelled(),
            "loss is told to whoever listens"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "no request was tried"
        );
    }

    #[test]
    fn a_renewal_that_cannot_reach_the_server_ends_lost_at_the_deadline() {
        let held = grant(Duration::from_millis(600), Instant::now(), false);
        let started = Instant::now();
        let result = held.renew();
        assert!(matches!(result, Err(Error::Lost { .. })), "{result:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn auto_renewal_against_a_dead_server_reports_the_loss_at_the_deadline() {
        let ttl = Duration::from_millis(600);
        let held = grant(ttl, Instant::now(), true);
        let lost = held.lost_token();
        let started = Instant::now();
        assert!(
            lost.wait(Some(Duration::from_secs(5))),
            "the loss is reported"
        );
        let took = started.elapsed();
        assert!(
            took >= ttl - Duration::from_millis(50) && took < ttl + Duration::from_secs(1),
            "reported after {took:?}"
        );
        assert!(held.is_lost());
    }

    #[test]
    fn a_release_that_did_not_reach_the_server_can_be_tried_again() {
        let held = expired();
        let started = Instant::now();
        let first = held.release();
        assert!(
            matches!(first, Err(Error::Transport { .. } | Error::Timeout { .. })),
            "{first:?}"
        );
        assert!(
            started.elapsed() >= RELEASE_BUDGET / 2,
            "it kept trying for its budget"
        );
        assert!(held.is_lost(), "asked to be given up, it counts as lost");
        let second = held.release();
        assert!(second.is_err(), "a second release tries again: {second:?}");
        assert!(held.is_lost());
    }
}
