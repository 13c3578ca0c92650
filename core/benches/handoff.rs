//! Hand-off benchmark: how fast a released permit reaches the next waiter, and
//! how many API writes a cycle costs with 8 and with 128 queued waiters,
//! next to a baseline measured in the same run: waiters that poll with
//! back-off, as the original Go SDK does.
//!
//! Needs a cluster with the CRDs: `tests/cluster/up` (or set
//! `KONDUCTOR_TEST_KUBECONFIG`), then `cargo bench -p konductor --bench handoff`.
//! Write counts come from the API server's own `apiserver_request_total`
//! (read with kubectl, so the kubeconfig user must be allowed `/metrics`).

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use konductor::{Client, Config, Error, Options};

/// Grants measured per scenario.
const CYCLES: usize = 150;
/// Longest wait for the queue to form.
const QUEUE_WAIT: Duration = Duration::from_secs(120);
/// What a waiter does between releasing and asking again.
const PAUSE: Duration = Duration::from_millis(20);

fn main() {
    let kubeconfig = kubeconfig();
    let client = Client::new(Some(
        Config::from_kubeconfig(&kubeconfig, None).expect("kubeconfig"),
    ))
    .expect("client");
    let kubectl = kubectl();
    println!("hand-off of a semaphore(permits=1), {CYCLES} grants per scenario");
    println!(
        "{:<28} {:>7} {:>10} {:>10} {:>12} {:>11} {:>15}",
        "scenario",
        "waiters",
        "p50 (ms)",
        "p99 (ms)",
        "writes/grant",
        "reads/grant",
        "conflicts/grant"
    );
    let many: usize = std::env::var("KONDUCTOR_BENCH_WAITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let watch8 = run(&client, &kubeconfig, kubectl.as_deref(), 8, Mode::Watch);
    let watch_many = run(&client, &kubeconfig, kubectl.as_deref(), many, Mode::Watch);
    let poll8 = run(&client, &kubeconfig, kubectl.as_deref(), 8, Mode::Poll);
    println!();
    if let (Some(watch8), Some(poll8)) = (&watch8, &poll8) {
        println!(
            "median hand-off, polling baseline / watch: {:.1}x",
            poll8.p50_ms / watch8.p50_ms.max(0.001)
        );
    }
    let writes = |o: &Option<Outcome>| o.as_ref().and_then(|o| o.writes);
    if let (Some(w8), Some(w128)) = (writes(&watch8), writes(&watch_many)) {
        println!(
            "writes per grant, {many} vs 8 waiters: {:.2}x (1.0 = does not grow with waiters)",
            w128 / w8
        );
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Queue in the object and wait on its watch (this library).
    Watch,
    /// Try, then sleep with doubling back-off up to 1 s (the original SDK).
    Poll,
}

struct Outcome {
    p50_ms: f64,
    writes: Option<f64>,
}

fn run(
    client: &Client,
    kubeconfig: &PathBuf,
    kubectl: Option<&str>,
    waiters: usize,
    mode: Mode,
) -> Option<Outcome> {
    let name = format!(
        "bench-handoff-{}-{waiters}-{}",
        std::process::id(),
        mode as u8
    );
    client
        .create_semaphore(&name, 1, Some(Duration::from_secs(60)))
        .expect("create semaphore");
    let first = client
        .acquire_semaphore(&name, &Options::new().holder("bench-first"))
        .expect("first acquire");

    // (released_at, acquired_at) pairs; a grant's latency is measured from the
    // previous holder's release call.
    let grants = Arc::new(AtomicUsize::new(0));
    let events: Arc<Mutex<Vec<(Instant, Instant)>>> = Arc::default();
    let last_release = Arc::new(Mutex::new(Instant::now()));
    let threads: Vec<_> = (0..waiters)
        .map(|i| {
            let (client, name) = (client.clone(), name.clone());
            // Arrivals one after another, as from pods started over time:
            // the queue forms without a burst of simultaneous writes.
            if mode == Mode::Watch {
                wait_for_queue(&client, &name, i);
            }
            let (grants, events, last_release) =
                (grants.clone(), events.clone(), last_release.clone());
            thread::spawn(move || {
                let options = Options::new()
                    .holder(format!("bench-{i}"))
                    .ttl(Duration::from_secs(60));
                while grants.load(Ordering::SeqCst) < CYCLES {
                    let permit = match mode {
                        Mode::Watch => client.acquire_semaphore(
                            &name,
                            &options.clone().timeout(Duration::from_secs(120)),
                        ),
                        Mode::Poll => poll(&client, &name, &options, &grants),
                    };
                    let permit = match permit {
                        Ok(permit) => permit,
                        Err(error) => {
                            if grants.load(Ordering::SeqCst) < CYCLES {
                                eprintln!("waiter {i} gave up: {error}");
                            }
                            break;
                        }
                    };
                    let acquired = Instant::now();
                    let released = *last_release.lock().unwrap();
                    if grants.fetch_add(1, Ordering::SeqCst) < CYCLES {
                        events.lock().unwrap().push((released, acquired));
                    }
                    *last_release.lock().unwrap() = Instant::now();
                    permit.release().expect("release");
                    // Work between acquisitions, so the releaser does not
                    // simply take the permit back.
                    thread::sleep(PAUSE);
                }
            })
        })
        .collect();
    if mode == Mode::Watch && !wait_for_queue(client, &name, waiters) {
        println!("{:<28} {waiters:>7}   the queue did not form within {QUEUE_WAIT:?}: API server too slow", "watch + direct hand-off");
        let _ = client.delete_semaphore(&name);
        drop(first);
        return None;
    } else if mode == Mode::Poll {
        thread::sleep(Duration::from_millis(500));
    }
    let before = kubectl.and_then(|k| request_counts(k, kubeconfig));
    let started = Instant::now();
    *last_release.lock().unwrap() = Instant::now();
    first.release().expect("release first");
    for thread in threads {
        thread.join().expect("waiter thread");
    }
    let elapsed = started.elapsed();
    let after = kubectl.and_then(|k| request_counts(k, kubeconfig));
    let _ = client.delete_semaphore(&name);

    let mut latencies: Vec<f64> = events
        .lock()
        .unwrap()
        .iter()
        .map(|(released, acquired)| {
            acquired.saturating_duration_since(*released).as_secs_f64() * 1000.0
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    // Waiters still queued at the end are granted too; count every grant.
    let total = grants.load(Ordering::SeqCst) as f64;
    let (writes, reads, conflicts) = match (before, after) {
        (Some(b), Some(a)) => (
            Some((a.0 - b.0) / total),
            Some((a.1 - b.1) / total),
            Some((a.2 - b.2) / total),
        ),
        _ => (None, None, None),
    };
    let show = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.2}"));
    let label = match mode {
        Mode::Watch => "watch + direct hand-off",
        Mode::Poll => "polling (baseline)",
    };
    println!(
        "{label:<28} {waiters:>7} {:>10.2} {:>10.2} {:>12} {:>11} {:>15}   ({:.0} grants/s)",
        percentile(0.5),
        percentile(0.99),
        show(writes),
        show(reads),
        show(conflicts),
        total / elapsed.as_secs_f64()
    );
    Some(Outcome {
        p50_ms: percentile(0.5),
        writes,
    })
}

/// The original SDK's way: try, and on "no free permit" sleep with doubling back-off.
fn poll(
    client: &Client,
    name: &str,
    options: &Options,
    grants: &AtomicUsize,
) -> konductor::Result<konductor::Permit> {
    let mut backoff = Duration::from_millis(100);
    loop {
        match client.acquire_semaphore(name, &options.clone().timeout(Duration::ZERO)) {
            Err(Error::Timeout { .. }) if grants.load(Ordering::SeqCst) < CYCLES => {
                thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
            other => return other,
        }
    }
}

/// Waits until `waiters` are queued; false if that takes longer than [`QUEUE_WAIT`].
fn wait_for_queue(client: &Client, name: &str, waiters: usize) -> bool {
    let deadline = Instant::now() + QUEUE_WAIT;
    while Instant::now() < deadline {
        let queued = client
            .api::<konductor::resource::Semaphore>()
            .waiters(name)
            .map_or(0, |w| w.len());
        if queued >= waiters {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

/// (successful writes, GET requests, conflicts) on semaphores so far, from the API server's metrics.
fn request_counts(kubectl: &str, kubeconfig: &PathBuf) -> Option<(f64, f64, f64)> {
    let output = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "--raw", "/metrics"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut writes = 0.0;
    let mut reads = 0.0;
    let mut conflicts = 0.0;
    for line in text
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
    {
        if !line.contains("resource=\"semaphores\"") {
            continue;
        }
        let value: f64 = line.rsplit(' ').next()?.parse().ok()?;
        let write = line.contains("verb=\"PUT\"") || line.contains("verb=\"PATCH\"");
        if write && line.contains("code=\"409\"") {
            conflicts += value;
        } else if write && line.contains("code=\"200\"") {
            writes += value;
        } else if line.contains("verb=\"GET\"") {
            reads += value;
        }
    }
    Some((writes, reads, conflicts))
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn kubeconfig() -> PathBuf {
    std::env::var_os("KONDUCTOR_TEST_KUBECONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".cache/cluster/admin.kubeconfig"))
}

fn kubectl() -> Option<String> {
    if let Ok(kubectl) = std::env::var("KUBECTL") {
        return Some(kubectl);
    }
    let env = std::fs::read_to_string(repo_root().join(".cache/cluster/env")).ok()?;
    env.lines()
        .find_map(|l| l.strip_prefix("KUBECTL="))
        .map(str::to_owned)
}
