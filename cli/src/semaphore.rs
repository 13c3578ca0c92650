//! `konductor semaphore …`: at most N holders at a time.

use std::time::Duration;

use clap::Subcommand;
use konductor::resource::Semaphore;

use crate::connect::Global;
use crate::exit::Outcome;
use crate::manage::{self, Named};
use crate::signals::Signals;
use crate::slotted::{self, duration, Busy, ByHolder, Hold, Renew, Run};

/// The semaphore commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command while holding a permit: renewed meanwhile, released on exit.
    Run(Run),
    /// Acquire a permit and keep it after exit (for scripts; renew and release it by holder).
    Acquire(Hold),
    /// Renew a permit kept by `acquire`.
    Renew(Renew),
    /// Release a permit kept by `acquire`.
    Release(ByHolder),
    /// Create a semaphore.
    Create {
        /// Name of the semaphore.
        name: String,
        /// Number of permits (at least 1).
        #[arg(long, value_name = "N")]
        permits: u32,
        /// Default permit time-to-live.
        #[arg(long, value_parser = duration, value_name = "DURATION")]
        ttl: Option<Duration>,
    },
    /// Show a semaphore.
    Get(Named),
    /// List the semaphores of the namespace.
    List,
    /// Delete a semaphore (its holders lose their permits).
    Delete(Named),
}

impl Command {
    /// Runs the command.
    pub fn run(self, global: &Global, signals: &Signals) -> Outcome {
        let client = global.client()?;
        match self {
            Command::Run(run) => {
                slotted::run::<Semaphore>(&client, &run, None, Busy::Fail, signals)
            }
            Command::Acquire(hold) => {
                slotted::acquire::<Semaphore>(&client, global, &hold, None, signals)
            }
            Command::Renew(renew) => slotted::renew::<Semaphore>(&client, global, &renew),
            Command::Release(grant) => slotted::release::<Semaphore>(&client, &grant),
            Command::Create { name, permits, ttl } => {
                let object = client.create_semaphore(&name, permits, ttl)?;
                manage::created(&object, global)
            }
            Command::Get(named) => manage::get::<Semaphore>(&client, global, &named),
            Command::List => manage::list::<Semaphore>(&client, global),
            Command::Delete(named) => manage::delete::<Semaphore>(&client, global, &named),
        }
    }
}
