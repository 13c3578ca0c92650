//! Hammers one RWMutex from reader and writer threads and appends every hold
//! interval to a log shared with the other contender processes. Threads
//! numbered below `--writers` take the write lock, the others read locks, so
//! the log tells each hold's mode by its (process, thread).
//!
//! Usage: rw_contender --kubeconfig PATH --namespace NS --name NAME
//! --process N --threads T --writers W --cycles C --hold-us U --ttl-ms L --log FILE
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

struct Args {
    name: String,
    process: u32,
    threads: u32,
    writers: u32,
    cycles: u32,
    hold: Duration,
    ttl: Duration,
    log: String,
}

fn parse_args() -> Result<(Client, Args), String> {
    let mut flags = Flags::from_args()?;
    let client = flags.client()?;
    let args = Args {
        name: flags.take("name")?,
        process: flags.number("process")? as u32,
        threads: flags.number("threads")? as u32,
        writers: flags.number("writers")? as u32,
        cycles: flags.number("cycles")? as u32,
        hold: Duration::from_micros(flags.number("hold-us")?),
        ttl: Duration::from_millis(flags.number("ttl-ms")?),
        log: flags.take("log")?,
    };
    Ok((client, args))
}

/// One lock/hold/unlock cycle in the thread's mode; returns the logged hold.
fn cycle(client: &Client, args: &Args, options: &Options, thread: u32) -> konductor::Result<Hold> {
    let called = monotonic_ns();
    let lock = if thread < args.writers {
        client.write_lock_rwmutex(&args.name, options)?
    } else {
        client.read_lock_rwmutex(&args.name, options)?
    };
    let acquired = monotonic_ns();
    thread::sleep(args.hold);
    let releasing = monotonic_ns();
    let token = lock.token();
    lock.release()?;
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
    let (client, args) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("rw_contender: {message}");
            return ExitCode::from(2);
        }
    };
    let log = match OpenOptions::new().create(true).append(true).open(&args.log) {
        Ok(file) => Mutex::new(file),
        Err(error) => {
            eprintln!("rw_contender: cannot open {}: {error}", args.log);
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
                    .ttl(args.ttl);
                for _ in 0..args.cycles {
                    match cycle(client, args, &options, thread) {
                        Ok(hold) => {
                            // One write per line on an O_APPEND file: lines of
                            // different processes never interleave.
                            let line = format!("{hold}\n");
                            let mut file = log.lock().unwrap_or_else(|e| e.into_inner());
                            if file.write_all(line.as_bytes()).is_err() {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(error) => {
                            eprintln!("rw_contender p{}-t{thread}: {error}", args.process);
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    let (done, errors) = (done.into_inner(), errors.into_inner());
    println!("done cycles={done} errors={errors}");
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
