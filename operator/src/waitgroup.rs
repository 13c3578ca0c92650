//! Reconciling wait groups: derive the counter, phase and `doneAt` from the
//! adds and done holders (if no client wrote them yet), publish an Event when
//! the counter reaches zero, and delete the wait group `spec.ttl` after that.

use std::time::{Duration, SystemTime};

use konductor::parse_rfc3339;
use konductor::resource::{Resource, WaitGroup, WaitGroupPhase, WaitGroupStatus};
use kube::api::{DeleteParams, Preconditions};
use kube::runtime::controller::Action;

use crate::clock::now_rfc3339;
use crate::context::Context;
use crate::error::{is_conflict, Error};
use crate::events::EventType;
use crate::object::{api, describe};
use crate::reconciler::{Decision, Reconciler};
use crate::status::{set_ready, ConditionStatus};

/// What to do with a wait group once its status stands as planned.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing until it changes.
    Idle,
    /// Its ttl runs out after this long: look again then.
    Recheck(Duration),
    /// Its ttl has run out since it reached zero: delete it.
    Delete,
}

/// The status write (if any) for `group` at `now`, and what comes next.
pub fn plan(group: &WaitGroup, now: SystemTime, now_text: &str) -> (Option<WaitGroup>, Next) {
    let mut updated = group.clone();
    let status = updated.status.get_or_insert_with(|| WaitGroupStatus {
        counter: group.spec.expected,
        ..WaitGroupStatus::default()
    });
    let done = u32::try_from(status.done_holders.len()).unwrap_or(u32::MAX);
    status.counter = group
        .spec
        .expected
        .saturating_add(status.added)
        .saturating_sub(done);
    let counter = status.counter;
    if counter == 0 {
        status.phase = Some(WaitGroupPhase::Done);
        if status.done_at.is_none() {
            status.done_at = Some(now_text.to_owned());
        }
    } else {
        status.phase = Some(WaitGroupPhase::Waiting);
        status.done_at = None;
    }
    let mut problem = None;
    let mut next = Next::Idle;
    if let (0, Some(ttl)) = (counter, group.spec.ttl.as_deref()) {
        let done_at = status.done_at.as_deref().and_then(parse_rfc3339);
        match (konductor::parse_duration(ttl), done_at) {
            (Err(error), _) => problem = Some(format!("spec.ttl: {error}")),
            (Ok(_), None) => problem = Some("status.doneAt is unreadable".to_owned()),
            (Ok(ttl), Some(done_at)) => {
                let deadline = done_at.checked_add(ttl).unwrap_or(done_at);
                next = match deadline.duration_since(now) {
                    Ok(left) if !left.is_zero() => Next::Recheck(left),
                    _ => Next::Delete,
                };
            }
        }
    }
    let (ready, reason, message) = match (problem, counter) {
        (Some(problem), _) => (ConditionStatus::False, "InvalidSpec", problem),
        (None, 0) => (
            ConditionStatus::True,
            "Done",
            format!("the counter is zero: {done} holders done"),
        ),
        (None, _) => (
            ConditionStatus::True,
            "Waiting",
            format!("waiting for the counter ({counter}) to reach zero"),
        ),
    };
    set_ready(&mut updated, group, ready, reason, message, now_text);
    let write = (updated != *group).then_some(updated);
    if write.is_some() && next == Next::Delete {
        // Written first: the delete is guarded by the version it decided on.
        next = Next::Recheck(Duration::ZERO);
    }
    (write, next)
}

/// Deletes `group` only as it was read: an `add` that raced the delete wins.
async fn delete(ctx: &Context, group: &WaitGroup) -> Result<(), Error> {
    let meta = group.metadata();
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            resource_version: Some(meta.resource_version.clone()),
            uid: Some(meta.uid.clone()),
        }),
        ..DeleteParams::default()
    };
    match api::<WaitGroup>(&ctx.client, &meta.namespace)
        .delete(&meta.name, &params)
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if is_conflict(&error) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(Error::kube(format!("delete {}", describe(group)), error)),
    }
}

impl Reconciler for WaitGroup {
    /// What comes after the write.
    type Note = Next;

    async fn decide(ctx: &Context, group: &WaitGroup) -> Decision<WaitGroup, Next> {
        let (write, next) = plan(group, SystemTime::now(), &now_rfc3339());
        if write.is_none() && next == Next::Delete {
            return match delete(ctx, group).await {
                Ok(()) => {
                    tracing::info!(object = describe(group), "deleted after its ttl");
                    Decision {
                        write: None,
                        note: Next::Idle,
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "wait group not deleted; retrying");
                    Decision {
                        write: None,
                        note: Next::Recheck(Duration::from_secs(1)),
                    }
                }
            };
        }
        Decision { write, note: next }
    }

    fn settled(ctx: &Context, group: &WaitGroup, next: Next) -> Action {
        let phase = group
            .status
            .as_ref()
            .and_then(|s| s.phase)
            .map_or("", |p| p.as_str());
        if ctx.phase_change(group, phase).is_some() && phase == WaitGroupPhase::Done.as_str() {
            let done = group.status.as_ref().map_or(0, |s| s.done_holders.len());
            tracing::info!(object = describe(group), "done");
            ctx.event(
                group,
                EventType::Normal,
                "Done",
                format!("the counter reached zero: {done} holders done"),
            );
        }
        match next {
            Next::Idle | Next::Delete => Action::await_change(),
            Next::Recheck(left) => Action::requeue(left + Duration::from_millis(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use konductor::resource::WaitGroupSpec;

    fn group(expected: u32, ttl: Option<&str>, done: &[&str]) -> WaitGroup {
        let mut g = WaitGroup::new(
            "w",
            WaitGroupSpec {
                expected,
                ttl: ttl.map(Into::into),
            },
        );
        if !done.is_empty() {
            g.status = Some(WaitGroupStatus {
                counter: expected - done.len() as u32,
                done_holders: done.iter().map(|h| (*h).to_owned()).collect(),
                ..WaitGroupStatus::default()
            });
        }
        g
    }

    fn at(secs: u64) -> SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(1_767_225_600 + secs)
    }

    #[test]
    fn a_new_wait_group_starts_waiting_at_expected() {
        let (write, next) = plan(&group(3, Some("1h"), &[]), at(0), "T");
        let status = write.unwrap().status.unwrap();
        assert_eq!(
            (status.counter, status.phase, status.done_at),
            (3, Some(WaitGroupPhase::Waiting), None)
        );
        assert_eq!(next, Next::Idle);
    }

    #[test]
    fn at_zero_it_is_done_and_deleted_after_its_ttl() {
        let (write, next) = plan(
            &group(2, Some("30s"), &["a", "b"]),
            at(0),
            "2026-01-01T00:00:00Z",
        );
        let done = write.unwrap();
        let status = done.status.as_ref().unwrap();
        assert_eq!(
            (status.counter, status.phase),
            (0, Some(WaitGroupPhase::Done))
        );
        assert_eq!(next, Next::Recheck(Duration::from_secs(30)));
        let (again, next) = plan(&done, at(10), "later");
        assert!(again.is_none(), "nothing to write once settled");
        assert_eq!(next, Next::Recheck(Duration::from_secs(20)));
        let (_, next) = plan(&done, at(30), "later");
        assert_eq!(next, Next::Delete);
    }

    #[test]
    fn without_a_ttl_a_done_wait_group_stays() {
        let (write, _) = plan(&group(1, None, &["a"]), at(0), "T");
        let (_, next) = plan(&write.unwrap(), at(100_000), "T2");
        assert_eq!(next, Next::Idle);
    }
}
