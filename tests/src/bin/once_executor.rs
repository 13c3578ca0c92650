//! Runs the work of a once that never finishes: claims it with `do_once`,
//! prints `running TOKEN` from inside the work, and sleeps until the process
//! is killed (an executor that crashes mid-run).
//!
//! Usage: once_executor --kubeconfig PATH --namespace NS --name NAME --holder ID --ttl-ms MS

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use konductor::Options;
use konductor_tests::flags::Flags;

fn run() -> Result<(), String> {
    let mut flags = Flags::from_args()?;
    let client = flags.client()?;
    let (name, holder) = (flags.take("name")?, flags.take("holder")?);
    let options = Options::new()
        .holder(holder)
        .ttl(Duration::from_millis(flags.number("ttl-ms")?));
    client
        .do_once(&name, &options, |run| -> Result<(), konductor::Error> {
            println!("running {}", run.token());
            let _ = std::io::stdout().flush();
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        })
        .map(drop)
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("once_executor: {message}");
            ExitCode::FAILURE
        }
    }
}
