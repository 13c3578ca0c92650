//! `konductor mutex …`: one holder at a time, for critical sections.

use std::time::Duration;

use clap::Subcommand;
use konductor::resource::Mutex;

use crate::connect::Global;
use crate::exit::Outcome;
use crate::manage::{self, Named};
use crate::signals::Signals;
use crate::slotted::{self, duration, once, Busy, ByHolder, Hold, Renew, Run};

/// The mutex commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command holding the lock: waits for it, renews it meanwhile, unlocks on exit.
    Run(Run),
    /// Lock the mutex, waiting for it, and keep it after exit (renew and unlock it by holder).
    Lock(Hold),
    /// Lock the mutex only if it is unlocked now (exit 67 if locked), and keep it after exit.
    TryLock(Hold),
    /// Renew a lock kept by `lock` or `try-lock`.
    Renew(Renew),
    /// Unlock a lock kept by `lock` or `try-lock`.
    Unlock(ByHolder),
    /// Create a mutex.
    Create {
        /// Name of the mutex.
        name: String,
        /// Default time-to-live of a lock.
        #[arg(long, value_parser = duration, value_name = "DURATION")]
        ttl: Option<Duration>,
        /// Default priority of lockers.
        #[arg(long, allow_negative_numbers = true, value_name = "N")]
        priority: Option<i32>,
    },
    /// Show a mutex.
    Get(Named),
    /// List the mutexes of the namespace.
    List,
    /// Delete a mutex (its holder loses the lock).
    Delete(Named),
}

impl Command {
    /// Runs the command.
    pub fn run(self, global: &Global, signals: &Signals) -> Outcome {
        let client = global.client()?;
        match self {
            Command::Run(run) => slotted::run::<Mutex>(&client, &run, None, Busy::Fail, signals),
            Command::Lock(hold) => slotted::acquire::<Mutex>(&client, global, &hold, None, signals),
            Command::TryLock(hold) => {
                slotted::acquire::<Mutex>(&client, global, &once(hold, "try-lock")?, None, signals)
            }
            Command::Renew(renew) => slotted::renew::<Mutex>(&client, global, &renew),
            Command::Unlock(grant) => slotted::release::<Mutex>(&client, &grant),
            Command::Create {
                name,
                ttl,
                priority,
            } => {
                let object = client.create_mutex(&name, ttl, priority)?;
                manage::created(&object, global)
            }
            Command::Get(named) => manage::get::<Mutex>(&client, global, &named),
            Command::List => manage::list::<Mutex>(&client, global),
            Command::Delete(named) => manage::delete::<Mutex>(&client, global, &named),
        }
    }
}
