//! `konductor barrier …`: everyone starts once all expected holders arrived.

use std::ffi::OsString;
use std::time::Duration;

use clap::{Args, Subcommand};
use konductor::resource::Barrier;
use konductor::{default_holder, Client, Error, Options};

use crate::child;
use crate::connect::Global;
use crate::exit::{Exit, Failure, Outcome};
use crate::manage::{self, Named};
use crate::output::print_one;
use crate::progress::Progress;
use crate::signals::Signals;
use crate::slotted::duration;

/// The barrier commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Arrive, wait until the barrier opens, then run a command.
    Run {
        #[command(flatten)]
        wait: Wait,
        /// Holder identity to arrive as (default: $POD_NAME or the host name, plus a unique suffix).
        #[arg(long, value_name = "ID")]
        holder: Option<String>,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<OsString>,
    },
    /// Record an arrival (idempotent per holder).
    Arrive {
        /// Name of the barrier.
        name: String,
        /// Holder identity to arrive as (default: $POD_NAME or the host name, plus a unique suffix).
        #[arg(long, value_name = "ID")]
        holder: Option<String>,
    },
    /// Wait until the barrier opens.
    Wait(Wait),
    /// Create a barrier.
    Create {
        /// Name of the barrier.
        name: String,
        /// Arrivals that open it (at least 1).
        #[arg(long, value_name = "N")]
        expected: u32,
        /// Open once this many arrived (at most --expected).
        #[arg(long, value_name = "N")]
        quorum: Option<u32>,
        /// Fail if not open this long after creation.
        #[arg(long, value_parser = duration, value_name = "DURATION")]
        timeout: Option<Duration>,
    },
    /// Show a barrier.
    Get(Named),
    /// List the barriers of the namespace.
    List,
    /// Delete a barrier.
    Delete(Named),
}

/// A wait for a barrier or gate to open.
#[derive(Debug, Args)]
pub struct Wait {
    /// Name of the object.
    pub name: String,
    /// Longest time to wait (default: no limit).
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,
}

/// Waits with a progress line; a signal ends the wait with 128 + its number.
pub fn wait_open(
    what: String,
    signals: &Signals,
    wait: impl FnOnce(&Options) -> konductor::Result<()>,
    timeout: Option<Duration>,
) -> Result<(), Failure> {
    let options = Options::new().timeout_opt(timeout).cancel(signals.cancel());
    let progress = Progress::start(what.clone(), || None);
    let result = wait(&options);
    drop(progress);
    result.map_err(|error| match (&error, signals.received()) {
        (Error::Cancelled { .. }, Some(signal)) => {
            Failure::interrupted(signal, &format!("waiting for {what}"))
        }
        _ => error.into(),
    })
}

fn wait(client: &Client, wait: &Wait, signals: &Signals) -> Result<(), Failure> {
    let what = format!("barrier {}/{} to open", client.namespace(), wait.name);
    wait_open(
        what,
        signals,
        |options| client.wait_barrier(&wait.name, options),
        wait.timeout,
    )
}

impl Command {
    /// Runs the command.
    pub fn run(self, global: &Global, signals: &Signals) -> Outcome {
        let client = global.client()?;
        match self {
            Command::Run {
                wait: barrier,
                holder,
                command,
            } => {
                let holder = holder.unwrap_or_else(default_holder);
                client.arrive_barrier(&barrier.name, &Options::new().holder(&holder))?;
                wait(&client, &barrier, signals)?;
                let env = [("KONDUCTOR_HOLDER", holder)];
                Ok(child::run(&command, &env, signals, None)?.status)
            }
            Command::Arrive { name, holder } => {
                let holder = holder.unwrap_or_else(default_holder);
                let barrier = client.arrive_barrier(&name, &Options::new().holder(&holder))?;
                match global.output {
                    crate::output::Format::Table => {
                        let arrived = barrier.status.as_ref().map_or(0, |s| s.arrived);
                        println!(
                            "{holder} arrived at barrier {name}: {arrived} of {}",
                            barrier.spec.expected
                        );
                    }
                    format => print_one(&barrier, format)?,
                }
                Ok(Exit::Ok.code())
            }
            Command::Wait(barrier) => {
                wait(&client, &barrier, signals)?;
                Ok(Exit::Ok.code())
            }
            Command::Create {
                name,
                expected,
                quorum,
                timeout,
            } => {
                let object = client.create_barrier(&name, expected, quorum, timeout)?;
                manage::created(&object, global)
            }
            Command::Get(named) => manage::get::<Barrier>(&client, global, &named),
            Command::List => manage::list::<Barrier>(&client, global),
            Command::Delete(named) => manage::delete::<Barrier>(&client, global, &named),
        }
    }
}
