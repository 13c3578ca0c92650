//! `konductor once …`: a command that runs in exactly one caller across the cluster.

use std::time::Duration;

use clap::Subcommand;
use konductor::resource::{OnFailure, Once};

use crate::child;
use crate::connect::Global;
use crate::exit::{Exit, Failure, Outcome};
use crate::manage::{self, Named};
use crate::signals::Signals;
use crate::slotted::{duration, Run};

/// The once commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command in exactly one caller; the others wait until it finished
    /// and exit 0 (or 71 when its run failed for good).
    Run(Run),
    /// Create a once.
    Create {
        /// Name of the once.
        name: String,
        /// How long a run lasts unrenewed (renewed while the command runs).
        #[arg(long, value_parser = duration, value_name = "DURATION")]
        ttl: Option<Duration>,
        /// After a failed run, the next caller runs the command again
        /// (default: the failure is final).
        #[arg(long)]
        retry_failed: bool,
    },
    /// Show a once.
    Get(Named),
    /// List the onces of the namespace.
    List,
    /// Delete a once.
    Delete(Named),
}

impl Command {
    /// Runs the command.
    pub fn run(self, global: &Global, signals: &Signals) -> Outcome {
        let client = global.client()?;
        match self {
            Command::Run(run) => run_once(&client, &run, signals),
            Command::Create {
                name,
                ttl,
                retry_failed,
            } => {
                let on_failure = retry_failed.then_some(OnFailure::Retry);
                let object = client.create_once(&name, ttl, on_failure)?;
                manage::created(&object, global)
            }
            Command::Get(named) => manage::get::<Once>(&client, global, &named),
            Command::List => manage::list::<Once>(&client, global),
            Command::Delete(named) => manage::delete::<Once>(&client, global, &named),
        }
    }
}

/// `once run`: claims the once, runs the command renewing it, and records
/// the outcome (done, or failed with the command's exit status); passes the
/// command's status through. A caller that finds it done exits 0 without
/// running the command. A command that could not be started, or that a
/// signal to konductor interrupted, records nothing: the next caller runs it.
fn run_once(client: &konductor::Client, run: &Run, signals: &Signals) -> Outcome {
    let hold = &run.hold;
    if hold.priority.is_some() {
        return Err(Failure::usage("once run takes no --priority"));
    }
    let holder = hold.holder();
    let options = hold.options(&holder, signals);
    let Some(executor) = client.claim_once(&hold.name, &options)? else {
        eprintln!(
            "konductor: once {} is done already: not running the command",
            hold.name
        );
        return Ok(Exit::Ok.code());
    };
    let env = [
        ("KONDUCTOR_HOLDER", executor.holder().to_owned()),
        ("KONDUCTOR_TOKEN", executor.token().to_string()),
    ];
    let lost = executor.lost_token();
    let loss = || match executor.still_held() {
        Err(error) => error.chain(),
        Ok(()) => format!("once {} was lost", hold.name),
    };
    let ended = child::run(
        &run.command,
        &env,
        signals,
        Some((&lost, run.on_lost, &loss)),
    );
    let ended = match ended {
        Ok(ended) => ended,
        Err(failure) => {
            // Not started (not found, not executable): no outcome — this
            // caller's image may lack what another's has. The once is
            // given back for the next caller.
            drop(executor);
            return Err(failure);
        }
    };
    if let Some(signal) = signals.received() {
        // Stopped from outside (a rolling update's SIGTERM): the work did
        // not fail, it was interrupted. Give the once back unrecorded, so
        // the next caller runs the command.
        drop(executor);
        eprintln!(
            "konductor: interrupted by signal {signal}: once {} left for the next caller",
            hold.name
        );
        return Ok(ended.status);
    }
    if ended.lost {
        return Err(Failure::new(
            Exit::Lost,
            "the command ran without holding the once for part of the time (its outcome is not recorded)",
        ));
    }
    let failure =
        (ended.status != 0).then(|| format!("the command exited with status {}", ended.status));
    client.finish_once(executor, failure.as_deref())?;
    Ok(ended.status)
}
