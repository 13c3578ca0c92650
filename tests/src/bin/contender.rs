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

use konductor::{Client, Options};
use konductor_tests::flags::Flags;
use konductor_tests::holds::{monotonic_ns, Hold};
use konductor_tests::kind::Kind;

/// Long enough that no holder is evicted while alive on a busy machine.
const TTL: Duration = Duration::from_secs(30);

struct Args {
    kind: Kind,
    name: String,
    process: u32,
    threads: u32,
    cycles: u32,
    hold: Duration,
    log: String,
}

/// The client and the run's arguments, from the command line.
fn parse_args() -> Result<(Client, Args), String> {
    let mut flags = Flags::from_args()?;
    let client = flags.client()?;
    let args = Args {
        kind: flags.kind()?,
        name: flags.take("name")?,
        process: flags.number("process")? as u32,
        threads: flags.number("threads")? as u32,
        cycles: flags.number("cycles")? as u32,
        hold: Duration::from_micros(flags.number("hold-us")?),
        log: flags.take("log")?,
    };
    Ok((client, args))
}

/// One acquire/hold/release cycle; returns the logged hold.
fn cycle(client: &Client, args: &Args, options: &Options, thread: u32) -> konductor::Result<Hold> {
    let called = monotonic_ns();
    let slot = args.kind.acquire(client, &args.name, options)?;
    let acquired = monotonic_ns();
    thread::sleep(args.hold);
    let releasing = monotonic_ns();
    slot.release()?;
    Ok(Hold {
        process: args.process,
        thread,
        token: slot.token(),
        called,
        acquired,
        releasing,
    })
}

fn main() -> ExitCode {
    let (client, args) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("contender: {message}");
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
