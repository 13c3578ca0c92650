//! `konductor rwmutex …`: many readers or one writer, never both.

use std::time::Duration;

use clap::{Args, Subcommand};
use konductor::resource::{LockMode, RWMutex};

use crate::connect::Global;
use crate::exit::Outcome;
use crate::manage::{self, Named};
use crate::signals::Signals;
use crate::slotted::{self, duration, once, Busy, ByHolder, Hold, Renew, Run};

/// The rwmutex commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command holding a read (`--read`) or the write (`--write`)
    /// lock: waits for it, renews it meanwhile, unlocks on exit.
    Run(ModeRun),
    /// Take a read or the write lock, waiting for it, and keep it after exit
    /// (renew and unlock it by holder).
    Lock {
        #[command(flatten)]
        mode: Mode,
        #[command(flatten)]
        hold: Hold,
    },
    /// Take a read or the write lock only if it is granted now (exit 67 if
    /// not), and keep it after exit.
    TryLock {
        #[command(flatten)]
        mode: Mode,
        #[command(flatten)]
        hold: Hold,
    },
    /// Renew a lock kept by `lock` or `try-lock`.
    Renew(Renew),
    /// Unlock a lock kept by `lock` or `try-lock`.
    Unlock(ByHolder),
    /// Create an rwmutex.
    Create {
        /// Name of the rwmutex.
        name: String,
        /// Default time-to-live of a lock.
        #[arg(long, value_parser = duration, value_name = "DURATION")]
        ttl: Option<Duration>,
        /// Default priority of lockers.
        #[arg(long, allow_negative_numbers = true, value_name = "N")]
        priority: Option<i32>,
        /// Most readers at a time (1 to 10000; default 10000).
        #[arg(long, value_name = "N")]
        max_readers: Option<u32>,
    },
    /// Show an rwmutex.
    Get(Named),
    /// List the rwmutexes of the namespace.
    List,
    /// Delete an rwmutex (its holders lose their locks).
    Delete(Named),
}

/// `rwmutex run`: the lock's mode and the run.
#[derive(Debug, Args)]
pub struct ModeRun {
    #[command(flatten)]
    mode: Mode,
    #[command(flatten)]
    run: Run,
}

/// Which lock: exactly one of `--read` and `--write`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Mode {
    /// A read lock, shared with other readers.
    #[arg(long)]
    read: bool,
    /// The write lock, exclusive.
    #[arg(long)]
    write: bool,
}

impl Mode {
    fn lock_mode(&self) -> Option<LockMode> {
        Some(if self.write {
            LockMode::Write
        } else {
            LockMode::Read
        })
    }
}

impl Command {
    /// Runs the command.
    pub fn run(self, global: &Global, signals: &Signals) -> Outcome {
        let client = global.client()?;
        match self {
            Command::Run(ModeRun { mode, run }) => {
                slotted::run::<RWMutex>(&client, &run, mode.lock_mode(), Busy::Fail, signals)
            }
            Command::Lock { mode, hold } => {
                slotted::acquire::<RWMutex>(&client, global, &hold, mode.lock_mode(), signals)
            }
            Command::TryLock { mode, hold } => slotted::acquire::<RWMutex>(
                &client,
                global,
                &once(hold, "try-lock")?,
                mode.lock_mode(),
                signals,
            ),
            Command::Renew(renew) => slotted::renew::<RWMutex>(&client, global, &renew),
            Command::Unlock(grant) => slotted::release::<RWMutex>(&client, &grant),
            Command::Create {
                name,
                ttl,
                priority,
                max_readers,
            } => {
                let object = client.create_rwmutex(&name, ttl, priority, max_readers)?;
                manage::created(&object, global)
            }
            Command::Get(named) => manage::get::<RWMutex>(&client, global, &named),
            Command::List => manage::list::<RWMutex>(&client, global),
            Command::Delete(named) => manage::delete::<RWMutex>(&client, global, &named),
        }
    }
}
