//! Status conditions following the Kubernetes API conventions.

use konductor::resource::Condition;

/// The condition every Konductor object carries: its spec is usable and the
/// operator has reconciled it.
pub const READY: &str = "Ready";

/// Sets condition `type_` in `conditions`, keeping `lastTransitionTime` when
/// the status did not flip, so that rewriting the same verdict changes nothing.
pub fn set(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: bool,
    reason: &str,
    message: String,
    generation: Option<i64>,
    now: &str,
) {
    let status = if status { "True" } else { "False" };
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

    #[test]
    fn transition_time_moves_only_when_the_status_flips() {
        let mut c = Vec::new();
        set(&mut c, READY, true, "Valid", "ok".into(), Some(1), "t1");
        set(&mut c, READY, true, "Valid", "ok".into(), Some(1), "t2");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].last_transition_time.as_deref(), Some("t1"));
        set(
            &mut c,
            READY,
            false,
            "InvalidSpec",
            "bad".into(),
            Some(2),
            "t3",
        );
        assert_eq!(c[0].last_transition_time.as_deref(), Some("t3"));
        assert_eq!(c[0].status, "False");
    }
}
