//! Gate conditions as the tests write them: on an object in the gate's own namespace.

use konductor::resource::{ConditionKind, GateCondition};

/// A condition on `name` of `type_` in the gate's namespace, in `state` when given, with no value.
pub fn condition(type_: ConditionKind, name: &str, state: Option<&str>) -> GateCondition {
    GateCondition {
        type_,
        name: name.to_owned(),
        namespace: None,
        state: state.map(str::to_owned),
        value: None,
    }
}
