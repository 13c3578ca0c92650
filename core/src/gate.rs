//! Gates: opened by the operator once all their conditions hold; clients read or wait.

use std::time::Duration;

use crate::api::shorthands;
use crate::client::Client;
use crate::duration::format_duration;
use crate::error::{Argument, Error, Result};
use crate::names::validate_name;
use crate::options::Options;
use crate::resource::{Gate, GateCondition, GateConditionStatus, GatePhase, GateSpec};
use crate::wait::{wait_until, Check};

shorthands!(Gate, "gate", get_gate, list_gates, delete_gate);

/// The most conditions a gate may have (the API server's CEL cost budget
/// for checking each condition's state bounds it too).
pub const MAX_GATE_CONDITIONS: usize = 100;

impl Client {
    /// Creates a gate over `conditions`, failing if still closed `timeout` after creation.
    pub fn create_gate(
        &self,
        name: &str,
        conditions: Vec<GateCondition>,
        timeout: Option<Duration>,
    ) -> Result<Gate> {
        validate_name(name)?;
        if conditions.len() > MAX_GATE_CONDITIONS {
            return Err(Error::invalid(
                Argument::Other,
                conditions.len().to_string(),
                format!("a gate has at most {MAX_GATE_CONDITIONS} conditions"),
            ));
        }
        for (index, condition) in conditions.iter().enumerate() {
            validate_name(&condition.name).map_err(|_| {
                Error::invalid(
                    Argument::ConditionName,
                    condition.name.clone(),
                    format!("conditions[{index}].name must be an RFC 1123 name"),
                )
            })?;
            if let Some(namespace) = &condition.namespace {
                crate::names::validate_namespace(namespace)?;
            }
        }
        let spec = GateSpec {
            conditions,
            timeout: timeout.map(format_duration),
        };
        self.api().create(&Gate::new(name, spec))
    }

    /// True when the gate is open now.
    pub fn check_gate(&self, name: &str) -> Result<bool> {
        let gate = self.get_gate(name)?;
        Ok(gate
            .status
            .is_some_and(|s| s.phase == Some(GatePhase::Open)))
    }

    /// The operator's evaluation of each condition (empty until it ran).
    pub fn gate_conditions(&self, name: &str) -> Result<Vec<GateConditionStatus>> {
        let gate = self.get_gate(name)?;
        Ok(gate
            .status
            .map(|s| s.condition_statuses)
            .unwrap_or_default())
    }

    /// Waits until the gate is open. [`Error::Failed`] if it fails,
    /// [`Error::Timeout`], [`Error::Cancelled`].
    pub fn wait_gate(&self, name: &str, options: &Options) -> Result<()> {
        validate_name(name)?;
        let holder = options.holder.clone().unwrap_or_default();
        wait_until::<Gate, ()>(&self.shared, name, &holder, options, |gate| {
            let Some(status) = &gate.status else {
                return Ok(Check::Pending);
            };
            match status.phase {
                Some(GatePhase::Open) => Ok(Check::Done(())),
                Some(GatePhase::Failed) => {
                    Err(Error::failed("Gate", &gate.metadata.name, &status.message))
                }
                _ => Ok(Check::Pending),
            }
        })
    }
}
