//! Reconciling barriers: open once enough holders arrived (if no client did
//! it already), fail once the timeout from creation has passed.

use std::time::{Duration, SystemTime};

use konductor::resource::Barrier;
use konductor::resource::BarrierPhase;
use kube::runtime::controller::Action;

use crate::clock::{deadline, now_rfc3339};
use crate::context::Context;
use crate::reconciler::{Decision, Reconciler};
use crate::status::set_ready_by_phase;

/// The status write (if any) for `barrier` at `now`, and when to look again.
pub fn plan(
    barrier: &Barrier,
    now: SystemTime,
    now_text: &str,
) -> (Option<Barrier>, Option<Duration>) {
    let mut updated = barrier.clone();
    let status = updated.status.get_or_insert_with(Default::default);
    status.arrived = status.arrivals.len() as u32;
    if status.phase.is_none() {
        status.phase = Some(BarrierPhase::Waiting);
    }
    let threshold = barrier.spec.quorum.unwrap_or(barrier.spec.expected).max(1);
    let mut recheck = None;
    let mut problem = None;
    if status.phase == Some(BarrierPhase::Waiting) {
        if status.arrived >= threshold {
            status.phase = Some(BarrierPhase::Open);
            status.opened_at = Some(now_text.to_owned());
        } else {
            let timeout = barrier.spec.timeout.as_deref();
            (recheck, problem) = deadline(barrier, timeout, now).split(|timed_out| {
                status.phase = Some(BarrierPhase::Failed);
                let arrived = status.arrived;
                status.message = format!("{timed_out}: {arrived} of {threshold} holders arrived");
            });
        }
    }
    set_ready_by_phase(
        &mut updated,
        barrier,
        problem,
        "the barrier is open",
        format!("waiting for {threshold} arrivals"),
        now_text,
    );
    ((updated != *barrier).then_some(updated), recheck)
}

impl Reconciler for Barrier {
    /// When the timeout needs a look again.
    type Note = Option<Duration>;

    async fn decide(_ctx: &Context, barrier: &Barrier) -> Decision<Barrier, Option<Duration>> {
        let (write, recheck) = plan(barrier, SystemTime::now(), &now_rfc3339());
        Decision {
            write,
            note: recheck,
        }
    }

    fn settled(ctx: &Context, barrier: &Barrier, recheck: Option<Duration>) -> Action {
        let arrived = barrier.status.as_ref().map_or(0, |s| s.arrived);
        let opened = format!("{arrived} holders arrived; the barrier is open");
        ctx.report_final_phase(barrier, opened);
        match recheck {
            Some(left) => Action::requeue(left + Duration::from_millis(1)),
            None => Action::await_change(),
        }
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

    fn at(secs: u64) -> SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(1_767_225_600 + secs)
    }

    #[test]
    fn opens_at_quorum_and_records_when() {
        let (write, recheck) = plan(&barrier(3, Some(2), None, &["a", "b"]), at(1), "T");
        let status = write.unwrap().status.unwrap();
        assert_eq!(
            (status.phase, status.arrived, status.opened_at.as_deref()),
            (Some(BarrierPhase::Open), 2, Some("T"))
        );
        assert_eq!(recheck, None);
    }

    #[test]
    fn waits_until_the_timeout_then_fails_with_a_message() {
        let b = barrier(3, None, Some("30s"), &["a"]);
        let (write, recheck) = plan(&b, at(10), "T");
        assert_eq!(recheck, Some(Duration::from_secs(21)));
        let b = write.unwrap();
        assert_eq!(
            b.status.as_ref().unwrap().phase,
            Some(BarrierPhase::Waiting)
        );
        let (write, _) = plan(&b, at(30), "T2");
        assert!(
            write.is_none(),
            "creation times have whole seconds: not failed yet"
        );
        let (write, _) = plan(&b, at(31), "T2");
        let status = write.unwrap().status.unwrap();
        assert_eq!(status.phase, Some(BarrierPhase::Failed));
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
