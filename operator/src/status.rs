//! The two status fields every Konductor kind has: a phase, and conditions as
//! the Kubernetes API conventions define them.

use konductor::resource::BarrierPhase;
use konductor::resource::{
    Barrier, Condition, Gate, Lease, Mutex, Once, RWMutex, Resource, Semaphore, WaitGroup,
};

/// The condition every Konductor object carries: its spec is usable and the
/// operator has reconciled it.
pub const READY: &str = "Ready";

/// Whether a condition holds, as Kubernetes spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionStatus {
    /// `True`.
    True,
    /// `False`.
    False,
}

impl ConditionStatus {
    fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
        }
    }
}

/// A kind whose status has a phase and conditions.
pub trait Phased: Resource {
    /// The current phase; empty before the first status write.
    fn phase(&self) -> &str;
    /// The status conditions, creating an empty status if needed.
    fn conditions_mut(&mut self) -> &mut Vec<Condition>;
    /// The status conditions, if there is a status.
    fn status_conditions(&self) -> Option<&[Condition]>;
}

// The status types name these fields alike.
macro_rules! phased {
    ($($kind:ty),+) => {$(
        impl Phased for $kind {
            fn phase(&self) -> &str {
                self.status
                    .as_ref()
                    .and_then(|s| s.phase)
                    .map_or("", |phase| phase.as_str())
            }

            fn conditions_mut(&mut self) -> &mut Vec<Condition> {
                &mut self.status.get_or_insert_with(Default::default).conditions
            }

            fn status_conditions(&self) -> Option<&[Condition]> {
                self.status.as_ref().map(|s| s.conditions.as_slice())
            }
        }
    )+};
}

phased!(Semaphore, Lease, Mutex, RWMutex, Once, Barrier, WaitGroup, Gate);

/// A kind that waits, then opens or fails for good: barriers and gates.
pub trait Concluding: Phased {
    /// The status message: why it failed, once it did.
    fn message(&self) -> &str;
}

macro_rules! concluding {
    ($($kind:ty),+) => {$(
        impl Concluding for $kind {
            fn message(&self) -> &str {
                self.status.as_ref().map_or("", |s| s.message.as_str())
            }
        }
    )+};
}

concluding!(Barrier, Gate);

/// Sets the [`READY`] condition of `object` (as decided from `before`) for
/// its current generation, where that says something: when the status is
/// written anyway, when `before` carries the condition already, or when it
/// is False. An object found right is not written just to add it, so a
/// start or fail-over with nothing to fix writes nothing.
pub fn set_ready<K: Phased>(
    object: &mut K,
    before: &K,
    status: ConditionStatus,
    reason: &str,
    message: String,
    now: &str,
) {
    let carried = before
        .status_conditions()
        .is_some_and(|c| c.iter().any(|c| c.type_ == READY));
    let written = serde_json::to_value(&*object).ok() != serde_json::to_value(before).ok();
    if !(carried || written || status == ConditionStatus::False) {
        return;
    }
    let generation = object.metadata().generation;
    set(
        object.conditions_mut(),
        READY,
        status,
        reason,
        message,
        generation,
        now,
    );
}

/// Sets the [`READY`] condition of a barrier or gate from its phase: ready
/// while it waits (for `waiting`) and once it is open (saying `open`); not
/// ready once it failed, or when its spec cannot be used (`problem`).
pub fn set_ready_by_phase<K: Concluding>(
    object: &mut K,
    before: &K,
    problem: Option<String>,
    open: &str,
    waiting: String,
    now: &str,
) {
    let phase = object.phase();
    let (status, reason, message) = if let Some(problem) = problem {
        (ConditionStatus::False, "InvalidSpec", problem)
    } else if phase == BarrierPhase::Open.as_str() {
        (ConditionStatus::True, "Open", open.to_owned())
    } else if phase == BarrierPhase::Failed.as_str() {
        (
            ConditionStatus::False,
            "TimedOut",
            object.message().to_owned(),
        )
    } else {
        (ConditionStatus::True, "Waiting", waiting)
    };
    set_ready(object, before, status, reason, message, now);
}

/// Sets condition `type_` in `conditions`, keeping `lastTransitionTime` when
/// the status did not flip, so that rewriting the same verdict changes nothing.
pub fn set(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: ConditionStatus,
    reason: &str,
    message: String,
    generation: Option<i64>,
    now: &str,
) {
    let status = status.as_str();
    let transition = conditions
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .and_then(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| now.to_owned());
    let condition = Condition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: reason.to_owned(),
        message,
        last_transition_time: Some(transition),
        observed_generation: generation,
    };
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(existing) => *existing = condition,
        None => conditions.push(condition),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConditionStatus::{False, True};

    #[test]
    fn transition_time_moves_only_when_the_status_flips() {
        let mut c = Vec::new();
        set(&mut c, READY, True, "Valid", "ok".into(), Some(1), "t1");
        set(&mut c, READY, True, "Valid", "ok".into(), Some(1), "t2");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].last_transition_time.as_deref(), Some("t1"));
        set(
            &mut c,
            READY,
            False,
            "InvalidSpec",
            "bad".into(),
            Some(2),
            "t3",
        );
        assert_eq!(c[0].last_transition_time.as_deref(), Some("t3"));
        assert_eq!(c[0].status, "False");
    }

    #[test]
    fn every_kind_reports_an_empty_phase_before_its_first_status_write() {
        let mut gate = Gate::new("g", Default::default());
        assert_eq!(gate.phase(), "");
        let before = gate.clone();
        gate.status = Some(Default::default());
        set_ready(&mut gate, &before, True, "Waiting", "w".into(), "t1");
        assert_eq!(gate.status.as_ref().map(|s| s.conditions.len()), Some(1));
    }

    #[test]
    fn ready_alone_is_written_only_when_false_or_already_there() {
        let found = Gate::new("g", Default::default());
        let mut gate = found.clone();
        set_ready(&mut gate, &found, True, "Waiting", "w".into(), "t1");
        assert_eq!(gate, found, "a True Ready alone is no reason to write");
        set_ready(&mut gate, &found, False, "InvalidSpec", "bad".into(), "t1");
        assert_eq!(gate.status.as_ref().map(|s| s.conditions.len()), Some(1));
        let found = gate.clone();
        set_ready(&mut gate, &found, True, "Waiting", "w".into(), "t2");
        assert_eq!(
            gate.status
                .as_ref()
                .map(|s| s.conditions[0].status.as_str()),
            Some("True"),
            "a condition already there is kept up to date"
        );
    }
}
