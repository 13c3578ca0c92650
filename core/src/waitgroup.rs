//! Wait groups: a counter raised by `add`, lowered once per holder by
//! `done`, and waited on until it reaches zero, like Go's `sync.WaitGroup`
//! across processes.
//!
//! Every change is a guarded write of the wait group's status computed from
//! the version it read, retried after a conflict. Retries never count twice:
//! a `done` records its holder in `status.doneHolders` (a holder counts once,
//! for the wait group's whole life), and an `add` records its own ticket in
//! `status.addTickets` (the last [`WAITGROUP_ADD_TICKETS`]), so a call that
//! re-reads after a lost answer finds its own change and stops.

use std::time::{Duration, Instant};

use crate::acquire::{new_ticket, validate_ttl};
use crate::api::shorthands;
use crate::backoff::after_lost_race;
use crate::client::Client;
use crate::duration::format_duration;
use crate::error::{Argument, Error, Result};
use crate::names::{validate_holder, validate_name};
use crate::options::{default_holder, Options};
use crate::resource::{
    WaitGroup, WaitGroupPhase, WaitGroupSpec, WaitGroupStatus, MAX_WAITGROUP_COUNT,
    WAITGROUP_ADD_TICKETS,
};
use crate::time::now_rfc3339;
use crate::wait::{wait_until, Check};

shorthands!(
    WaitGroup,
    "wait group",
    get_waitgroup,
    list_waitgroups,
    delete_waitgroup
);

/// What one attempt decided.
enum Step {
    /// Write this status.
    Write(WaitGroupStatus),
    /// Nothing to write: the change is there already.
    Done,
}

/// The status as stored, or the one a wait group starts with.
fn status_of(group: &WaitGroup) -> WaitGroupStatus {
    group.status.clone().unwrap_or_else(|| WaitGroupStatus {
        counter: group.spec.expected,
        ..WaitGroupStatus::default()
    })
}

/// Sets the counter and the fields derived from it from `expected`, the
/// adds and the done holders. The caller has checked it does not go below
/// zero; saturating keeps a corrupt object from crashing us.
fn settle(expected: u32, status: &mut WaitGroupStatus) {
    let total = expected.saturating_add(status.added);
    let done = u32::try_from(status.done_holders.len()).unwrap_or(u32::MAX);
    status.counter = total.saturating_sub(done);
    if status.counter == 0 {
        if status.phase != Some(WaitGroupPhase::Done) || status.done_at.is_none() {
            status.done_at = Some(now_rfc3339());
        }
        status.phase = Some(WaitGroupPhase::Done);
    } else {
        status.phase = Some(WaitGroupPhase::Waiting);
        status.done_at = None;
    }
}

impl Client {
    /// Creates a wait group whose counter starts at `expected` (0 to
    /// [`MAX_WAITGROUP_COUNT`]); with a `ttl`, the operator deletes it that
    /// long after its counter reached zero.
    pub fn create_waitgroup(
        &self,
        name: &str,
        expected: u32,
        ttl: Option<Duration>,
    ) -> Result<WaitGroup> {
        validate_name(name)?;
        if expected > MAX_WAITGROUP_COUNT {
            return Err(Error::invalid(
                Argument::Expected,
                expected.to_string(),
                format!("must be at most {MAX_WAITGROUP_COUNT}"),
            ));
        }
        ttl.map_or(Ok(()), validate_ttl)?;
        let spec = WaitGroupSpec {
            expected,
            ttl: ttl.map(format_duration),
        };
        self.api().create(&WaitGroup::new(name, spec))
    }

    /// Raises the counter by `count` (at least 1), exactly once even if a
    /// write is retried within this call. (A caller that repeats the whole
    /// call after an error whose write may have landed — a timeout, a lost
    /// answer — may count twice: read the wait group first.) [`Error::Invalid`] (argument `count`) if the wait
    /// group's total (`spec.expected` plus every add) would pass
    /// [`MAX_WAITGROUP_COUNT`]. Returns the wait group as written.
    pub fn add_waitgroup(&self, name: &str, count: u32, options: &Options) -> Result<WaitGroup> {
        validate_name(name)?;
        if count == 0 || count > MAX_WAITGROUP_COUNT {
            return Err(Error::invalid(
                Argument::Count,
                count.to_string(),
                format!("must be between 1 and {MAX_WAITGROUP_COUNT}"),
            ));
        }
        let ticket = new_ticket();
        self.update_waitgroup(name, options, |group| {
            let mut status = status_of(group);
            if status.add_tickets.contains(&ticket) {
                return Ok(Step::Done);
            }
            let total = u64::from(group.spec.expected) + u64::from(status.added);
            if total + u64::from(count) > u64::from(MAX_WAITGROUP_COUNT) {
                return Err(Error::invalid(
                    Argument::Count,
                    count.to_string(),
                    format!(
                        "would raise the total of waitgroup {name} (expected {} plus added {}) \
                         to {}, over {MAX_WAITGROUP_COUNT}",
                        group.spec.expected,
                        status.added,
                        total + u64::from(count)
                    ),
                ));
            }
            status.added += count;
            status.add_tickets.push(ticket.clone());
            let excess = status
                .add_tickets
                .len()
                .saturating_sub(WAITGROUP_ADD_TICKETS);
            status.add_tickets.drain(..excess);
            settle(group.spec.expected, &mut status);
            Ok(Step::Write(status))
        })
    }

    /// Lowers the counter by one for the holder in `options` (default: a new
    /// identity for this call), once per holder: a holder that already
    /// called done counts nothing, so a retry cannot release waiters early.
    /// Give a holder you will reuse when you may repeat the call after an
    /// error: a repeat under the default (new) identity counts again.
    /// [`Error::BelowZero`] if the counter is zero. Returns the wait group
    /// as written.
    pub fn done_waitgroup(&self, name: &str, options: &Options) -> Result<WaitGroup> {
        validate_name(name)?;
        let holder = options.holder.clone().unwrap_or_else(default_holder);
        validate_holder(&holder)?;
        self.update_waitgroup(name, options, |group| {
            let mut status = status_of(group);
            if status.done_holders.contains(&holder) {
                return Ok(Step::Done);
            }
            if status.counter == 0 {
                return Err(Error::BelowZero {
                    kind: "WaitGroup",
                    name: name.to_owned(),
                    holder: holder.clone(),
                    counter: status.counter,
                    done: u32::try_from(status.done_holders.len()).unwrap_or(u32::MAX),
                });
            }
            status.done_holders.push(holder.clone());
            settle(group.spec.expected, &mut status);
            Ok(Step::Write(status))
        })
    }

    /// Waits until the counter is zero (returns at once if it is), woken by
    /// the object's watch. [`Error::Timeout`], [`Error::Cancelled`],
    /// [`Error::NotFound`] if it is deleted meanwhile.
    pub fn wait_waitgroup(&self, name: &str, options: &Options) -> Result<()> {
        validate_name(name)?;
        let holder = options.holder.clone().unwrap_or_default();
        wait_until::<WaitGroup, ()>(&self.shared, name, &holder, options, |group| {
            Ok(match group.counter() {
                0 => Check::Done(()),
                _ => Check::Pending,
            })
        })
    }

    /// Reads the wait group, lets `decide` compute its new status, and
    /// writes it guarded by what was read, again after every conflict until
    /// the call's deadline.
    fn update_waitgroup(
        &self,
        name: &str,
        options: &Options,
        mut decide: impl FnMut(&WaitGroup) -> Result<Step>,
    ) -> Result<WaitGroup> {
        let started = Instant::now();
        let objects = self.shared.objects.until(options.request_deadline(started));
        let mut races_lost = 0;
        loop {
            let group: WaitGroup = objects.get(self.namespace(), name)?;
            let status = match decide(&group)? {
                Step::Done => return Ok(group),
                Step::Write(status) => status,
            };
            let mut new = group.clone();
            new.status = Some(status);
            match objects.write_status(&group, &new) {
                Ok(written) => return Ok(written),
                Err(error) if error.is_conflict() => {
                    if options.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
                        return Err(Error::Cancelled {
                            what: format!("waitgroup {}/{name}", self.namespace()),
                        });
                    }
                    races_lost += 1;
                    after_lost_race(races_lost);
                }
                Err(error) => return Err(error),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(added: u32, done: &[&str]) -> WaitGroupStatus {
        WaitGroupStatus {
            added,
            done_holders: done.iter().map(|h| (*h).to_owned()).collect(),
            ..WaitGroupStatus::default()
        }
    }

    #[test]
    fn the_counter_is_expected_plus_added_minus_the_done_holders() {
        let mut s = status(2, &["a"]);
        settle(3, &mut s);
        assert_eq!(s.counter, 4, "3 + 2 - 1: {s:?}");
        assert_eq!(s.phase, Some(WaitGroupPhase::Waiting));
        assert_eq!(s.done_at, None);
    }

    #[test]
    fn reaching_zero_is_done_with_a_time_and_rising_again_clears_it() {
        let mut s = status(0, &["a", "b"]);
        settle(2, &mut s);
        assert_eq!((s.counter, s.phase), (0, Some(WaitGroupPhase::Done)));
        let first = s.done_at.clone();
        assert!(first.is_some());
        settle(2, &mut s);
        assert_eq!(
            s.done_at, first,
            "settling again keeps the time it reached zero"
        );
        s.added = 1;
        settle(2, &mut s);
        assert_eq!((s.counter, s.phase), (1, Some(WaitGroupPhase::Waiting)));
        assert_eq!(s.done_at, None);
    }

    #[test]
    fn a_corrupt_status_saturates_instead_of_panicking() {
        let mut s = status(u32::MAX, &["a", "b", "c"]);
        settle(u32::MAX, &mut s);
        assert_eq!(s.counter, u32::MAX - 3);
        let mut s = status(0, &["a", "b", "c"]);
        settle(1, &mut s);
        assert_eq!(s.counter, 0);
    }
}
