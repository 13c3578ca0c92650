//! Hammers one semaphore or lease from many threads and appends every hold
//! interval to a log shared with the other contender processes.
//!
//! Usage: contender --kubeconfig PATH --namespace NS --kind semaphore|lease
//! --name NAME --process N --threads T --cycles C --hold-us U --log FILE
//!
//! Prints `done cycles=… errors=…` at the end and exits non-zero after any
//! failed call.

use std::fs::OpenOptions;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use konductor::{Client, Config, Options};
use konductor_tests::holds::{monotonic_ns, Hold};

/// Long enough that no holder is evicted while alive on a busy machine.
const TTL: Duration = Duration::from_secs(30);

struct Args {
    kubeconfig: String,
    namespace: String,
    kind: String,
    name: String,
    process: u32,
    threads: u32,
    cycles: u32,
    hold: Duration,
    log: String,
}

fn parse_args() -> Result<Args, String> {
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
    let number = |key: &str, value: String| {
        value
            .parse::<u64>()
            .map_err(|_| format!("--{key} {value:?} is not a number"))
    };
    Ok(Args {
        kubeconfig: take("kubeconfig")?,
        namespace: take("namespace")?,
        kind: take("kind")?,
        name: take("name")?,
        process: number("process", take("process")?)? as u32,
        threads: number("threads", take("threads")?)? as u32,
        cycles: number("cycles", take("cycles")?)? as u32,
        hold: Duration::from_micros(number("hold-us", take("hold-us")?)?),
        log: take("log")?,
    })
}

/// One acquire/hold/release cycle; returns the logged hold.
fn cycle(client: &Client, args: &Args, options: &Options, thread: u32) -> konductor::Result<Hold> {
    let called = monotonic_ns();
    let (token, acquired, releasing) = match args.kind.as_str() {
        "lease" => {
            let lease = client.acquire_lease(&args.name, options)?;
            let acquired = monotonic_ns();
            thread::sleep(args.hold);
            let releasing = monotonic_ns();
            lease.release()?;
            (lease.token(), acquired, releasing)
        }
        _ => {
            let permit = client.acquire_semaphore(&args.name, options)?;
            let acquired = monotonic_ns();
            thread::sleep(args.hold);
            let releasing = monotonic_ns();
            permit.release()?;
            (permit.token(), acquired, releasing)
        }
    };
    Ok(Hold {
        process: args.process,
        thread,
        token,
        called,
        acquired,
        releasing,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("contender: {message}");
            return ExitCode::from(2);
        }
    };
    if !matches!(args.kind.as_str(), "semaphore" | "lease") {
        eprintln!(
            "contender: --kind must be semaphore or lease, not {:?}",
            args.kind
        );
        return ExitCode::from(2);
    }
    let client = match Config::from_kubeconfig(&args.kubeconfig, None)
        .map(|c| c.with_namespace(&args.namespace))
        .and_then(|c| Client::new(Some(c)))
    {
        Ok(client) => client,
        Err(error) => {
            eprintln!("contender: {error}");
            return ExitCode::from(2);
        }
    };
    let log = match OpenOptions::new().create(true).append(true).open(&args.log) {
        Ok(file) => Mutex::new(file),
        Err(error) => {
            eprintln!("contender: cannot open {}: {error}", args.log);
            return ExitCode::from(2);
        }
    };
    let done = AtomicU64::new(0);
    let errors = AtomicU64::new(0);
    thread::scope(|scope| {
        for thread in 0..args.threads {
            let (client, args, log, done, errors) = (&client, &args, &log, &done, &errors);
            scope.spawn(move || {
                let options = Options::new()
                    .holder(format!("p{}-t{thread}", args.process))
                    .ttl(TTL);
                for _ in 0..args.cycles {
                    match cycle(client, args, &options, thread) {
                        Ok(hold) => {
                            // One write per line on an O_APPEND file: lines of
                            // different processes never interleave.
                            let line = format!("{hold}\n");
                            let mut file = log.lock().unwrap_or_else(|e| e.into_inner());
                            if let Err(error) = file.write_all(line.as_bytes()) {
                                eprintln!(
                                    "contender p{}: cannot write the log: {error}",
                                    args.process
                                );
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(error) => {
                            eprintln!("contender p{}-t{thread}: {error}", args.process);
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    let (done, errors) = (done.into_inner(), errors.into_inner());
    println!("done cycles={done} errors={errors}");
    if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
