//! `konductor waitgroup …`: workers report done once each; a coordinator waits for zero.

use std::time::Duration;

use clap::Subcommand;
use konductor::resource::WaitGroup;
use konductor::{default_holder, Options};

use crate::barrier::{wait_open, Wait};
use crate::connect::Global;
use crate::exit::{Exit, Outcome};
use crate::manage::{self, Named};
use crate::output::{print_one, Format};
use crate::signals::Signals;
use crate::slotted::duration;

/// The wait group commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Raise the counter (once, even if a write is retried).
    Add {
        /// Name of the wait group.
        name: String,
        /// How much to add (1 to 2000).
        #[arg(default_value_t = 1, value_name = "N")]
        count: u32,
    },
    /// Lower the counter by one for a holder, once per holder (a repeat counts nothing).
    Done {
        /// Name of the wait group.
        name: String,
        /// Holder identity (default: $POD_NAME or the host name, plus a unique
        /// suffix; give one so that a retried done counts once).
        #[arg(long, value_name = "ID")]
        holder: Option<String>,
    },
    /// Wait until the counter is zero.
    Wait(Wait),
    /// Create a wait group.
    Create {
        /// Name of the wait group.
        name: String,
        /// The counter's initial value (0 to 2000).
        #[arg(long, default_value_t = 0, value_name = "N")]
        expected: u32,
        /// Have the operator delete it this long after the counter reached zero.
        #[arg(long, value_parser = duration, value_name = "DURATION")]
        ttl: Option<Duration>,
    },
    /// Show a wait group.
    Get(Named),
    /// List the wait groups of the namespace.
    List,
    /// Delete a wait group.
    Delete(Named),
}

/// Prints the wait group as written, in a line for tables.
fn written(group: &WaitGroup, line: String, format: Format) -> Outcome {
    match format {
        Format::Table => println!("{line}"),
        format => print_one(group, format)?,
    }
    Ok(Exit::Ok.code())
}

impl Command {
    /// Runs the command.
    pub fn run(self, global: &Global, signals: &Signals) -> Outcome {
        let client = global.client()?;
        let options = Options::new().cancel(signals.cancel());
        match self {
            Command::Add { name, count } => {
                let group = client.add_waitgroup(&name, count, &options)?;
                let line = format!(
                    "waitgroup {name}: added {count}, counter {}",
                    group.counter()
                );
                written(&group, line, global.output)
            }
            Command::Done { name, holder } => {
                let holder = holder.unwrap_or_else(default_holder);
                let group = client.done_waitgroup(&name, &options.holder(&holder))?;
                let line = format!(
                    "{holder} done in waitgroup {name}: counter {}",
                    group.counter()
                );
                written(&group, line, global.output)
            }
            Command::Wait(group) => {
                let what = format!(
                    "waitgroup {}/{} to reach zero",
                    client.namespace(),
                    group.name
                );
                wait_open(
                    what,
                    signals,
                    |options| client.wait_waitgroup(&group.name, options),
                    group.timeout,
                )?;
                Ok(Exit::Ok.code())
            }
            Command::Create {
                name,
                expected,
                ttl,
            } => {
                let object = client.create_waitgroup(&name, expected, ttl)?;
                manage::created(&object, global)
            }
            Command::Get(named) => manage::get::<WaitGroup>(&client, global, &named),
            Command::List => manage::list::<WaitGroup>(&client, global),
            Command::Delete(named) => manage::delete::<WaitGroup>(&client, global, &named),
        }
    }
}
