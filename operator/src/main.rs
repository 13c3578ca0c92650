//! `konductor-operator`: the long-lived process of Konductor.
//!
//! Clients coordinate through resourceVersion-guarded status writes on their
//! own; this process adds what needs someone always running: prompt reclaim
//! of holders that stopped renewing, barrier and gate timeouts,
//! gate condition evaluation, derived status fields, Events and metrics.
//! `konductor-operator crds` prints the CustomResourceDefinitions generated
//! from the Rust types.

mod backoff;
mod barrier;
mod cli;
mod client;
mod clock;
mod context;
mod controllers;
mod crd;
mod error;
mod events;
mod gate;
mod gate_conditions;
mod gate_index;
mod leader;
mod metrics;
mod object;
mod reclaim;
mod reconciler;
mod run;
mod server;
mod status;
mod waitgroup;

use std::io::IsTerminal;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

use cli::Command;

fn main() -> ExitCode {
    let args = cli::parse();
    let filter = EnvFilter::try_new(&args.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if args.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    let result = match &args.command {
        Some(Command::Crds { out_dir, check }) => crds(out_dir.as_deref(), check.as_deref()),
        Some(Command::Run) | None => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| error::Error::io("start the async runtime", e))
            .and_then(|runtime| runtime.block_on(run::run(args))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "konductor-operator failed");
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn crds(out_dir: Option<&std::path::Path>, check: Option<&std::path::Path>) -> error::Result<()> {
    if let Some(dir) = check {
        let stale = crd::drift(dir)?;
        if stale.is_empty() {
            return Ok(());
        }
        return Err(error::Error::Config(format!(
            "generated CRDs differ from {}; run `konductor-operator crds --out-dir {}`",
            stale.join(", "),
            dir.display()
        )));
    }
    match out_dir {
        Some(dir) => crd::write(dir),
        None => {
            print!("{}", crd::print_all()?);
            Ok(())
        }
    }
}
