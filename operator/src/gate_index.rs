//! The reverse index from watched objects to the gates whose conditions name them.
//!
//! A change of a Job, Semaphore, Barrier, Lease or Gate is mapped through
//! this index to the gates that must be evaluated again, so a gate reacts to
//! the event itself instead of polling.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use konductor::resource::{ConditionKind, Gate};

/// An object a gate condition can name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// Its kind.
    pub kind: ConditionKind,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

/// A gate, by namespace and name.
pub type GateKey = (String, String);

/// Target → gates and gate → targets, kept consistent under one lock.
#[derive(Default)]
pub struct GateIndex {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    by_target: HashMap<Target, HashSet<GateKey>>,
    by_gate: HashMap<GateKey, Vec<Target>>,
}

/// The objects named by a gate's conditions (namespace defaulting to the gate's).
pub fn targets(gate: &Gate) -> Vec<Target> {
    gate.spec
        .conditions
        .iter()
        .map(|c| Target {
            kind: c.type_,
            namespace: c
                .namespace
                .clone()
                .unwrap_or_else(|| gate.metadata.namespace.clone()),
            name: c.name.clone(),
        })
        .collect()
}

impl GateIndex {
    /// Records which objects `gate` depends on, replacing what was recorded before.
    pub fn set(&self, gate: &Gate, targets: Vec<Target>) {
        let key = (gate.metadata.namespace.clone(), gate.metadata.name.clone());
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.unlink(&key);
        for target in &targets {
            inner
                .by_target
                .entry(target.clone())
                .or_default()
                .insert(key.clone());
        }
        if !targets.is_empty() {
            inner.by_gate.insert(key, targets);
        }
    }

    /// Stops tracking `gate` (it opened, failed or was deleted).
    pub fn remove(&self, namespace: &str, name: &str) {
        let key = (namespace.to_owned(), name.to_owned());
        self.inner
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .unlink(&key);
    }

    /// Keeps only the gates in `live`.
    pub fn retain(&self, live: &HashSet<GateKey>) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let dead: Vec<GateKey> = inner
            .by_gate
            .keys()
            .filter(|k| !live.contains(*k))
            .cloned()
            .collect();
        for key in dead {
            inner.unlink(&key);
        }
    }

    /// The gates that depend on the object.
    pub fn gates_for(&self, kind: ConditionKind, namespace: &str, name: &str) -> Vec<GateKey> {
        let target = Target {
            kind,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        };
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner
            .by_target
            .get(&target)
            .map(|gates| gates.iter().cloned().collect())
            .unwrap_or_default()
    }
}

impl Inner {
    fn unlink(&mut self, key: &GateKey) {
        for target in self.by_gate.remove(key).unwrap_or_default() {
            if let Some(gates) = self.by_target.get_mut(&target) {
                gates.remove(key);
                if gates.is_empty() {
                    self.by_target.remove(&target);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use konductor::resource::{GateCondition, GateSpec};

    fn gate(name: &str, conditions: &[(ConditionKind, &str, Option<&str>)]) -> Gate {
        let mut g = Gate::new(
            name,
            GateSpec {
                conditions: conditions
                    .iter()
                    .map(|(kind, n, ns)| GateCondition {
                        type_: *kind,
                        name: (*n).into(),
                        namespace: ns.map(Into::into),
                        state: None,
                        value: None,
                    })
                    .collect(),
                timeout: None,
            },
        );
        g.metadata.namespace = "home".into();
        g
    }

    #[test]
    fn maps_objects_to_gates_and_forgets_replaced_conditions() {
        let index = GateIndex::default();
        let g1 = gate(
            "g1",
            &[
                (ConditionKind::Job, "j", None),
                (ConditionKind::Barrier, "b", Some("other")),
            ],
        );
        let g2 = gate("g2", &[(ConditionKind::Job, "j", None)]);
        index.set(&g1, targets(&g1));
        index.set(&g2, targets(&g2));
        let mut hits = index.gates_for(ConditionKind::Job, "home", "j");
        hits.sort();
        assert_eq!(
            hits,
            [("home".into(), "g1".into()), ("home".into(), "g2".into())]
        );
        assert_eq!(
            index.gates_for(ConditionKind::Barrier, "other", "b").len(),
            1
        );
        assert!(
            index
                .gates_for(ConditionKind::Barrier, "home", "b")
                .is_empty(),
            "namespace matters"
        );

        let g1_changed = gate("g1", &[(ConditionKind::Lease, "l", None)]);
        index.set(&g1_changed, targets(&g1_changed));
        assert!(index
            .gates_for(ConditionKind::Barrier, "other", "b")
            .is_empty());
        assert_eq!(
            index.gates_for(ConditionKind::Job, "home", "j"),
            [("home".into(), "g2".into())]
        );
        index.remove("home", "g2");
        assert!(index.gates_for(ConditionKind::Job, "home", "j").is_empty());
    }

    #[test]
    fn retain_forgets_deleted_gates() {
        let index = GateIndex::default();
        let g1 = gate("g1", &[(ConditionKind::Job, "j", None)]);
        let g2 = gate("g2", &[(ConditionKind::Job, "j", None)]);
        index.set(&g1, targets(&g1));
        index.set(&g2, targets(&g2));
        index.retain(&HashSet::from([("home".to_owned(), "g2".to_owned())]));
        assert_eq!(
            index.gates_for(ConditionKind::Job, "home", "j"),
            [("home".into(), "g2".into())]
        );
    }
}
