//! Reconciling gates: evaluate every condition, open when all hold, fail
//! once the timeout from creation has passed. Open and Failed are final.

use std::time::{Duration, SystemTime};

use futures::future::join_all;
use k8s_openapi::api::batch::v1::Job;
use konductor::resource::GatePhase;
use konductor::resource::{self as r, ConditionKind, Gate, GateConditionStatus, Resource};
use kube::runtime::controller::Action;
use kube::Api;

use crate::clock::{deadline, now_rfc3339};
use crate::context::Context;
use crate::error::Error;
use crate::gate_conditions::{evaluate, Found};
use crate::gate_index::{targets, Target};
use crate::object;
use crate::reconciler::{Decision, Reconciler};
use crate::status::set_ready_by_phase;

/// How often a gate is evaluated again when it names objects in namespaces
/// this operator does not watch (their changes reach it by no event).
const UNWATCHED_POLL: Duration = Duration::from_secs(5);

fn is_final(gate: &Gate) -> bool {
    gate.status
        .as_ref()
        .is_some_and(|s| matches!(s.phase, Some(GatePhase::Open | GatePhase::Failed)))
}

/// The status write (if any) for `gate` given the evaluation of its
/// conditions at `now`, and when the timeout needs a look again.
pub fn plan(
    gate: &Gate,
    evaluated: Vec<GateConditionStatus>,
    now: SystemTime,
    now_text: &str,
) -> (Option<Gate>, Option<Duration>) {
    if is_final(gate) {
        return (None, None);
    }
    let mut updated = gate.clone();
    let status = updated.status.get_or_insert_with(Default::default);
    let unmet: Vec<&str> = evaluated
        .iter()
        .filter(|c| !c.met)
        .map(|c| c.message.as_str())
        .collect();
    let summary = unmet.join("; ");
    let mut recheck = None;
    let mut problem = None;
    if unmet.is_empty() {
        status.phase = Some(GatePhase::Open);
        status.opened_at = Some(now_text.to_owned());
        status.message.clear();
    } else {
        status.phase = Some(GatePhase::Waiting);
        let timeout = gate.spec.timeout.as_deref();
        (recheck, problem) = deadline(gate, timeout, now).split(|timed_out| {
            status.phase = Some(GatePhase::Failed);
            status.message = format!("{timed_out}: {summary}");
        });
    }
    status.condition_statuses = evaluated;
    set_ready_by_phase(
        &mut updated,
        gate,
        problem,
        "every condition holds",
        format!("waiting for: {summary}"),
        now_text,
    );
    ((updated != *gate).then_some(updated), recheck)
}

/// What a gate's decision passes on: what it named, and when its timeout needs a look.
pub struct Evaluated {
    targets: Vec<Target>,
    recheck: Option<Duration>,
}

impl Reconciler for Gate {
    type Note = Evaluated;

    async fn decide(ctx: &Context, gate: &Gate) -> Decision<Gate, Evaluated> {
        if is_final(gate) {
            let note = Evaluated {
                targets: Vec::new(),
                recheck: None,
            };
            return Decision { write: None, note };
        }
        // Index first, read second: a change after the index update triggers
        // another reconcile, a change before it is in what we read.
        let targets = targets(gate);
        ctx.gates.set(gate, targets.clone());
        let found = join_all(targets.iter().map(|t| fetch(ctx, t))).await;
        let evaluated = gate
            .spec
            .conditions
            .iter()
            .zip(&found)
            .map(|(condition, found)| match found {
                Ok(found) => evaluate(condition, &gate.metadata.namespace, found),
                Err(message) => GateConditionStatus {
                    type_: condition.type_,
                    name: condition.name.clone(),
                    namespace: condition.namespace.clone(),
                    met: false,
                    message: message.clone(),
                },
            })
            .collect();
        let (write, recheck) = plan(gate, evaluated, SystemTime::now(), &now_rfc3339());
        Decision {
            write,
            note: Evaluated { targets, recheck },
        }
    }

    fn settled(ctx: &Context, gate: &Gate, evaluated: Evaluated) -> Action {
        let opened = "every condition holds; the gate is open".to_owned();
        ctx.report_final_phase(gate, opened);
        if is_final(gate) {
            ctx.gates
                .remove(&gate.metadata.namespace, &gate.metadata.name);
            return Action::await_change();
        }
        let unwatched = evaluated
            .targets
            .iter()
            .any(|t| !ctx.watches_namespace(&t.namespace));
        let poll = unwatched.then_some(UNWATCHED_POLL);
        match [evaluated.recheck, poll].into_iter().flatten().min() {
            Some(after) => Action::requeue(after + Duration::from_millis(1)),
            None => Action::await_change(),
        }
    }

    fn deleted(ctx: &Context, gate: &Gate) {
        ctx.gates
            .remove(&gate.metadata.namespace, &gate.metadata.name);
        ctx.forget(gate);
    }
}

/// Reads the object a condition names; an error becomes the condition's message.
async fn fetch(ctx: &Context, target: &Target) -> Result<Found, String> {
    Ok(match target.kind {
        ConditionKind::Job => {
            let api: Api<Job> = Api::namespaced(ctx.client.clone(), &target.namespace);
            let job = api
                .get_opt(&target.name)
                .await
                .map_err(|e| unreadable(target, Error::kube("read job", e)))?;
            Found::Job(job.map(Box::new))
        }
        ConditionKind::Semaphore => Found::Semaphore(read::<r::Semaphore>(ctx, target).await?),
        ConditionKind::Barrier => Found::Barrier(read::<r::Barrier>(ctx, target).await?),
        ConditionKind::Lease => Found::Lease(read::<r::Lease>(ctx, target).await?),
        ConditionKind::Mutex => Found::Mutex(read::<r::Mutex>(ctx, target).await?),
        ConditionKind::Once => Found::Once(read::<r::Once>(ctx, target).await?),
        ConditionKind::WaitGroup => Found::WaitGroup(read::<r::WaitGroup>(ctx, target).await?),
        ConditionKind::Gate => Found::Gate(read::<r::Gate>(ctx, target).await?),
    })
}

/// Reads a Konductor object a condition names.
async fn read<K: Resource>(ctx: &Context, target: &Target) -> Result<Option<Box<K>>, String> {
    object::get::<K>(&ctx.client, &target.namespace, &target.name)
        .await
        .map(|found| found.map(Box::new))
        .map_err(|e| unreadable(target, e))
}

fn unreadable(target: &Target, error: Error) -> String {
    format!(
        "{} {}/{} cannot be read: {error}",
        target.kind.as_str(),
        target.namespace,
        target.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use konductor::resource::{GateCondition, GateSpec};

    fn gate(timeout: Option<&str>) -> Gate {
        let mut g = Gate::new(
            "g",
            GateSpec {
                conditions: vec![GateCondition {
                    type_: ConditionKind::Job,
                    name: "j".into(),
                    namespace: None,
                    state: None,
                    value: None,
                }],
                timeout: timeout.map(Into::into),
            },
        );
        g.metadata.creation_timestamp = Some("2026-01-01T00:00:00Z".into());
        g
    }

    fn status(met: bool, message: &str) -> Vec<GateConditionStatus> {
        vec![GateConditionStatus {
            type_: ConditionKind::Job,
            name: "j".into(),
            namespace: None,
            met,
            message: message.into(),
        }]
    }

    fn at(secs: u64) -> SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(1_767_225_600 + secs)
    }

    #[test]
    fn opens_when_every_condition_holds_and_then_stays_open() {
        let (write, _) = plan(
            &gate(None),
            status(false, "Job j is not complete yet"),
            at(1),
            "T1",
        );
        let waiting = write.unwrap();
        let s = waiting.status.as_ref().unwrap();
        assert_eq!(s.phase, Some(GatePhase::Waiting));
        assert_eq!(
            s.conditions[0].message,
            "waiting for: Job j is not complete yet"
        );
        let (write, _) = plan(&waiting, status(true, "Job j is complete"), at(2), "T2");
        let open = write.unwrap();
        assert_eq!(open.status.as_ref().unwrap().phase, Some(GatePhase::Open));
        assert_eq!(
            open.status.as_ref().unwrap().opened_at.as_deref(),
            Some("T2")
        );
        assert!(
            plan(&open, status(false, "x"), at(3), "T3").0.is_none(),
            "Open is final"
        );
    }

    #[test]
    fn fails_after_the_timeout_naming_what_was_missing() {
        let (write, recheck) = plan(
            &gate(Some("1m")),
            status(false, "Job j failed (X)"),
            at(20),
            "T",
        );
        assert_eq!(recheck, Some(Duration::from_secs(41)));
        let (write, _) = plan(
            &write.unwrap(),
            status(false, "Job j failed (X)"),
            at(61),
            "T2",
        );
        let s = write.unwrap().status.unwrap();
        assert_eq!(s.phase, Some(GatePhase::Failed));
        assert_eq!(s.message, "timed out after 1m0s: Job j failed (X)");
    }

    #[test]
    fn the_same_evaluation_is_not_written_twice() {
        let (write, _) = plan(&gate(None), status(false, "m"), at(1), "T1");
        assert!(plan(&write.unwrap(), status(false, "m"), at(2), "T2")
            .0
            .is_none());
    }
}
