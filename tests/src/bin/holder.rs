//! Acquires one semaphore permit or lease with automatic renewal, prints
//! `held TOKEN`, and holds it until the process is killed.
//!
//! Usage: holder --kubeconfig PATH --namespace NS --kind semaphore|lease
//! --name NAME --holder ID --ttl-ms MS

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use konductor::Options;
use konductor_tests::flags::Flags;

fn run() -> Result<(), String> {
    let mut flags = Flags::from_args()?;
    let client = flags.client()?;
    let (kind, name, holder) = (flags.kind()?, flags.take("name")?, flags.take("holder")?);
    let options = Options::new()
        .holder(holder)
        .ttl(Duration::from_millis(flags.number("ttl-ms")?))
        .auto_renew(true);
    // Keep the slot until the process dies: dropping it would release.
    let slot = kind
        .acquire(&client, &name, &options)
        .map_err(|e| e.to_string())?;
    println!("held {}", slot.token());
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("holder: {message}");
            ExitCode::FAILURE
        }
    }
}
