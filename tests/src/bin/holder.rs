//! Acquires one semaphore permit or lease with automatic renewal, prints
//! `held TOKEN`, and holds it until the process is killed.
//!
//! Usage: holder --kubeconfig PATH --namespace NS --kind semaphore|lease
//! --name NAME --holder ID --ttl-ms MS

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use konductor::{Client, Config, Options};

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut get = std::collections::HashMap::new();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        get.insert(flag.trim_start_matches("--").to_owned(), value);
    }
    let mut take = |key: &str| {
        get.remove(key)
            .ok_or_else(|| format!("--{key} is required"))
    };
    let (kubeconfig, namespace, kind, name, holder) = (
        take("kubeconfig")?,
        take("namespace")?,
        take("kind")?,
        take("name")?,
        take("holder")?,
    );
    let ttl_ms: u64 = take("ttl-ms")?
        .parse()
        .map_err(|_| "--ttl-ms is not a number".to_owned())?;

    let config = Config::from_kubeconfig(&kubeconfig, None).map_err(|e| e.to_string())?;
    let client = Client::new(Some(config.with_namespace(&namespace))).map_err(|e| e.to_string())?;
    let options = Options::new()
        .holder(holder)
        .ttl(Duration::from_millis(ttl_ms))
        .auto_renew(true);
    // Keep the handle alive until the process dies: dropping it would release.
    let (token, _held): (u64, Box<dyn std::any::Any>) = match kind.as_str() {
        "semaphore" => {
            let permit = client
                .acquire_semaphore(&name, &options)
                .map_err(|e| e.to_string())?;
            (permit.token(), Box::new(permit))
        }
        "lease" => {
            let lease = client
                .acquire_lease(&name, &options)
                .map_err(|e| e.to_string())?;
            (lease.token(), Box::new(lease))
        }
        other => return Err(format!("--kind must be semaphore or lease, not {other:?}")),
    };
    println!("held {token}");
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
