//! Barriers: holders arrive, and the barrier opens for all once enough did.

use std::time::{Duration, Instant};

use crate::api::shorthands;
use crate::backoff::after_lost_race;
use crate::client::Client;
use crate::duration::format_duration;
use crate::error::{Argument, Error, Result};
use crate::names::{validate_holder, validate_name};
use crate::options::{default_holder, Options};
use crate::resource::{Arrival, Barrier, BarrierPhase, BarrierSpec};
use crate::time::now_rfc3339;
use crate::wait::{wait_until, Check};

fn failed(barrier: &Barrier) -> Option<Error> {
    let status = barrier.status.as_ref()?;
    (status.phase == Some(BarrierPhase::Failed))
        .then(|| Error::failed("Barrier", &barrier.metadata.name, &status.message))
}

fn is_open(barrier: &Barrier) -> bool {
    barrier
        .status
        .as_ref()
        .is_some_and(|s| s.phase == Some(BarrierPhase::Open))
}

shorthands!(
    Barrier,
    "barrier",
    get_barrier,
    list_barriers,
    delete_barrier
);

impl Client {
    /// Creates a barrier that opens after `expected` arrivals (or `quorum`, if
    /// given) and fails if still closed `timeout` after creation.
    pub fn create_barrier(
        &self,
        name: &str,
        expected: u32,
        quorum: Option<u32>,
        timeout: Option<Duration>,
    ) -> Result<Barrier> {
        validate_name(name)?;
        if expected == 0 {
            return Err(Error::invalid(
                Argument::Expected,
                "0",
                "must be at least 1",
            ));
        }
        match quorum {
            Some(0) => return Err(Error::invalid(Argument::Quorum, "0", "must be at least 1")),
            Some(q) if q > expected => {
                return Err(Error::invalid(
                    Argument::Quorum,
                    q.to_string(),
                    format!("must not exceed expected ({expected})"),
                ))
            }
            _ => {}
        }
        let spec = BarrierSpec {
            expected,
            quorum,
            timeout: timeout.map(format_duration),
        };
        self.api().create(&Barrier::new(name, spec))
    }

    /// Records the arrival of the holder in `options` (idempotent per holder).
    /// The arrival that reaches the threshold opens the barrier. Returns the
    /// barrier as written. [`Error::Failed`] if the barrier already failed.
    pub fn arrive_barrier(&self, name: &str, options: &Options) -> Result<Barrier> {
        validate_name(name)?;
        let holder = options.holder.clone().unwrap_or_else(default_holder);
        validate_holder(&holder)?;
        let objects = self
            .shared
            .objects
            .until(options.request_deadline(Instant::now()));
        let mut races_lost = 0;
        loop {
            let mut barrier: Barrier = objects.get(self.namespace(), name)?;
            if let Some(error) = failed(&barrier) {
                return Err(error);
            }
            let threshold = barrier.spec.quorum.unwrap_or(barrier.spec.expected).max(1);
            let mut status = barrier.status.take().unwrap_or_default();
            let before = status.clone();
            if !status.arrivals.iter().any(|a| a.holder == holder) {
                status.arrivals.push(Arrival {
                    holder: holder.clone(),
                    arrived_at: now_rfc3339(),
                });
            }
            status.arrived = status.arrivals.len() as u32;
            if status.phase.is_none() {
                status.phase = Some(BarrierPhase::Waiting);
            }
            if status.arrived >= threshold && status.phase != Some(BarrierPhase::Open) {
                status.phase = Some(BarrierPhase::Open);
                status.opened_at = Some(now_rfc3339());
            }
            if status == before {
                barrier.status = Some(status);
                return Ok(barrier);
            }
            barrier.status = Some(status);
            match objects.replace_status(&barrier) {
                Ok(written) => return Ok(written),
                Err(error) if error.is_conflict() => {
                    races_lost += 1;
                    after_lost_race(races_lost);
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Waits until the barrier is open. [`Error::Failed`] if it fails
    /// (e.g. its timeout passed), [`Error::Timeout`], [`Error::Cancelled`].
    pub fn wait_barrier(&self, name: &str, options: &Options) -> Result<()> {
        validate_name(name)?;
        let holder = options.holder.clone().unwrap_or_default();
        wait_until::<Barrier, ()>(&self.shared, name, &holder, options, |barrier| {
            if is_open(barrier) {
                return Ok(Check::Done(()));
            }
            match failed(barrier) {
                Some(error) => Err(error),
                None => Ok(Check::Pending),
            }
        })
    }

    /// Arrives, waits until the barrier opens, then runs `work`: everyone
    /// starts `work` only once all expected holders are there.
    pub fn with_barrier<T, E: From<Error>>(
        &self,
        name: &str,
        options: &Options,
        work: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let options = match &options.holder {
            Some(_) => options.clone(),
            None => options.clone().holder(default_holder()),
        };
        self.arrive_barrier(name, &options)?;
        self.wait_barrier(name, &options)?;
        work()
    }
}
