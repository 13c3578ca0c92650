//! Reconciling gates: evaluate every condition, open when all hold, fail
//! once the timeout from creation has passed. Open and Failed are final.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::jiff::Timestamp;
use konductor::resource::{self as r, ConditionKind, Gate, GateConditionStatus};
use konductor::{GATE_FAILED, GATE_OPEN, GATE_WAITING};
use kube::api::DynamicObject;
use kube::runtime::controller::Action;
use kube::Api;

use crate::clock::{now_rfc3339, remaining};
use crate::conditions::{self, READY};
use crate::context::Context;
use crate::error::Result;
use crate::evaluate::{evaluate, Found};
use crate::gate_index::{targets, Target};
use crate::object::{self, decode, describe, replace_status, Written};

/// Status writes attempted per reconcile before leaving it to the next event.
const ATTEMPTS: usize = 5;
/// How often a gate is evaluated again when it names objects in namespaces
/// this operator does not watch (their changes reach it by no event).
const UNWATCHED_POLL: Duration = Duration::from_secs(5);

fn is_final(gate: &Gate) -> bool {
    gate.status
        .as_ref()
        .is_some_and(|s| s.phase == GATE_OPEN || s.phase == GATE_FAILED)
}

/// The status write (if any) for `gate` given the evaluation of its
/// conditions at `now`, and when the timeout needs a look again.
pub fn plan(
    gate: &Gate,
    evaluated: Vec<GateConditionStatus>,
    now: Timestamp,
    now_text: &str,
) -> (Option<Gate>, Option<Duration>) {
    if is_final(gate) {
        return (None, None);
    }
    let mut updated = gate.clone();
    let generation = gate.metadata.generation;
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
        status.phase = GATE_OPEN.to_owned();
        status.opened_at = Some(now_text.to_owned());
        status.message.clear();
    } else {
        status.phase = GATE_WAITING.to_owned();
        match gate.spec.timeout.as_deref().map(konductor::parse_duration) {
            Some(Ok(timeout)) => {
                match remaining(gate.metadata.creation_timestamp.as_deref(), timeout, now) {
                    Some(Duration::ZERO) => {
                        status.phase = GATE_FAILED.to_owned();
                        status.message = format!(
                            "timed out after {}: {summary}",
                            konductor::format_duration(timeout)
                        );
                    }
                    Some(left) => recheck = Some(left),
                    None => {
                        problem = Some(
                            "metadata.creationTimestamp is missing; the timeout cannot be applied"
                                .to_owned(),
                        )
                    }
                }
            }
            Some(Err(error)) => problem = Some(format!("spec.timeout: {error}")),
            None => {}
        }
    }
    status.condition_statuses = evaluated;
    let (ready, reason, message) = match (problem, status.phase.as_str()) {
        (Some(problem), _) => (false, "InvalidSpec", problem),
        (None, GATE_OPEN) => (true, "Open", "every condition holds".to_owned()),
        (None, GATE_FAILED) => (false, "TimedOut", status.message.clone()),
        (None, _) => (true, "Waiting", format!("waiting for: {summary}")),
    };
    conditions::set(
        &mut status.conditions,
        READY,
        ready,
        reason,
        message,
        generation,
        now_text,
    );
    let changed = updated.status != gate.status;
    (changed.then_some(updated), recheck)
}

/// Reconciles one gate.
pub async fn reconcile(object: Arc<DynamicObject>, ctx: Arc<Context>) -> Result<Action> {
    let started = Instant::now();
    let result = reconcile_inner(&object, &ctx).await;
    ctx.metrics
        .reconciled("Gate", started.elapsed(), result.is_err());
    result
}

async fn reconcile_inner(object: &DynamicObject, ctx: &Context) -> Result<Action> {
    let mut current: Gate = decode(object)?;
    for _ in 0..ATTEMPTS {
        if is_final(&current) {
            ctx.gates
                .remove(&current.metadata.namespace, &current.metadata.name);
            report_phase(ctx, &current);
            return Ok(Action::await_change());
        }
        // Index first, read second: a change after the index update triggers
        // another reconcile, a change before it is in what we read.
        let targets = targets(&current);
        ctx.gates.set(&current, targets.clone());
        let found = join_all(targets.iter().map(|t| fetch(ctx, t))).await;
        let evaluated = current
            .spec
            .conditions
            .iter()
            .zip(&found)
            .map(|(condition, found)| match found {
                Ok(found) => evaluate(condition, &current.metadata.namespace, found),
                Err(message) => GateConditionStatus {
                    type_: condition.type_,
                    name: condition.name.clone(),
                    namespace: condition.namespace.clone(),
                    met: false,
                    message: message.clone(),
                },
            })
            .collect();
        let (write, recheck) = plan(&current, evaluated, Timestamp::now(), &now_rfc3339());
        let written = match write {
            None => current,
            Some(update) => match replace_status(&ctx.client, &update).await? {
                Written::Applied(written) => {
                    ctx.metrics.status_write("Gate", false);
                    written
                }
                Written::Conflict(Some(fresh)) => {
                    ctx.metrics.status_write("Gate", true);
                    current = fresh;
                    continue;
                }
                Written::Conflict(None) => {
                    ctx.gates
                        .remove(&current.metadata.namespace, &current.metadata.name);
                    ctx.forget(&current);
                    return Ok(Action::await_change());
                }
            },
        };
        report_phase(ctx, &written);
        if is_final(&written) {
            ctx.gates
                .remove(&written.metadata.namespace, &written.metadata.name);
            return Ok(Action::await_change());
        }
        let unwatched = targets.iter().any(|t| !ctx.watches_namespace(&t.namespace));
        let poll = unwatched.then_some(UNWATCHED_POLL);
        return Ok(match [recheck, poll].into_iter().flatten().min() {
            Some(after) => Action::requeue(after + Duration::from_millis(1)),
            None => Action::await_change(),
        });
    }
    Ok(Action::requeue(Duration::from_millis(200)))
}

/// Reads the object a condition names; an error becomes the condition's message.
async fn fetch(ctx: &Context, target: &Target) -> Result<Found, String> {
    let (ns, name) = (target.namespace.as_str(), target.name.as_str());
    let failed = |e: crate::error::Error| {
        format!("{} {ns}/{name} cannot be read: {e}", target.kind.as_str())
    };
    Ok(match target.kind {
        ConditionKind::Job => {
            let api: Api<Job> = Api::namespaced(ctx.client.clone(), ns);
            let job = api
                .get_opt(name)
                .await
                .map_err(|e| failed(crate::error::Error::kube("read job", e)))?;
            Found::Job(job.map(Box::new))
        }
        ConditionKind::Semaphore => Found::Semaphore(
            object::get::<r::Semaphore>(&ctx.client, ns, name)
                .await
                .map_err(failed)?
                .map(Box::new),
        ),
        ConditionKind::Barrier => Found::Barrier(
            object::get::<r::Barrier>(&ctx.client, ns, name)
                .await
                .map_err(failed)?
                .map(Box::new),
        ),
        ConditionKind::Lease => Found::Lease(
            object::get::<r::Lease>(&ctx.client, ns, name)
                .await
                .map_err(failed)?
                .map(Box::new),
        ),
        ConditionKind::Gate => Found::Gate(
            object::get::<r::Gate>(&ctx.client, ns, name)
                .await
                .map_err(failed)?
                .map(Box::new),
        ),
    })
}

fn report_phase(ctx: &Context, gate: &Gate) {
    let Some(status) = &gate.status else { return };
    if ctx.phase_change(gate, &status.phase).is_none() {
        return;
    }
    match status.phase.as_str() {
        GATE_OPEN => {
            tracing::info!(object = describe(gate), "gate opened");
            ctx.event(
                gate,
                false,
                "Opened",
                "every condition holds; the gate is open".to_owned(),
            );
        }
        GATE_FAILED => {
            tracing::info!(
                object = describe(gate),
                message = status.message,
                "gate failed"
            );
            ctx.event(gate, true, "Failed", status.message.clone());
        }
        _ => {}
    }
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

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_767_225_600 + secs).unwrap()
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
        assert_eq!(s.phase, "Waiting");
        assert_eq!(
            s.conditions[0].message,
            "waiting for: Job j is not complete yet"
        );
        let (write, _) = plan(&waiting, status(true, "Job j is complete"), at(2), "T2");
        let open = write.unwrap();
        assert_eq!(open.status.as_ref().unwrap().phase, "Open");
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
        assert_eq!(s.phase, "Failed");
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
