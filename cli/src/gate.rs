//! `konductor gate …`: wait for, check and create gates over Jobs and other primitives.

use std::time::Duration;

use clap::Subcommand;
use konductor::resource::{ConditionKind, Gate, GateCondition, GatePhase};

use crate::barrier::{wait_open, Wait};
use crate::connect::Global;
use crate::exit::{Exit, Outcome};
use crate::manage::{self, Named};
use crate::output::{print_value, table, Format};
use crate::signals::Signals;
use crate::slotted::duration;

/// The gate commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Wait until the gate opens (for initContainers and start-up ordering).
    Wait(Wait),
    /// Exit 0 when the gate is open now, 1 when it is not.
    Check(Named),
    /// Show the operator's evaluation of each condition.
    Conditions(Named),
    /// Create a gate.
    Create {
        /// Name of the gate.
        name: String,
        /// KIND/[NAMESPACE/]NAME[=STATE] (repeat for all that must hold): job/load=Complete,
        /// barrier/stage-1=Open, lease/leader=Acquired, gate/db=Open, semaphore/pool=2
        /// (at least 2 permits available).
        #[arg(long = "condition", value_parser = condition, value_name = "CONDITION", required = true)]
        conditions: Vec<GateCondition>,
        /// Fail if not open this long after creation.
        #[arg(long, value_parser = duration, value_name = "DURATION")]
        timeout: Option<Duration>,
    },
    /// Show a gate.
    Get(Named),
    /// List the gates of the namespace.
    List,
    /// Delete a gate.
    Delete(Named),
}

/// Parses `KIND/[NAMESPACE/]NAME[=STATE]`, naming what is wrong.
fn condition(text: &str) -> Result<GateCondition, String> {
    let (reference, state) = match text.split_once('=') {
        Some((reference, state)) => (reference, Some(state)),
        None => (text, None),
    };
    let parts: Vec<&str> = reference.split('/').collect();
    let (kind, namespace, name) = match parts.as_slice() {
        [kind, name] => (*kind, None, *name),
        [kind, namespace, name] => (*kind, Some(*namespace), *name),
        _ => return Err("expected KIND/[NAMESPACE/]NAME[=STATE]".to_owned()),
    };
    let type_ = match kind.to_ascii_lowercase().as_str() {
        "job" | "jobs" => ConditionKind::Job,
        "semaphore" | "semaphores" | "sem" => ConditionKind::Semaphore,
        "barrier" | "barriers" | "bar" => ConditionKind::Barrier,
        "lease" | "leases" | "kl" => ConditionKind::Lease,
        "mutex" | "mutexes" | "mtx" => ConditionKind::Mutex,
        "gate" | "gates" => ConditionKind::Gate,
        "once" | "onces" => ConditionKind::Once,
        "waitgroup" | "waitgroups" | "wg" => ConditionKind::WaitGroup,
        other => {
            return Err(format!(
                "unknown kind {other:?} (job, semaphore, barrier, lease, mutex, once, waitgroup or gate)"
            ))
        }
    };
    let (state, value) =
        match (type_, state) {
            (ConditionKind::Semaphore, Some(count)) => {
                let value = count.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
                format!("a semaphore condition takes a count of available permits, not {count:?}")
            })?;
                (None, Some(value))
            }
            (_, Some(state)) => {
                let allowed = type_.states();
                let state = allowed
                    .iter()
                    .find(|s| s.eq_ignore_ascii_case(state))
                    .ok_or_else(|| {
                        format!(
                            "state {state:?} of a {} must be one of {}",
                            type_.as_str(),
                            allowed.join(", ")
                        )
                    })?;
                (Some((*state).to_owned()), None)
            }
            (_, None) => (None, None),
        };
    if name.is_empty() {
        return Err("the name is empty".to_owned());
    }
    Ok(GateCondition {
        type_,
        name: name.to_owned(),
        namespace: namespace.map(str::to_owned),
        state,
        value,
    })
}

impl Command {
    /// Runs the command.
    pub fn run(self, global: &Global, signals: &Signals) -> Outcome {
        let client = global.client()?;
        match self {
            Command::Wait(gate) => {
                let what = format!("gate {}/{} to open", client.namespace(), gate.name);
                wait_open(
                    what,
                    signals,
                    |options| client.wait_gate(&gate.name, options),
                    gate.timeout,
                )?;
                Ok(Exit::Ok.code())
            }
            Command::Check(named) => {
                let gate = client.get_gate(&named.name)?;
                let status = gate.status.unwrap_or_default();
                let phase = status.phase.unwrap_or(GatePhase::Waiting);
                if phase == GatePhase::Open {
                    eprintln!("gate {} is open", named.name);
                    Ok(Exit::Ok.code())
                } else {
                    match status.message.as_str() {
                        "" => eprintln!("gate {} is not open ({phase})", named.name),
                        why => eprintln!("gate {} is not open ({phase}: {why})", named.name),
                    }
                    Ok(Exit::Closed.code())
                }
            }
            Command::Conditions(named) => {
                let conditions = client.gate_conditions(&named.name)?;
                match global.output {
                    Format::Json | Format::Yaml => print_value(&conditions, global.output)?,
                    _ => {
                        let mut rows = vec![vec![
                            "TYPE".to_owned(),
                            "NAME".to_owned(),
                            "MET".to_owned(),
                            "MESSAGE".to_owned(),
                        ]];
                        rows.extend(conditions.iter().map(|c| {
                            let name = match &c.namespace {
                                Some(ns) => format!("{ns}/{}", c.name),
                                None => c.name.clone(),
                            };
                            vec![
                                c.type_.as_str().to_owned(),
                                name,
                                c.met.to_string(),
                                c.message.clone(),
                            ]
                        }));
                        print!("{}", table(&rows));
                    }
                }
                Ok(Exit::Ok.code())
            }
            Command::Create {
                name,
                conditions,
                timeout,
            } => {
                let object = client.create_gate(&name, conditions, timeout)?;
                manage::created(&object, global)
            }
            Command::Get(named) => manage::get::<Gate>(&client, global, &named),
            Command::List => manage::list::<Gate>(&client, global),
            Command::Delete(named) => manage::delete::<Gate>(&client, global, &named),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_kind_namespace_name_and_state() {
        let job = condition("job/load=complete").expect("valid");
        assert_eq!(job.type_, ConditionKind::Job);
        assert_eq!(
            (job.name.as_str(), job.state.as_deref()),
            ("load", Some("Complete"))
        );
        let sem = condition("semaphore/other/pool=2").expect("valid");
        assert_eq!(sem.namespace.as_deref(), Some("other"));
        assert_eq!(sem.value, Some(2));
        assert!(condition("barrier/b").expect("valid").state.is_none());
    }

    #[test]
    fn bad_conditions_name_the_bad_part() {
        let error = condition("pod/x=Ready").expect_err("unknown kind");
        assert!(error.contains("\"pod\""), "{error}");
        let error = condition("job/x=Done").expect_err("bad state");
        assert!(
            error.contains("\"Done\"") && error.contains("Complete"),
            "{error}"
        );
        let error = condition("semaphore/x=lots").expect_err("bad count");
        assert!(error.contains("\"lots\""), "{error}");
        assert!(condition("job").is_err());
    }
}
