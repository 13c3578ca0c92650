//! Onces: work that runs in exactly one caller across the cluster, while
//! every other caller waits for its outcome.
//!
//! The executor holds the once as a lease holds its holder (the same
//! [`Slotted`] protocol: one guarded write takes it, a TTL, renewal in the
//! background, a fencing token), so a crashed executor is reclaimed after
//! its TTL and the next caller runs the work. The outcome is written in the
//! same guarded write that gives the grant back: `Done` (nobody runs it
//! again) or `Failed` with the executor's message (final, or run again by
//! the next caller when `spec.onFailure` is `Retry`). A done or finally
//! failed once has no free slot, so no claim can slip in after it finished.

use std::time::{Duration, Instant};

use crate::acquire::{observe, validate_ttl, Slotted};
use crate::api::shorthands;
use crate::backoff::after_lost_race;
use crate::client::Client;
use crate::duration::{format_duration, ttl_or_default};
use crate::error::{Error, Result};
use crate::held::Held;
use crate::lease::{current_holder, single_slots, store_single};
use crate::names::{validate_holder, validate_name};
use crate::options::{default_holder, Options, DEFAULT_TTL};
use crate::resource::{OnFailure, Once, OncePhase, OnceSpec};
use crate::slots::Slots;
use crate::time::now_rfc3339;
use crate::wait::{wait_until, Check};

/// The longest failure message recorded (longer ones are cut, marked `…`).
pub const MAX_MESSAGE: usize = 4096;

/// The shortest wait between two looks at a once another caller runs.
const MIN_LOOK: Duration = Duration::from_millis(10);

/// How long recording the outcome may take after the work returned (at
/// least; the run's TTL when longer).
const RECORD_BUDGET: Duration = Duration::from_secs(30);

/// The executor's grant while it runs the work (see [`Held`]: its fencing
/// token, its loss signal). Do not release it from the work: that would
/// let the next caller start the work while it still runs.
pub type OnceRun = Held<Once>;

/// True when the once takes no more runs.
fn finished(once: &Once) -> bool {
    let status = once.status.as_ref();
    match status.and_then(|s| s.phase) {
        Some(OncePhase::Done) => true,
        Some(OncePhase::Failed) => once.spec.on_failure != Some(OnFailure::Retry),
        _ => false,
    }
}

/// The outcome of a finished once: `Ok` when done, its recorded failure
/// when that is final; `None` while it may still run.
fn outcome(once: &Once) -> Option<Result<()>> {
    if !finished(once) {
        return None;
    }
    let status = once.status.as_ref();
    Some(match status.and_then(|s| s.phase) {
        Some(OncePhase::Failed) => Err(Error::failed(
            "Once",
            once.name(),
            status.and_then(|s| s.message.as_deref()).unwrap_or(""),
        )),
        _ => Ok(()),
    })
}

/// Waits before the next look after the API server failed to answer: a
/// second, doubling to at most 8 s, never past `deadline`, ended early by
/// the caller's cancel token.
fn pause(options: &Options, deadline: Option<Instant>, troubles: u32) {
    let mut pause = Duration::from_secs(1 << troubles.saturating_sub(1).min(3));
    if let Some(deadline) = deadline {
        pause = pause.min(deadline.saturating_duration_since(Instant::now()));
    }
    match &options.cancel {
        Some(cancel) => {
            cancel.wait(Some(pause));
        }
        None => std::thread::sleep(pause),
    }
}

impl Slotted for Once {
    fn slots(&self) -> Slots {
        let executor = self.status.as_ref().and_then(|s| s.executor.as_ref());
        let mut slots = single_slots(executor);
        if finished(self) {
            slots.capacity = 0;
        }
        slots
    }

    fn store(&mut self, slots: Slots) {
        let status = self.status.get_or_insert_with(Default::default);
        store_single(&mut status.executor, slots);
        let executor = status.executor.as_ref();
        if let Some(started) = executor.filter(|e| e.holder.is_some()) {
            status.phase = Some(OncePhase::Running);
            status.started_at = started.acquired_at.clone();
        } else if matches!(status.phase, None | Some(OncePhase::Running)) {
            status.phase = Some(OncePhase::Pending);
        }
    }

    fn default_ttl(&self) -> Result<Duration> {
        ttl_or_default(self.spec.ttl.as_deref())
    }

    fn busy(name: &str, slots: &Slots) -> Error {
        Error::Locked {
            kind: "once",
            name: name.to_owned(),
            holder: current_holder(slots),
        }
    }
}

shorthands!(Once, "once", get_once, list_onces, delete_once);

/// What a caller waiting for a once learned.
enum Next {
    /// It finished: nothing to run.
    Finished,
    /// Nobody runs it (or its executor may be stale): try to claim it.
    Claim,
}

impl Client {
    /// Creates a once whose runs last `ttl` unrenewed (default 5 minutes;
    /// the executor renews while it runs) and that, after a failed run,
    /// fails every caller (`OnFailure::Final`, the default) or runs again
    /// (`OnFailure::Retry`).
    pub fn create_once(
        &self,
        name: &str,
        ttl: Option<Duration>,
        on_failure: Option<OnFailure>,
    ) -> Result<Once> {
        ttl.map_or(Ok(()), validate_ttl)?;
        let spec = OnceSpec {
            ttl: ttl.map(format_duration),
            on_failure,
        };
        self.api().create(&Once::new(name, spec))
    }

    /// Runs `work` in exactly one caller of the once `name` across the
    /// cluster: `Ok(Some(value))` in the caller that ran it, `Ok(None)` in
    /// every caller that found it done (waiting, as `options.timeout`
    /// allows, while another caller runs it).
    ///
    /// The executor holds the once while `work` runs, renewed in the
    /// background at a third of the TTL; `run.lost_token()` fires if that
    /// fails. If the executor dies, the once is free again after its TTL (by
    /// the operator, or by a waiting caller's own clock) and the next caller
    /// runs `work`. A failed run (`work` returns `Err`) is recorded with the
    /// error's message: later callers get [`Error::Failed`] naming it,
    /// unless the once was created with [`OnFailure::Retry`], when the next
    /// caller runs `work` again. The executor itself gets `work`'s error.
    ///
    /// Errors: [`Error::Failed`] (a recorded failure), [`Error::Timeout`],
    /// [`Error::Cancelled`], [`Error::NotFound`]; [`Error::Lost`] when the
    /// executor lost the once while `work` ran (its result is then not
    /// recorded: another caller may have run `work` too).
    ///
    /// Exactly once holds while executors live to record their outcome and
    /// renew within their TTL. An executor that dies after `work` finished
    /// but before its outcome was written, or that stalls (a pause longer
    /// than the TTL), lets the next caller run `work` again: make `work`
    /// safe to repeat, and pass the run's [`Held::token`] to what it writes so a
    /// stale executor's writes can be refused. Give each caller its own
    /// holder name (the default is unique): callers sharing one wait for
    /// each other's records. A panic in `work` records nothing: the once is
    /// given back and the next caller runs it.
    pub fn do_once<T, E>(
        &self,
        name: &str,
        options: &Options,
        work: impl FnOnce(&OnceRun) -> std::result::Result<T, E>,
    ) -> std::result::Result<Option<T>, E>
    where
        E: From<Error> + std::fmt::Display,
    {
        match self.claim_once(name, options)? {
            Some(run) => self.execute(run, work).map(Some),
            None => Ok(None),
        }
    }

    /// The first half of [`Client::do_once`], for callers that run the work
    /// themselves: `Some(run)` when this caller is now the executor (run the
    /// work, then [`Client::finish_once`]), `None` when the once is done.
    /// Waits while another caller runs it; errors as `do_once`.
    pub fn claim_once(&self, name: &str, options: &Options) -> Result<Option<OnceRun>> {
        validate_name(name)?;
        let holder = options.holder.clone().unwrap_or_else(default_holder);
        validate_holder(&holder)?;
        if let Some(ttl) = options.ttl {
            validate_ttl(ttl)?;
        }
        let started = Instant::now();
        let deadline = options.deadline(started);
        let mut claim = options
            .clone()
            .holder(holder.clone())
            .auto_renew(true)
            .timeout(Duration::ZERO);
        // A look at a once another caller runs is no error to report.
        claim.observer = None;
        let what = format!("once {}/{}", self.namespace(), name);
        let timeout = || Error::Timeout {
            what: what.clone(),
            waited: started.elapsed(),
        };
        let mut troubles = 0;
        loop {
            if options.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
                return Err(Error::Cancelled { what });
            }
            let claimed = self.api::<Once>().acquire(name, &claim);
            let read = match claimed {
                Ok(run) => return Ok(Some(run)),
                // Someone else runs it, it finished, or our holder name is
                // still recorded from a run that died: look at it.
                Err(Error::Locked { .. } | Error::AlreadyHeld { .. }) => self
                    .shared
                    .objects
                    .until(options.request_deadline(Instant::now()))
                    .get::<Once>(self.namespace(), name),
                Err(error) => Err(error),
            };
            let once = match read {
                Ok(once) => once,
                // The API server is briefly away: look again after a pause,
                // until the caller's deadline.
                Err(error) if error.is_retryable() || matches!(error, Error::Timeout { .. }) => {
                    troubles += 1;
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(timeout());
                    }
                    pause(options, deadline, troubles);
                    continue;
                }
                Err(error) => return Err(error),
            };
            troubles = 0;
            if let Some(outcome) = outcome(&once) {
                return outcome.map(|()| None);
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Err(timeout());
            }
            // Look again when the executor turns stale by our own clock
            // (seen unrenewed for its TTL plus a margin): the next claim
            // evicts it then. A renewal meanwhile only means another look.
            let ttl = once.default_ttl().unwrap_or(DEFAULT_TTL);
            let verdict = observe(&self.shared.staleness, &once, &once.slots(), ttl);
            let slice = verdict
                .next_expiry
                .map_or(ttl, |at| at.saturating_duration_since(now))
                .max(MIN_LOOK);
            let slice = deadline.map_or(slice, |d| slice.min(d.saturating_duration_since(now)));
            let mut wait = options.clone().holder(holder.clone()).timeout(slice);
            wait.observer = None;
            let next = wait_until::<Once, Next>(&self.shared, name, &holder, &wait, |once| {
                // Each renewal seen restarts the executor's staleness clock.
                observe(&self.shared.staleness, once, &once.slots(), ttl);
                if let Some(outcome) = outcome(once) {
                    return outcome.map(|()| Check::Done(Next::Finished));
                }
                let running = once
                    .status
                    .as_ref()
                    .and_then(|s| s.executor.as_ref())
                    .is_some_and(|e| e.holder.is_some());
                Ok(if running {
                    Check::Pending
                } else {
                    Check::Done(Next::Claim)
                })
            });
            match next {
                Ok(Next::Finished) => return Ok(None),
                Ok(Next::Claim) => {}
                Err(error) if error.is_retryable() || matches!(error, Error::Timeout { .. }) => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// Runs `work` as the executor and records its outcome.
    fn execute<T, E>(
        &self,
        run: OnceRun,
        work: impl FnOnce(&OnceRun) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<Error> + std::fmt::Display,
    {
        let result = work(&run);
        let failure = result.as_ref().err().map(|e| e.to_string());
        match self.finish_once(run, failure.as_deref()) {
            Err(error) if result.is_ok() => Err(error.into()),
            _ => result,
        }
    }

    /// Records the outcome of the run `run` (the second half of
    /// [`Client::do_once`]): done when `failure` is `None`, else failed with
    /// that message (cut to [`MAX_MESSAGE`]); the grant is given back in
    /// the same write. [`Error::Lost`] when the run is no longer the
    /// executor (its outcome is then not recorded).
    ///
    /// When the outcome cannot be written (the API server stays away for
    /// the longer of 30 s and the run's TTL), the grant is left to lapse at
    /// its TTL rather than given back, and the error returned: the next
    /// caller then runs the work again, so work guarded by a once must be
    /// safe to run again (fenced by its token) — it runs at least once, and
    /// exactly once whenever its executor lives to record the outcome.
    pub fn finish_once(&self, run: OnceRun, failure: Option<&str>) -> Result<()> {
        let budget = RECORD_BUDGET.max(run.ttl());
        let recorded = self.record_outcome(
            run.name(),
            run.holder(),
            run.token(),
            failure.map(clip),
            budget,
        );
        match &recorded {
            // Not ours any more: nothing to give back.
            Err(Error::Lost { .. }) => drop(run),
            // The outcome's write gave the grant back; or it could not be
            // written, and giving the grant back would let the next caller
            // start the work at once.
            _ => run.keep(),
        }
        recorded
    }

    /// [`Client::finish_once`] for a run known by its holder and fencing
    /// token, from any process (as a binding that keeps the grant itself).
    pub fn finish_once_as(
        &self,
        name: &str,
        holder: &str,
        token: u64,
        failure: Option<&str>,
    ) -> Result<()> {
        validate_name(name)?;
        validate_holder(holder)?;
        self.record_outcome(name, holder, token, failure.map(clip), RECORD_BUDGET)
    }

    /// Writes `Done` (no message) or `Failed` with `message`, giving the
    /// executor's grant back in the same guarded write. A write whose answer
    /// was lost is recognised on the next read. [`Error::Lost`] when the
    /// grant is no longer ours.
    fn record_outcome(
        &self,
        name: &str,
        holder: &str,
        token: u64,
        message: Option<String>,
        budget: Duration,
    ) -> Result<()> {
        let objects = self
            .shared
            .objects
            .until(Instant::now().checked_add(budget));
        let phase = match message {
            None => OncePhase::Done,
            Some(_) => OncePhase::Failed,
        };
        let mut races_lost = 0;
        loop {
            let mut once: Once = match objects.get(self.namespace(), name) {
                Ok(once) => once,
                Err(error) if error.is_retryable() => {
                    races_lost += 1;
                    after_lost_race(races_lost);
                    continue;
                }
                Err(error) => return Err(error),
            };
            let mut status = once.status.clone().unwrap_or_default();
            let fencing = status.executor.as_ref().map_or(0, |e| e.transitions);
            if status.phase == Some(phase)
                && status.ran_by.as_deref() == Some(holder)
                && fencing == token
            {
                return Ok(()); // Our earlier write landed; its answer was lost.
            }
            let mut slots = once.slots();
            if !slots.remove(holder, Some(token)) {
                return Err(Error::Lost {
                    kind: "Once",
                    name: name.to_owned(),
                    holder: holder.to_owned(),
                    reason: "another executor took it over before the work finished \
                             (its outcome was not recorded)"
                        .to_owned(),
                });
            }
            status.phase = Some(phase);
            status.ran_by = Some(holder.to_owned());
            status.finished_at = Some(now_rfc3339());
            // A done run clears the message of a failed one before it.
            status.message = message.clone();
            once.status = Some(status);
            once.store(slots);
            match objects.replace_status(&once) {
                Ok(_) => return Ok(()),
                Err(error) if error.is_conflict() || error.is_retryable() => {
                    races_lost += 1;
                    after_lost_race(races_lost);
                }
                Err(error) => return Err(error),
            }
        }
    }
}

/// `message` cut to at most [`MAX_MESSAGE`] bytes on a character boundary.
fn clip(message: &str) -> String {
    if message.len() <= MAX_MESSAGE {
        return message.to_owned();
    }
    let mut end = MAX_MESSAGE - '…'.len_utf8();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{LeaseStatus, OnceStatus};

    fn once(phase: Option<OncePhase>, on_failure: Option<OnFailure>, holder: Option<&str>) -> Once {
        let mut once = Once::new(
            "o",
            OnceSpec {
                ttl: None,
                on_failure,
            },
        );
        once.status = Some(OnceStatus {
            phase,
            executor: Some(LeaseStatus {
                holder: holder.map(str::to_owned),
                transitions: 3,
                ..LeaseStatus::default()
            }),
            ..OnceStatus::default()
        });
        once
    }

    #[test]
    fn a_finished_once_has_no_slot_to_claim() {
        assert_eq!(once(Some(OncePhase::Done), None, None).slots().capacity, 0);
        let failed = once(Some(OncePhase::Failed), None, None);
        assert_eq!(failed.slots().capacity, 0, "a failure is final by default");
        let retried = once(Some(OncePhase::Failed), Some(OnFailure::Retry), None);
        assert_eq!(retried.slots().capacity, 1);
        assert_eq!(once(None, None, None).slots().capacity, 1);
        assert_eq!(once(Some(OncePhase::Pending), None, None).slots().free(), 1);
    }

    #[test]
    fn storing_a_holder_runs_it_and_losing_one_makes_it_pending_again() {
        let mut o = once(Some(OncePhase::Pending), None, None);
        let mut slots = o.slots();
        let token = slots.take("a", "ticket", 0, "30s", "2026-12-01T00:00:00Z", None);
        o.store(slots);
        let status = o.status.clone().unwrap();
        assert_eq!(status.phase, Some(OncePhase::Running));
        assert_eq!(status.started_at.as_deref(), Some("2026-12-01T00:00:00Z"));
        assert_eq!(token, 4, "the fencing token continues");
        let mut slots = o.slots();
        assert!(slots.remove("a", Some(token)));
        o.store(slots);
        assert_eq!(o.status.unwrap().phase, Some(OncePhase::Pending));
    }

    #[test]
    fn an_outcome_survives_the_grant_given_back() {
        let mut o = once(Some(OncePhase::Done), None, Some("a"));
        let mut slots = o.slots();
        slots.remove("a", None);
        o.store(slots);
        assert_eq!(o.status.unwrap().phase, Some(OncePhase::Done));
    }

    #[test]
    fn long_messages_are_clipped_on_a_character_boundary() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(MAX_MESSAGE);
        let clipped = clip(&long);
        assert!(clipped.len() <= MAX_MESSAGE && clipped.ends_with('…'));
    }
}
