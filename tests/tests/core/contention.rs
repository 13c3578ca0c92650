//! Safety under contention: 3 processes × 8 threads hammer one
//! Semaphore(permits=3), one Lease and one Mutex for over 2,000 acquire/hold/release
//! cycles each. Every hold is logged with the system-wide monotonic clock;
//! the logs must never show more holders than slots, and the fencing tokens
//! must be unique, gap-free and ordered like the grants.
//!
//! The runs are heavy: they take `one_at_a_time`, so that no timing test
//! of this binary runs meanwhile, and a file lock, so that they never overlap
//! the same test started by another `cargo test`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use konductor::Client;
use konductor_tests::flags::command;
use konductor_tests::holds::{check_tokens, max_overlap, parse_log, percentile, Hold};
use konductor_tests::kind::Kind;
use konductor_tests::namespace::Namespace;
use konductor_tests::serial::one_at_a_time;

const PROCESSES: u32 = 3;
const THREADS: u32 = 8;
/// Per thread; 3 × 8 × 84 = 2,016 cycles.
const CYCLES: u32 = 84;
/// How long a semaphore holder holds: long against a hand-off, so that all
/// three permits are busy at once and an over-grant would show.
const SEMAPHORE_HOLD: Duration = Duration::from_millis(30);
/// Leases are handed over one at a time; a short hold keeps the run bounded.
const LEASE_HOLD: Duration = Duration::from_millis(1);
/// The run is killed and fails after this long.
const LIMIT: Duration = Duration::from_secs(420);

/// Held while a contention run is in progress.
fn exclusive() -> File {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("core_contention.lock");
    let file =
        File::create(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    file.lock().expect("lock the contention lock file");
    file
}

/// The output files of one contender: pipes could fill up and stall it.
fn output_paths(log: &Path, process: u32) -> (PathBuf, PathBuf) {
    (
        log.with_extension(format!("p{process}.out")),
        log.with_extension(format!("p{process}.err")),
    )
}

fn spawn(ns: &Namespace, kind: Kind, process: u32, hold: Duration, log: &Path) -> Child {
    let (out, err) = output_paths(log, process);
    command(env!("CARGO_BIN_EXE_contender"), &ns.name, kind, "hot")
        .args(["--process", &process.to_string()])
        .args(["--threads", &THREADS.to_string()])
        .args(["--cycles", &CYCLES.to_string()])
        .args(["--hold-us", &hold.as_micros().to_string()])
        .arg("--log")
        .arg(log)
        .stdout(File::create(&out).expect("contender stdout file"))
        .stderr(File::create(&err).expect("contender stderr file"))
        .spawn()
        .expect("spawn the contender binary")
}

/// The last lines of a file, for failure messages.
fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Waits for every contender; kills them all and fails with what they said
/// if the run exceeds LIMIT. Returns each one's exit status, stdout and stderr.
fn finish(
    client: &Client,
    kind: Kind,
    log: &Path,
    mut children: Vec<Child>,
) -> Vec<(ExitStatus, String, String)> {
    let started = Instant::now();
    while children
        .iter_mut()
        .any(|c| c.try_wait().expect("poll contender").is_none())
    {
        if started.elapsed() > LIMIT {
            for child in &mut children {
                let _ = child.kill();
                let _ = child.wait();
            }
            let logged = std::fs::read_to_string(log)
                .map(|t| t.lines().count())
                .unwrap_or(0);
            let state = kind.describe(client, "hot");
            let said: Vec<String> = (0..children.len() as u32)
                .map(|p| {
                    format!(
                        "contender {p} stderr:\n{}",
                        tail(&output_paths(log, p).1, 10)
                    )
                })
                .collect();
            panic!(
                "expected the contenders to finish within {LIMIT:?}; killed them after {logged} logged holds.\n\
                 object status: {state}\n{}",
                said.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    children
        .into_iter()
        .enumerate()
        .map(|(p, mut c)| {
            let status = c.wait().expect("contender status");
            let (out, err) = output_paths(log, p as u32);
            let said = (
                std::fs::read_to_string(&out).unwrap_or_default(),
                tail(&err, 20),
            );
            let _ = (std::fs::remove_file(out), std::fs::remove_file(err));
            (status, said.0, said.1)
        })
        .collect()
}

/// The object's fencing counter, holders and waiters.
fn final_fencing(client: &Client, kind: Kind) -> (u64, usize, usize) {
    (
        kind.fencing(client, "hot"),
        kind.holders(client, "hot").len(),
        kind.waiters(client, "hot").len(),
    )
}

fn hammer(kind: Kind, capacity: usize, hold: Duration) {
    let _serial = one_at_a_time();
    let _exclusive = exclusive();
    let ns = Namespace::new(&format!("hot-{kind}"));
    let client = ns.admin();
    kind.create(&client, "hot", capacity as u32);
    let log = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("contention-{kind}-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);

    let started = Instant::now();
    let children = (0..PROCESSES)
        .map(|p| spawn(&ns, kind, p, hold, &log))
        .collect();
    let results = finish(&client, kind, &log, children);
    let wall = started.elapsed();
    for (process, (status, stdout, stderr)) in results.iter().enumerate() {
        assert!(
            status.success(),
            "contender {process} failed ({status}): {stdout}\n{stderr}"
        );
    }

    let text = std::fs::read_to_string(&log).expect("read the hold log");
    let holds: Vec<Hold> = parse_log(&text).expect("well-formed hold log");
    let expected = (PROCESSES * THREADS * CYCLES) as usize;
    assert_eq!(holds.len(), expected, "expected {expected} logged holds");

    let overlap = max_overlap(&holds);
    let first = holds.iter().map(|h| h.called).min().expect("holds");
    let last = holds.iter().map(|h| h.releasing).max().expect("holds");
    let span = Duration::from_nanos(last - first);
    let latencies: Vec<u64> = holds.iter().map(|h| h.acquired - h.called).collect();
    let (p50, p99, max) = (
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        percentile(&latencies, 100.0),
    );
    let mut by_acquire = holds.clone();
    by_acquire.sort_by_key(|h| h.acquired);
    let inversions = by_acquire
        .windows(2)
        .filter(|p| p[0].token > p[1].token)
        .count();
    if capacity == 1 {
        // One holder at a time: the gap from one release to the next grant is the hand-off.
        let gaps: Vec<u64> = by_acquire
            .windows(2)
            .map(|p| p[1].acquired.saturating_sub(p[0].releasing))
            .collect();
        println!(
            "{kind}: hand-off (release started -> next acquire returned) p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            percentile(&gaps, 50.0) as f64 / 1e6,
            percentile(&gaps, 99.0) as f64 / 1e6,
            percentile(&gaps, 100.0) as f64 / 1e6,
        );
    }
    println!(
        "{kind} (capacity {capacity}): {} cycles by {PROCESSES} processes x {THREADS} threads in {:.1} s ({:.0} cycles/s; wall {:.1} s); \
         max overlap {overlap}; acquire latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
         {inversions} adjacent token inversions in acquire-return order",
        holds.len(),
        span.as_secs_f64(),
        holds.len() as f64 / span.as_secs_f64(),
        wall.as_secs_f64(),
        p50 as f64 / 1e6,
        p99 as f64 / 1e6,
        max as f64 / 1e6,
    );
    assert!(
        overlap <= capacity,
        "expected at most {capacity} concurrent holders, the log shows {overlap}"
    );
    assert_eq!(
        overlap, capacity,
        "expected the run to keep all {capacity} slots busy at some point (else it could not catch an over-grant)"
    );
    if let Err(violation) = check_tokens(&holds, capacity) {
        panic!("fencing tokens out of grant order: {violation}");
    }
    let mut tokens: Vec<u64> = holds.iter().map(|h| h.token).collect();
    tokens.sort_unstable();
    let (low, high) = (tokens[0], tokens[tokens.len() - 1]);
    assert_eq!(
        high - low + 1,
        tokens.len() as u64,
        "expected gap-free tokens {low}..={high} for {} grants",
        tokens.len()
    );
    let (fencing, holders, waiters) = final_fencing(&client, kind);
    assert_eq!(
        fencing, high,
        "expected the object's fencing counter at the last token {high}, found {fencing}"
    );
    assert_eq!(
        (holders, waiters),
        (0, 0),
        "expected nothing held or queued after the run"
    );
    let _ = std::fs::remove_file(&log);
}

#[test]
fn a_semaphore_of_three_never_has_more_than_three_holders() {
    hammer(Kind::Semaphore, 3, SEMAPHORE_HOLD);
}

#[test]
fn a_lease_never_has_more_than_one_holder() {
    hammer(Kind::Lease, 1, LEASE_HOLD);
}

#[test]
fn a_mutex_never_has_more_than_one_holder() {
    hammer(Kind::Mutex, 1, LEASE_HOLD);
}
