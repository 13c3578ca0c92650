//! `konductor lease …`: one holder at a time, for singleton work.

use std::time::Duration;

use clap::{Args, Subcommand};
use konductor::resource::Lease;

use crate::connect::Global;
use crate::exit::Outcome;
use crate::manage::{self, Named};
use crate::signals::Signals;
use crate::slotted::{self, duration, once, Busy, ByHolder, Hold, Renew, Run};

/// The lease commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command as the lease's holder; when another holder has it, do not run it.
    Run(LeaseRun),
    /// Acquire the lease, waiting for it, and keep it after exit (renew and release it by holder).
    Acquire(Hold),
    /// Take the lease only if it is free now (exit 67 if held), and keep it after exit.
    Try(Hold),
    /// Renew a lease kept by `acquire` or `try`.
    Renew(Renew),
    /// Release a lease kept by `acquire` or `try`.
    Release(ByHolder),
    /// Create a lease.
    Create {
        /// Name of the lease.
        name: String,
        /// Default time-to-live of a holder.
        #[arg(long, value_parser = duration, value_name = "DURATION")]
        ttl: Option<Duration>,
        /// Default priority of acquirers.
        #[arg(long, allow_negative_numbers = true, value_name = "N")]
        priority: Option<i32>,
    },
    /// Show a lease.
    Get(Named),
    /// List the leases of the namespace.
    List,
    /// Delete a lease (its holder loses it).
    Delete(Named),
}

/// `lease run`: a singleton run. Without `--timeout` it tries once.
#[derive(Debug, Args)]
pub struct LeaseRun {
    #[command(flatten)]
    pub run: Run,
    /// Exit status when another holder has the lease (the command is not run).
    #[arg(long, default_value_t = 0, value_name = "CODE")]
    pub held_exit_code: u8,
}

impl Command {
    /// Runs the command.
    pub fn run(self, global: &Global, signals: &Signals) -> Outcome {
        let client = global.client()?;
        match self {
            Command::Run(mut lease_run) => {
                let timeout = &mut lease_run.run.hold.timeout;
                timeout.get_or_insert(Duration::ZERO);
                let busy = Busy::Skip(lease_run.held_exit_code);
                slotted::run::<Lease>(&client, &lease_run.run, None, busy, signals)
            }
            Command::Acquire(hold) => {
                slotted::acquire::<Lease>(&client, global, &hold, None, signals)
            }
            Command::Try(hold) => {
                slotted::acquire::<Lease>(&client, global, &once(hold, "try")?, None, signals)
            }
            Command::Renew(renew) => slotted::renew::<Lease>(&client, global, &renew),
            Command::Release(grant) => slotted::release::<Lease>(&client, &grant),
            Command::Create {
                name,
                ttl,
                priority,
            } => {
                let object = client.create_lease(&name, ttl, priority)?;
                manage::created(&object, global)
            }
            Command::Get(named) => manage::get::<Lease>(&client, global, &named),
            Command::List => manage::list::<Lease>(&client, global),
            Command::Delete(named) => manage::delete::<Lease>(&client, global, &named),
        }
    }
}
