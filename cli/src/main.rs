//! `konductor`: run commands under Konductor semaphores, leases, mutexes and barriers,
//! wait for gates, and manage the objects, from shells, initContainers,
//! CronJobs and workflow steps. The guide is `cli/README.md`.

mod barrier;
mod child;
mod connect;
mod exit;
mod gate;
mod lease;
mod manage;
mod mutex;
mod once;
mod output;
mod progress;
mod rwmutex;
mod semaphore;
mod signals;
mod slotted;
mod waitgroup;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::connect::Global;
use crate::exit::{Exit, Failure, Outcome};
use crate::signals::Signals;

/// Kubernetes-native coordination from the command line.
#[derive(Debug, Parser)]
#[command(name = "konductor", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// One subcommand per kind, then the tool's own.
#[derive(Debug, Subcommand)]
enum Command {
    /// Semaphores: at most N holders at a time.
    #[command(subcommand, visible_alias = "sem")]
    Semaphore(semaphore::Command),
    /// Leases: one holder at a time.
    #[command(subcommand, visible_alias = "kl")]
    Lease(lease::Command),
    /// Mutexes: one holder at a time, for critical sections.
    #[command(subcommand, visible_alias = "mtx")]
    Mutex(mutex::Command),
    /// RWMutexes: many readers or one writer, never both.
    #[command(subcommand, visible_alias = "rwm")]
    Rwmutex(rwmutex::Command),
    /// Onces: a command that runs in exactly one caller across the cluster.
    #[command(subcommand)]
    Once(once::Command),
    /// Barriers: start together once all arrived.
    #[command(subcommand, visible_alias = "bar")]
    Barrier(barrier::Command),
    /// Wait groups: wait until every worker is done.
    #[command(subcommand, visible_alias = "wg")]
    Waitgroup(waitgroup::Command),
    /// Gates: wait until Jobs or other primitives reach a state.
    #[command(subcommand)]
    Gate(gate::Command),
    /// Print a shell completion script.
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the version.
    Version,
}

fn command() -> clap::Command {
    Cli::command().after_help(exit::help())
}

fn dispatch(cli: Cli) -> Outcome {
    let global = &cli.global;
    match cli.command {
        Command::Completion { shell } => {
            clap_complete::generate(shell, &mut command(), "konductor", &mut std::io::stdout());
            Ok(Exit::Ok.code())
        }
        Command::Version => {
            let version = env!("CARGO_PKG_VERSION");
            match global.output {
                output::Format::Json | output::Format::Yaml => {
                    output::print_value(&serde_json::json!({ "version": version }), global.output)?
                }
                _ => println!("konductor {version}"),
            }
            Ok(Exit::Ok.code())
        }
        Command::Semaphore(command) => command.run(global, &Signals::install()?),
        Command::Lease(command) => command.run(global, &Signals::install()?),
        Command::Mutex(command) => command.run(global, &Signals::install()?),
        Command::Once(command) => command.run(global, &Signals::install()?),
        Command::Rwmutex(command) => command.run(global, &Signals::install()?),
        Command::Barrier(command) => command.run(global, &Signals::install()?),
        Command::Gate(command) => command.run(global, &Signals::install()?),
        Command::Waitgroup(command) => command.run(global, &Signals::install()?),
    }
}

fn main() -> ExitCode {
    let parsed = command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) if error.use_stderr() => {
            // clap's first line names the bad flag or value; the rest is usage.
            let rendered = error.render().to_string();
            let line = rendered.lines().next().unwrap_or("bad arguments");
            let line = line.strip_prefix("error: ").unwrap_or(line);
            eprintln!("konductor: {line} (see --help)");
            return ExitCode::from(Exit::Usage.code());
        }
        Err(help) => {
            let _ = help.print();
            return ExitCode::SUCCESS;
        }
    };
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(Failure { code, message }) => {
            eprintln!("konductor: {message}");
            ExitCode::from(code)
        }
    }
}
