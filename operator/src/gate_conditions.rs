//! Whether one gate condition holds, with a message a person can act on.

use k8s_openapi::api::batch::v1::Job;
use konductor::resource::BarrierPhase;
use konductor::resource::{
    Barrier, ConditionKind, Gate, GateCondition, GateConditionStatus, Lease, LeaseStatus, Mutex,
    Once, OncePhase, Semaphore, WaitGroup,
};

use crate::status::Concluding;

/// The object a condition names, as read (`None`: it does not exist).
pub enum Found {
    /// A batch/v1 Job.
    Job(Option<Box<Job>>),
    /// A Semaphore.
    Semaphore(Option<Box<Semaphore>>),
    /// A Barrier.
    Barrier(Option<Box<Barrier>>),
    /// A Lease.
    Lease(Option<Box<Lease>>),
    /// A Mutex.
    Mutex(Option<Box<Mutex>>),
    /// A Once.
    Once(Option<Box<Once>>),
    /// A WaitGroup.
    WaitGroup(Option<Box<WaitGroup>>),
    /// A Gate.
    Gate(Option<Box<Gate>>),
}

/// Evaluates `condition` of a gate in `gate_namespace` against what was found.
pub fn evaluate(
    condition: &GateCondition,
    gate_namespace: &str,
    found: &Found,
) -> GateConditionStatus {
    let namespace = condition.namespace.as_deref().unwrap_or(gate_namespace);
    let who = if namespace == gate_namespace {
        format!("{} {}", condition.type_.as_str(), condition.name)
    } else {
        format!(
            "{} {namespace}/{}",
            condition.type_.as_str(),
            condition.name
        )
    };
    let state = condition.state.as_deref().filter(|s| !s.is_empty());
    let (met, message) = match found {
        Found::Job(job) => job_state(&who, job.as_deref(), state),
        Found::Semaphore(sem) => semaphore_state(&who, sem.as_deref(), state, condition.value),
        Found::Barrier(barrier) => open_state(&who, barrier.as_deref(), state),
        Found::Gate(gate) => open_state(&who, gate.as_deref(), state),
        Found::Lease(lease) => holder_state(
            &who,
            lease.as_deref().map(|l| &l.status),
            state,
            ConditionKind::Lease.states(),
        ),
        Found::Mutex(mutex) => holder_state(
            &who,
            mutex.as_deref().map(|m| &m.status),
            state,
            ConditionKind::Mutex.states(),
        ),
        Found::Once(once) => once_state(&who, once.as_deref(), state),
        Found::WaitGroup(group) => waitgroup_state(&who, group.as_deref(), state),
    };
    GateConditionStatus {
        type_: condition.type_,
        name: condition.name.clone(),
        namespace: condition.namespace.clone(),
        met,
        message,
    }
}

fn wrong_state(who: &str, state: &str, allowed: &str) -> (bool, String) {
    (
        false,
        format!("{who}: state \"{state}\" does not apply (use {allowed})"),
    )
}

fn job_state(who: &str, job: Option<&Job>, state: Option<&str>) -> (bool, String) {
    let Some(job) = job else {
        return (false, format!("{who} not found"));
    };
    let status = job.status.clone().unwrap_or_default();
    let condition = |type_: &str| {
        status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == type_ && c.status == "True")
            .map(|c| {
                let detail = [c.reason.as_deref(), c.message.as_deref()]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(": ");
                detail
            })
    };
    let complete = condition("Complete");
    let failed = condition("Failed");
    let active = status.active.unwrap_or(0);
    let progress = format!(
        "active {active}, succeeded {}, failed {}",
        status.succeeded.unwrap_or(0),
        status.failed.unwrap_or(0)
    );
    let failed_message = |detail: &str| {
        if detail.is_empty() {
            format!("{who} failed")
        } else {
            format!("{who} failed ({detail})")
        }
    };
    match state.unwrap_or("Complete") {
        "Complete" => match (&complete, &failed) {
            (Some(_), _) => (true, format!("{who} is complete")),
            (None, Some(detail)) => (
                false,
                format!("{}; it will not complete", failed_message(detail)),
            ),
            (None, None) => (false, format!("{who} is not complete yet ({progress})")),
        },
        "Failed" => match &failed {
            Some(detail) => (true, failed_message(detail)),
            None if complete.is_some() => (false, format!("{who} completed; it will not fail")),
            None => (false, format!("{who} has not failed ({progress})")),
        },
        "Active" if active > 0 => (true, format!("{who} is active ({progress})")),
        "Active" => (false, format!("{who} is not active ({progress})")),
        other => wrong_state(who, other, "Complete, Failed or Active"),
    }
}

fn semaphore_state(
    who: &str,
    sem: Option<&Semaphore>,
    state: Option<&str>,
    value: Option<i64>,
) -> (bool, String) {
    if let Some(other) = state.filter(|s| *s != "Available") {
        return wrong_state(who, other, "Available with a value");
    }
    let Some(sem) = sem else {
        return (false, format!("{who} not found"));
    };
    // Counted from the holders, not the derived field, so it is right even
    // before anyone wrote the status.
    let holders = sem.status.as_ref().map_or(0, |s| s.holders.len());
    let available = (sem.spec.permits as usize).saturating_sub(holders) as i64;
    let needed = value.unwrap_or(1);
    let met = available >= needed;
    (
        met,
        format!(
            "{who} has {available} of {} permits available (needs at least {needed})",
            sem.spec.permits
        ),
    )
}

fn open_state<K: Concluding>(who: &str, object: Option<&K>, state: Option<&str>) -> (bool, String) {
    let Some(object) = object else {
        return (false, format!("{who} not found"));
    };
    let (phase, message) = (object.phase(), object.message());
    let shown = if phase.is_empty() { "Waiting" } else { phase };
    let detail = if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    };
    let is_open = phase == BarrierPhase::Open.as_str();
    match state.unwrap_or("Open") {
        "Open" if is_open => (true, format!("{who} is open")),
        "Open" => (false, format!("{who} is not open (phase {shown}{detail})")),
        "Closed" if is_open => (false, format!("{who} is open")),
        "Closed" => (true, format!("{who} is closed (phase {shown})")),
        other => wrong_state(who, other, "Open or Closed"),
    }
}

/// A wait group: `Done` (the default) when its counter is zero, else `Waiting`.
fn waitgroup_state(who: &str, group: Option<&WaitGroup>, state: Option<&str>) -> (bool, String) {
    let Some(group) = group else {
        return (false, format!("{who} not found"));
    };
    // From the counter, not the derived phase, so it is right even before
    // the operator wrote the status.
    let counter = group.counter();
    match state.unwrap_or("Done") {
        "Done" if counter == 0 => (true, format!("{who} is done (counter 0)")),
        "Done" => (false, format!("{who} is waiting (counter {counter})")),
        "Waiting" if counter == 0 => (false, format!("{who} is done (counter 0)")),
        "Waiting" => (true, format!("{who} is waiting (counter {counter})")),
        other => wrong_state(who, other, "Done or Waiting"),
    }
}

/// A one-holder kind (Lease, Mutex) against its `[held, free]` state names
/// (the first is the default).
fn holder_state(
    who: &str,
    status: Option<&Option<LeaseStatus>>,
    state: Option<&str>,
    states: &[&str],
) -> (bool, String) {
    let &[held, free] = states else {
        unreachable!("a single-holder kind has two states, held and free")
    };
    let Some(status) = status else {
        return (false, format!("{who} not found"));
    };
    let holder = status.as_ref().and_then(|s| s.holder.clone());
    let wanted = state.unwrap_or(held);
    match holder {
        _ if wanted != held && wanted != free => {
            wrong_state(who, wanted, &format!("{held} or {free}"))
        }
        Some(h) => (wanted == held, format!("{who} is held by {h}")),
        None => (wanted == free, format!("{who} is not held")),
    }
}

/// A once against `Done` (the default) or `Failed`.
fn once_state(who: &str, once: Option<&Once>, state: Option<&str>) -> (bool, String) {
    let Some(once) = once else {
        return (false, format!("{who} not found"));
    };
    let wanted = state.unwrap_or("Done");
    if !ConditionKind::Once.states().contains(&wanted) {
        return wrong_state(who, wanted, "Done or Failed");
    }
    let phase = once
        .status
        .as_ref()
        .and_then(|s| s.phase)
        .unwrap_or(OncePhase::Pending);
    (phase.as_str() == wanted, format!("{who} is {phase}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::{JobCondition, JobStatus};
    use konductor::resource::{
        BarrierSpec, BarrierStatus, ConditionKind, Lease, LeaseSpec, Mutex, MutexSpec,
        SemaphoreSpec,
    };

    fn cond(kind: ConditionKind, name: &str, state: Option<&str>) -> GateCondition {
        GateCondition {
            type_: kind,
            name: name.into(),
            namespace: None,
            state: state.map(Into::into),
            value: None,
        }
    }

    fn job(conditions: &[(&str, &str, &str)], active: i32) -> Found {
        Found::Job(Some(Box::new(Job {
            status: Some(JobStatus {
                active: Some(active),
                conditions: Some(
                    conditions
                        .iter()
                        .map(|(t, reason, message)| JobCondition {
                            type_: (*t).into(),
                            status: "True".into(),
                            reason: Some((*reason).into()),
                            message: Some((*message).into()),
                            ..JobCondition::default()
                        })
                        .collect(),
                ),
                ..JobStatus::default()
            }),
            ..Job::default()
        })))
    }

    #[test]
    fn a_complete_job_meets_the_default_state() {
        let s = evaluate(
            &cond(ConditionKind::Job, "j", None),
            "ns",
            &job(&[("Complete", "", "")], 0),
        );
        assert!(s.met);
        assert_eq!(s.message, "Job j is complete");
    }

    #[test]
    fn a_failed_job_keeps_a_complete_condition_unmet_and_says_why() {
        let s = evaluate(
            &cond(ConditionKind::Job, "j", Some("Complete")),
            "ns",
            &job(
                &[(
                    "Failed",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                )],
                0,
            ),
        );
        assert!(!s.met);
        assert_eq!(
            s.message,
            "Job j failed (BackoffLimitExceeded: Job has reached the specified backoff limit); it will not complete"
        );
        let f = evaluate(
            &cond(ConditionKind::Job, "j", Some("Failed")),
            "ns",
            &job(&[("Failed", "X", "")], 0),
        );
        assert!(f.met);
    }

    #[test]
    fn missing_objects_are_not_met_and_named_with_their_namespace() {
        let mut c = cond(ConditionKind::Barrier, "b", None);
        c.namespace = Some("other".into());
        let s = evaluate(&c, "ns", &Found::Barrier(None));
        assert!(!s.met);
        assert_eq!(s.message, "Barrier other/b not found");
    }

    #[test]
    fn semaphores_count_free_permits_against_the_value() {
        let sem = Semaphore::new(
            "s",
            SemaphoreSpec {
                permits: 2,
                ttl: None,
            },
        );
        let mut c = cond(ConditionKind::Semaphore, "s", None);
        c.value = Some(2);
        let s = evaluate(&c, "ns", &Found::Semaphore(Some(Box::new(sem))));
        assert!(s.met, "{}", s.message);
        c.value = Some(3);
        let sem = Semaphore::new(
            "s",
            SemaphoreSpec {
                permits: 2,
                ttl: None,
            },
        );
        let s = evaluate(&c, "ns", &Found::Semaphore(Some(Box::new(sem))));
        assert!(!s.met);
        assert_eq!(
            s.message,
            "Semaphore s has 2 of 2 permits available (needs at least 3)"
        );
    }

    #[test]
    fn barriers_open_and_closed() {
        let mut b = Barrier::new(
            "b",
            BarrierSpec {
                expected: 2,
                quorum: None,
                timeout: None,
            },
        );
        b.status = Some(BarrierStatus {
            phase: Some(BarrierPhase::Open),
            ..BarrierStatus::default()
        });
        let found = Found::Barrier(Some(Box::new(b)));
        assert!(evaluate(&cond(ConditionKind::Barrier, "b", None), "ns", &found).met);
        assert!(
            !evaluate(
                &cond(ConditionKind::Barrier, "b", Some("Closed")),
                "ns",
                &found
            )
            .met
        );
        let wrong = evaluate(
            &cond(ConditionKind::Barrier, "b", Some("Complete")),
            "ns",
            &found,
        );
        assert!(!wrong.met);
        assert!(
            wrong.message.contains("does not apply"),
            "{}",
            wrong.message
        );
    }

    #[test]
    fn mutexes_are_locked_or_unlocked_and_leases_acquired_or_available() {
        let mut m = Mutex::new("m", MutexSpec::default());
        let unlocked = Found::Mutex(Some(Box::new(m.clone())));
        m.status = Some(LeaseStatus {
            holder: Some("alice".into()),
            ..LeaseStatus::default()
        });
        let locked = Found::Mutex(Some(Box::new(m)));
        let met = |state: Option<&str>, found: &Found| {
            evaluate(&cond(ConditionKind::Mutex, "m", state), "ns", found)
        };
        assert!(met(None, &locked).met, "Locked is the default state");
        assert!(met(Some("Locked"), &locked).met);
        assert!(!met(Some("Unlocked"), &locked).met);
        assert!(met(Some("Unlocked"), &unlocked).met);
        assert!(!met(None, &unlocked).met);
        assert_eq!(met(None, &locked).message, "Mutex m is held by alice");
        let wrong = met(Some("Acquired"), &locked);
        assert!(
            !wrong.met && wrong.message.contains("Locked or Unlocked"),
            "{}",
            wrong.message
        );
        let lease = Found::Lease(Some(Box::new(Lease::new("l", LeaseSpec::default()))));
        let available = evaluate(
            &cond(ConditionKind::Lease, "l", Some("Available")),
            "ns",
            &lease,
        );
        assert!(available.met, "{}", available.message);
        assert!(!met(Some("Locked"), &Found::Mutex(None)).met);
    }

    #[test]
    fn wait_groups_are_done_at_zero_and_waiting_above() {
        use konductor::resource::{WaitGroupSpec, WaitGroupStatus};
        let spec = WaitGroupSpec {
            expected: 2,
            ttl: None,
        };
        let waiting = Found::WaitGroup(Some(Box::new(WaitGroup::new("w", spec.clone()))));
        let mut group = WaitGroup::new("w", spec);
        group.status = Some(WaitGroupStatus {
            done_holders: vec!["a".into(), "b".into()],
            ..WaitGroupStatus::default()
        });
        let done = Found::WaitGroup(Some(Box::new(group)));
        let met = |state: Option<&str>, found: &Found| {
            evaluate(&cond(ConditionKind::WaitGroup, "w", state), "ns", found)
        };
        assert!(met(None, &done).met, "Done is the default state");
        assert!(!met(None, &waiting).met);
        assert_eq!(
            met(None, &waiting).message,
            "WaitGroup w is waiting (counter 2)"
        );
        assert!(met(Some("Waiting"), &waiting).met);
        assert!(!met(Some("Waiting"), &done).met);
        let wrong = met(Some("Open"), &done);
        assert!(
            !wrong.met && wrong.message.contains("Done or Waiting"),
            "{}",
            wrong.message
        );
        assert!(!met(None, &Found::WaitGroup(None)).met);
    }

    #[test]
    fn job_active_counts_running_pods() {
        assert!(
            evaluate(
                &cond(ConditionKind::Job, "j", Some("Active")),
                "ns",
                &job(&[], 1)
            )
            .met
        );
        assert!(
            !evaluate(
                &cond(ConditionKind::Job, "j", Some("Active")),
                "ns",
                &job(&[], 0)
            )
            .met
        );
    }
}
