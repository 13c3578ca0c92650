//! Reconciling barriers: open once enough holders arrived (if no client did
//! it already), fail once the timeout from creation has passed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::jiff::Timestamp;
use konductor::resource::Barrier;
use konductor::{BARRIER_FAILED, BARRIER_OPEN, BARRIER_WAITING};
use kube::api::DynamicObject;
use kube::runtime::controller::Action;

use crate::clock::{now_rfc3339, remaining};
use crate::conditions::{self, READY};
use crate::context::Context;
use crate::error::Result;
use crate::object::{decode, describe, replace_status, Written};

/// Status writes attempted per reconcile before leaving it to the next event.
const ATTEMPTS: usize = 5;

/// The status write (if any) for `barrier` at `now`, and when to look again.
pub fn plan(
    barrier: &Barrier,
    now: Timestamp,
    now_text: &str,
) -> (Option<Barrier>, Option<Duration>) {
    let mut updated = barrier.clone();
    let status = updated.status.get_or_insert_with(Default::default);
    status.arrived = status.arrivals.len() as u32;
    if status.phase.is_empty() {
        status.phase = BARRIER_WAITING.to_owned();
    }
    let threshold = barrier.spec.quorum.unwrap_or(barrier.spec.expected).max(1);
    let timeout = barrier
        .spec
        .timeout
        .as_deref()
        .map(konductor::parse_duration);
    let mut recheck = None;
    let mut problem = None;
    if status.phase == BARRIER_WAITING {
        if status.arrived >= threshold {
            status.phase = BARRIER_OPEN.to_owned();
            status.opened_at = Some(now_text.to_owned());
        } else {
            match timeout {
                Some(Ok(timeout)) => {
                    match remaining(barrier.metadata.creation_timestamp.as_deref(), timeout, now) {
                        Some(Duration::ZERO) => {
                            status.phase = BARRIER_FAILED.to_owned();
                            status.message = format!(
                                "timed out after {}: {} of {threshold} holders arrived",
                                konductor::format_duration(timeout),
                                status.arrived
                            );
                        }
                        Some(left) => recheck = Some(left),
                        None => problem = Some(
                            "metadata.creationTimestamp is missing; the timeout cannot be applied"
                                .to_owned(),
                        ),
                    }
                }
                Some(Err(error)) => problem = Some(format!("spec.timeout: {error}")),
                None => {}
            }
        }
    }
    let generation = barrier.metadata.generation;
    let status = updated.status.get_or_insert_with(Default::default);
    match problem {
        Some(problem) => conditions::set(
            &mut status.conditions,
            READY,
            false,
            "InvalidSpec",
            problem,
            generation,
            now_text,
        ),
        None => {
            let (reason, message) = match status.phase.as_str() {
                BARRIER_OPEN => ("Open", "the barrier is open".to_owned()),
                BARRIER_FAILED => ("TimedOut", status.message.clone()),
                _ => ("Waiting", format!("waiting for {threshold} arrivals")),
            };
            let ready = status.phase != BARRIER_FAILED;
            conditions::set(
                &mut status.conditions,
                READY,
                ready,
                reason,
                message,
                generation,
                now_text,
            );
        }
    }
    let changed = updated.status != barrier.status;
    (changed.then_some(updated), recheck)
}

/// Reconciles one barrier.
pub async fn reconcile(object: Arc<DynamicObject>, ctx: Arc<Context>) -> Result<Action> {
    let started = Instant::now();
    let result = reconcile_inner(&object, &ctx).await;
    ctx.metrics
        .reconciled("Barrier", started.elapsed(), result.is_err());
    result
}

async fn reconcile_inner(object: &DynamicObject, ctx: &Context) -> Result<Action> {
    let mut current: Barrier = decode(object)?;
    for _ in 0..ATTEMPTS {
        let (write, recheck) = plan(&current, Timestamp::now(), &now_rfc3339());
        let written = match write {
            None => current,
            Some(update) => match replace_status(&ctx.client, &update).await? {
                Written::Applied(written) => {
                    ctx.metrics.status_write("Barrier", false);
                    written
                }
                Written::Conflict(Some(fresh)) => {
                    ctx.metrics.status_write("Barrier", true);
                    current = fresh;
                    continue;
                }
                Written::Conflict(None) => {
                    ctx.forget(&current);
                    return Ok(Action::await_change());
                }
            },
        };
        report_phase(ctx, &written);
        return Ok(match recheck {
            Some(left) => Action::requeue(left + Duration::from_millis(1)),
            None => Action::await_change(),
        });
    }
    Ok(Action::requeue(Duration::from_millis(200)))
}

fn report_phase(ctx: &Context, barrier: &Barrier) {
    let Some(status) = &barrier.status else {
        return;
    };
    if ctx.phase_change(barrier, &status.phase).is_none() {
        return;
    }
    match status.phase.as_str() {
        BARRIER_OPEN => {
            tracing::info!(
                object = describe(barrier),
                arrived = status.arrived,
                "barrier opened"
            );
            ctx.event(
                barrier,
                false,
                "Opened",
                format!("{} holders arrived; the barrier is open", status.arrived),
            );
        }
        BARRIER_FAILED => {
            tracing::info!(
                object = describe(barrier),
                message = status.message,
                "barrier failed"
            );
            ctx.event(barrier, true, "Failed", status.message.clone());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use konductor::resource::{Arrival, BarrierSpec};

    fn barrier(
        expected: u32,
        quorum: Option<u32>,
        timeout: Option<&str>,
        arrived: &[&str],
    ) -> Barrier {
        let mut b = Barrier::new(
            "b",
            BarrierSpec {
                expected,
                quorum,
                timeout: timeout.map(Into::into),
            },
        );
        b.metadata.creation_timestamp = Some("2026-01-01T00:00:00Z".into());
        let status = b.status.get_or_insert_with(Default::default);
        for h in arrived {
            status.arrivals.push(Arrival {
                holder: (*h).into(),
                arrived_at: String::new(),
            });
        }
        b
    }

    fn at(secs: u64) -> Timestamp {
        Timestamp::from_second(1_767_225_600 + secs as i64).unwrap()
    }

    #[test]
    fn opens_at_quorum_and_records_when() {
        let (write, recheck) = plan(&barrier(3, Some(2), None, &["a", "b"]), at(1), "T");
        let status = write.unwrap().status.unwrap();
        assert_eq!(
            (
                status.phase.as_str(),
                status.arrived,
                status.opened_at.as_deref()
            ),
            ("Open", 2, Some("T"))
        );
        assert_eq!(recheck, None);
    }

    #[test]
    fn waits_until_the_timeout_then_fails_with_a_message() {
        let b = barrier(3, None, Some("30s"), &["a"]);
        let (write, recheck) = plan(&b, at(10), "T");
        assert_eq!(recheck, Some(Duration::from_secs(21)));
        let b = write.unwrap();
        assert_eq!(b.status.as_ref().unwrap().phase, "Waiting");
        let (write, _) = plan(&b, at(30), "T2");
        assert!(
            write.is_none(),
            "creation times have whole seconds: not failed yet"
        );
        let (write, _) = plan(&b, at(31), "T2");
        let status = write.unwrap().status.unwrap();
        assert_eq!(status.phase, "Failed");
        assert_eq!(
            status.message,
            "timed out after 30s: 1 of 3 holders arrived"
        );
    }

    #[test]
    fn an_open_barrier_never_fails_and_a_settled_one_is_not_rewritten() {
        let (write, _) = plan(&barrier(1, None, Some("1s"), &["a"]), at(1), "T");
        let open = write.unwrap();
        let (again, recheck) = plan(&open, at(100), "T3");
        assert!(again.is_none(), "nothing changes once open");
        assert_eq!(recheck, None);
    }
}
