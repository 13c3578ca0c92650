//! Contention through a faulty network: clients reach the API server only
//! through a loopback proxy that loses answers to requests the server has
//! executed, delays answers, and (in some tests) goes down for a few seconds
//! at a time like an API server restart, or answers bursts of requests with
//! 429 and 503 like an overloaded or starting API server. Safety must hold
//! whatever the network does: never more holders than slots, fencing tokens
//! increasing per thread and unique, every call back within its bound, only
//! transport errors, timeouts and the server's busy answers (429, 5xx) as
//! errors, and nothing left held or queued once every client is gone.
//!
//! Only the public API and the cluster are used, so the tests mean the same
//! whatever the acquire protocol writes where.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use konductor::{Client, Error, Options};
use konductor_tests::apiserver::SecondApiserver;
use konductor_tests::faults::{seed, Faults, FaultyProxy, XorShift};
use konductor_tests::kind::Kind;
use konductor_tests::serial::one_at_a_time;
use konductor_tests::wait::ms;

/// TTL of every grant, and so of every waiter's liveness (it is at most the
/// hold TTL): short, so that what a lost answer orphans must be reclaimed
/// within the run and the final check is quick.
const TTL: Duration = Duration::from_secs(5);
/// How long each acquire may wait.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Slack for scheduling on a loaded machine, on top of a call's own bound.
const MARGIN: Duration = Duration::from_secs(3);
/// The bound of a release: it may retry for its documented budget (10 s,
/// or longer while the grant's TTL lasts; the TTL here is shorter).
const RELEASE_BOUND: Duration = Duration::from_secs(10);
/// The longest hold; each is uniform from zero to it.
const MAX_HOLD: Duration = Duration::from_millis(2);
/// Contenders stop starting cycles after this; the test fails if the cycles
/// were not done by then.
const RUN_LIMIT: Duration = Duration::from_secs(180);
/// The most problems quoted in a failure message.
const QUOTED: usize = 15;

/// One contention run.
struct Run {
    kind: Kind,
    slots: u32,
    clients: usize,
    threads_per_client: usize,
    /// Cycles (grant, hold, release) to complete in all.
    cycles: u64,
    faults: Faults,
    /// Outages of the proxy, each 2–5 s, started when these fractions of
    /// the cycles are done.
    outages_at: &'static [f64],
    /// Bursts of 4–6 s in which 60% of requests are answered 429 or 503 by
    /// the proxy (unforwarded), started when these fractions of the cycles
    /// are done.
    bursts_at: &'static [f64],
    /// Restarts of the API server the clients talk to (a second one on the
    /// control plane's etcd, killed and started again), started when these
    /// fractions of the cycles are done.
    restarts_at: &'static [f64],
    /// After the run, the clients take every slot and release them all
    /// during an outage of [`FINAL_OUTAGE`], like an API server restart
    /// while they shut down.
    release_in_outage: bool,
}

/// The outage during the last releases: shorter than a release's budget, so
/// a release that retries while its budget lasts gets through.
const FINAL_OUTAGE: Duration = Duration::from_secs(3);

/// What the contenders saw, shared by all their threads.
#[derive(Default)]
struct Tally {
    /// Grants held right now, as counted by their holders.
    holding: AtomicU32,
    /// The most grants held at once.
    most: AtomicU32,
    /// Completed cycles.
    granted: AtomicU64,
    /// Acquire calls made.
    attempts: AtomicU64,
    /// Every token granted.
    tokens: Mutex<Vec<u64>>,
    /// Grants already lost when their hold ended (not a failure by itself:
    /// it explains an over-grant, if one is seen).
    lost_while_held: AtomicU64,
    /// Broken assertions, in the order they were seen.
    problems: Mutex<Vec<String>>,
    /// Errors by call and kind, with the first message of each.
    errors: Mutex<BTreeMap<String, (u64, String)>>,
    /// The calls that failed, by holder name (`c<client>t<thread>n<cycle>`),
    /// to say where records left behind came from.
    failed: Mutex<BTreeMap<String, String>>,
    /// The longest acquire and release calls.
    slowest: Mutex<BTreeMap<&'static str, Duration>>,
}

impl Tally {
    fn problem(&self, what: String) {
        self.problems
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what);
    }

    /// Notes how long a call took; a problem past `bound`.
    fn timed(&self, call: &'static str, took: Duration, bound: Duration, outcome: &str) {
        let mut slowest = self.slowest.lock().unwrap_or_else(|e| e.into_inner());
        let longest = slowest.entry(call).or_default();
        *longest = (*longest).max(took);
        drop(slowest);
        if took > bound {
            self.problem(format!(
                "{call} took {took:.1?}, over its bound {bound:?} ({outcome})"
            ));
        }
    }

    /// Counts an error; a problem unless it is a transport error or a timeout.
    fn error(&self, call: &'static str, holder: &str, took: Duration, error: &Error) {
        self.failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                holder.to_owned(),
                format!("its {call} failed after {took:.1?}: {error}"),
            );
        let kind = match error {
            Error::Transport { .. } => "transport",
            Error::Timeout { .. } => "timeout",
            // The server was busy until the call's deadline.
            Error::Api(status) if status.code == 429 || status.code >= 500 => "server busy",
            other => {
                self.problem(format!("{call} failed with an unexpected error: {other}"));
                "unexpected"
            }
        };
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(format!("{call} {kind}"))
            .or_insert_with(|| (0, error.to_string()))
            .0 += 1;
    }
}

/// One contender thread: acquire, check, hold, release, until the run has
/// its cycles or its time is up. Each acquisition has its own holder name,
/// `c<client>t<thread>n<cycle>`.
fn contend(client: &Client, run: &Run, me: &str, seed: u64, tally: &Tally, stop_at: Instant) {
    let mut rng = XorShift::new(seed);
    let mut last_token = 0;
    let mut cycle = 0;
    while tally.granted.load(Ordering::SeqCst) < run.cycles && Instant::now() < stop_at {
        cycle += 1;
        let holder = format!("{me}n{cycle}");
        let options = Options::new()
            .holder(&holder)
            .ttl(TTL)
            .timeout(ACQUIRE_TIMEOUT);
        tally.attempts.fetch_add(1, Ordering::Relaxed);
        let called = Instant::now();
        let acquired = run.kind.acquire(client, "x", &options);
        let took = called.elapsed();
        let outcome = match &acquired {
            Ok(slot) => format!("{holder} granted token {}", slot.token()),
            Err(error) => format!("{holder}: {error}"),
        };
        tally.timed("acquire", took, ACQUIRE_TIMEOUT + MARGIN, &outcome);
        let slot = match acquired {
            Ok(slot) => slot,
            Err(error) => {
                tally.error("acquire", &holder, took, &error);
                // A caller that failed pauses before trying again.
                thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        let token = slot.token();
        if slot.is_lost() {
            tally.problem(format!(
                "acquire returned token {token} to {holder} already lost, after {took:.1?}"
            ));
        } else {
            let now = tally.holding.fetch_add(1, Ordering::SeqCst) + 1;
            tally.most.fetch_max(now, Ordering::SeqCst);
            if now > run.slots {
                tally.problem(format!(
                    "over-grant: {now} holders of {} slots when token {token} was granted to {holder}",
                    run.slots
                ));
            }
            thread::sleep(rng.between(Duration::ZERO, MAX_HOLD));
            if slot.is_lost() {
                tally.lost_while_held.fetch_add(1, Ordering::Relaxed);
            }
            tally.holding.fetch_sub(1, Ordering::SeqCst);
        }
        if token <= last_token {
            tally.problem(format!(
                "token {token} granted to {holder} after token {last_token} in the same thread"
            ));
        }
        last_token = last_token.max(token);
        tally
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(token);
        let called = Instant::now();
        let released = slot.release();
        let took = called.elapsed();
        let outcome = match &released {
            Ok(()) => format!("{holder} released token {token}"),
            Err(error) => format!("{holder}, token {token}: {error}"),
        };
        tally.timed("release", took, RELEASE_BOUND + MARGIN, &outcome);
        if let Err(error) = released {
            tally.error("release", &holder, took, &error);
        }
        tally.granted.fetch_add(1, Ordering::SeqCst);
    }
}

/// What happens to the network or the server at a point of the run.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Disturbance {
    Outage,
    Burst,
    Restart,
}

/// Starts an outage of 2–5 s, a burst of 4–6 s or an API server restart
/// whenever the run passes one of `run.outages_at`, `run.bursts_at` or
/// `run.restarts_at`; returns how many it started.
fn disturb(
    proxy: &FaultyProxy,
    server: Option<&SecondApiserver>,
    run: &Run,
    seed: u64,
    tally: &Tally,
    stop_at: Instant,
) -> usize {
    let mut rng = XorShift::new(seed);
    let mut plan: Vec<(f64, Disturbance)> = [
        (run.outages_at, Disturbance::Outage),
        (run.bursts_at, Disturbance::Burst),
        (run.restarts_at, Disturbance::Restart),
    ]
    .iter()
    .flat_map(|(fractions, what)| fractions.iter().map(move |&f| (f, *what)))
    .collect();
    plan.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut started = 0;
    for (fraction, what) in plan {
        let at = (run.cycles as f64 * fraction) as u64;
        while tally.granted.load(Ordering::SeqCst) < at {
            if Instant::now() >= stop_at {
                return started;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let done = tally.granted.load(Ordering::SeqCst);
        match what {
            Disturbance::Outage => {
                let length = rng.between(Duration::from_secs(2), Duration::from_secs(5));
                println!("outage of {length:.1?} after {done} cycles");
                proxy.outage(length);
            }
            Disturbance::Burst => {
                let length = rng.between(Duration::from_secs(4), Duration::from_secs(6));
                println!("burst of 429/503 for {length:.1?} after {done} cycles");
                proxy.burst(length, BURST_SHARE);
            }
            Disturbance::Restart => {
                let server = server.expect("a restart needs the second API server");
                let began = Instant::now();
                server.restart();
                server.wait_ready();
                println!(
                    "API server killed and started again after {done} cycles; serving again after {:.1?}",
                    began.elapsed()
                );
            }
        }
        started += 1;
    }
    started
}

/// The share of requests a burst answers 429 or 503.
const BURST_SHARE: f64 = 0.6;

/// Takes every slot with the proxied clients in turn, then starts an outage
/// and releases all the slots while it lasts.
fn release_in_outage(proxy: &FaultyProxy, clients: &[Client], run: &Run, tally: &Tally) {
    let give_up = Instant::now() + Duration::from_secs(30);
    let mut held = Vec::new();
    for i in 0..run.slots as usize {
        let holder = format!("last{i}");
        let options = Options::new()
            .holder(&holder)
            .ttl(TTL)
            .timeout(ACQUIRE_TIMEOUT);
        loop {
            match run.kind.acquire(&clients[i % clients.len()], "x", &options) {
                Ok(slot) => break held.push((holder, slot)),
                Err(error) if Instant::now() > give_up => {
                    tally.problem(format!(
                        "{holder} could not take a slot at the end: {error}"
                    ));
                    break;
                }
                Err(_) => thread::sleep(Duration::from_millis(100)),
            }
        }
    }
    println!(
        "outage of {FINAL_OUTAGE:?} while {} slot(s) are released",
        held.len()
    );
    proxy.outage(FINAL_OUTAGE);
    thread::scope(|scope| {
        for (holder, slot) in &held {
            scope.spawn(move || {
                let called = Instant::now();
                let released = slot.release();
                let took = called.elapsed();
                let outcome = format!("{holder} during the final outage: {released:?}");
                tally.timed("release", took, RELEASE_BOUND + MARGIN, &outcome);
                if let Err(error) = released {
                    tally.error("release", holder, took, &error);
                }
            });
        }
    });
}

/// The holders and waiters left in the object, empty when it is free.
fn leftovers(kind: Kind, client: &Client) -> (Vec<String>, Vec<String>) {
    (kind.holders(client, "x"), kind.waiters(client, "x"))
}

fn contention_through_faults(run: Run, prefix: &str) {
    let _serial = one_at_a_time();
    let started = Instant::now();
    let (ns, direct) = run.kind.in_new_namespace(prefix, "x", run.slots);
    let seed = seed();
    println!(
        "{prefix}: seed {seed} (set KONDUCTOR_FAULT_SEED to repeat), faults {:?}",
        run.faults
    );
    let server = if run.restarts_at.is_empty() {
        None
    } else {
        let Some(server) = SecondApiserver::start() else {
            println!("skipped: restarts need the local control plane");
            return;
        };
        Some(server)
    };
    let proxy = match &server {
        Some(server) => FaultyProxy::in_front_of(&server.url, run.faults, seed),
        None => FaultyProxy::start(run.faults, seed),
    };
    let Some(proxy) = proxy else {
        println!("skipped: needs a token and CA in the test kubeconfig");
        return;
    };
    let clients: Vec<Client> = (0..run.clients).map(|_| proxy.client(&ns.name)).collect();
    let tally = Arc::new(Tally::default());
    let run = Arc::new(run);
    let stop_at = Instant::now() + RUN_LIMIT;
    let mut threads = Vec::new();
    for (c, client) in clients.iter().enumerate() {
        for t in 0..run.threads_per_client {
            let (client, run, tally) = (client.clone(), run.clone(), tally.clone());
            let seed = seed.wrapping_add((c * 1000 + t + 1) as u64);
            let me = format!("c{c}t{t}");
            threads.push(thread::spawn(move || {
                contend(&client, &run, &me, seed, &tally, stop_at)
            }));
        }
    }
    let disturbances = disturb(
        &proxy,
        server.as_ref(),
        &run,
        seed ^ 0x5eed,
        &tally,
        stop_at,
    );
    for thread in threads {
        thread.join().expect("contender thread");
    }
    if run.release_in_outage {
        release_in_outage(&proxy, &clients, &run, &tally);
    }
    drop(clients);
    let ran_for = started.elapsed();
    let stats = proxy.stats();
    drop(proxy);

    let tally = Arc::into_inner(tally).expect("threads joined");
    let mut problems = tally
        .problems
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let granted = tally.granted.into_inner();
    if granted < run.cycles {
        // Say how busy the machine was: the run's speed depends on it.
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        problems.push(format!(
            "only {granted} of {} cycles done within {RUN_LIMIT:?} ({:.1} cycles/s; load average {})",
            run.cycles,
            granted as f64 / ran_for.as_secs_f64(),
            load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
        ));
    }
    let tokens = tally.tokens.into_inner().unwrap_or_else(|e| e.into_inner());
    let unique: HashSet<u64> = tokens.iter().copied().collect();
    if unique.len() != tokens.len() {
        problems.push(format!(
            "{} tokens granted twice",
            tokens.len() - unique.len()
        ));
    }

    // Nothing may stay held or queued once the clients are gone: what they
    // could not release must be gone within the waiter liveness TTL.
    let freed_by = Instant::now() + TTL + MARGIN;
    let mut left = leftovers(run.kind, &direct);
    while (!left.0.is_empty() || !left.1.is_empty()) && Instant::now() < freed_by {
        thread::sleep(Duration::from_millis(100));
        left = leftovers(run.kind, &direct);
    }
    if !left.0.is_empty() || !left.1.is_empty() {
        let status = run.kind.describe(&direct, "x");
        let failed = tally.failed.lock().unwrap_or_else(|e| e.into_inner());
        let whence: Vec<String> = left
            .0
            .iter()
            .chain(&left.1)
            .map(|holder| match failed.get(holder) {
                Some(failure) => format!("{holder}: {failure}"),
                None => format!("{holder}: no call of it failed"),
            })
            .collect();
        problems.push(format!(
            "{:?} after the clients were gone, holders {:?} and waiters {:?} remain ({}); status {status}",
            TTL + MARGIN,
            left.0,
            left.1,
            whence.join("; ")
        ));
    } else {
        // Free for real: a newcomer takes every slot at once without waiting.
        let once = Options::new().ttl(TTL).timeout(Duration::ZERO);
        let taken: Vec<_> = (0..run.slots)
            .map(|_| run.kind.acquire(&direct, "x", &once))
            .collect();
        for (i, result) in taken.iter().enumerate() {
            if let Err(error) = result {
                problems.push(format!(
                    "slot {} of the emptied object could not be taken at once: {error}",
                    i + 1
                ));
            }
        }
    }

    let errors = tally.errors.into_inner().unwrap_or_else(|e| e.into_inner());
    let slowest = tally
        .slowest
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    println!(
        "{prefix}: {granted} cycles of {} attempts in {:.1} s by {} clients × {} threads on {} slot(s); \
         at most {} held at once; {} disturbances; proxy: {stats}",
        tally.attempts.into_inner(),
        ran_for.as_secs_f64(),
        run.clients,
        run.threads_per_client,
        run.slots,
        tally.most.into_inner(),
        disturbances,
    );
    for (what, (count, first)) in &errors {
        println!("  {count} × {what}, the first: {first}");
    }
    println!(
        "  slowest {:?}; grants lost while held: {}; whole test {:.1} s",
        slowest
            .iter()
            .map(|(call, took)| format!("{call} {:.0} ms", ms(*took)))
            .collect::<Vec<_>>(),
        tally.lost_while_held.into_inner(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        problems.is_empty(),
        "{} problem(s), the first ones:\n{}",
        problems.len(),
        problems
            .iter()
            .take(QUOTED)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

impl Run {
    /// A Semaphore(permits=2) used by 2 clients × 3 threads for `cycles`,
    /// answers lost (5%) and late (5%, up to 50 ms), nothing else.
    fn semaphore(cycles: u64) -> Run {
        Run {
            kind: Kind::Semaphore,
            slots: 2,
            clients: 2,
            threads_per_client: 3,
            cycles,
            faults: Faults {
                lose: 0.05,
                delay: 0.05,
                max_delay: Duration::from_millis(50),
            },
            outages_at: &[],
            bursts_at: &[],
            restarts_at: &[],
            release_in_outage: false,
        }
    }

    /// The same with 10% of the answers lost.
    fn lossy(self) -> Run {
        Run {
            faults: Faults {
                lose: 0.10,
                ..self.faults
            },
            ..self
        }
    }
}

/// Answers lost at random (10%) and delayed (5%, up to 50 ms): 3,000 cycles
/// on a Semaphore(permits=2) by 2 clients × 3 threads are safe and leak nothing.
#[test]
fn a_semaphore_stays_safe_when_answers_are_lost() {
    contention_through_faults(Run::semaphore(3000).lossy(), "faults-lost");
}

/// The same run with 5% lost, and outages of 2–5 s (every connection cut,
/// new ones reset, as in an API server restart) at 25, 50 and 75% of the
/// cycles; at the end the clients take both permits and release them during
/// a 3 s outage, and nobody is left to reclaim what a failed release leaves held.
#[test]
fn a_semaphore_stays_safe_through_outages() {
    let run = Run {
        outages_at: &[0.25, 0.5, 0.75],
        release_in_outage: true,
        ..Run::semaphore(3000)
    };
    contention_through_faults(run, "faults-outage");
}

/// Answers lost at random (10%): 500 cycles on a Lease by 2 clients × 2
/// threads never see two holders at once.
#[test]
fn a_lease_stays_safe_when_answers_are_lost() {
    let run = Run {
        kind: Kind::Lease,
        slots: 1,
        threads_per_client: 2,
        ..Run::semaphore(500).lossy()
    };
    contention_through_faults(run, "faults-lease");
}

/// Bursts of 4–6 s in which 60% of requests are answered 429 or 503 with
/// `Retry-After: 1` (at 20, 50 and 80% of the cycles), on top of lost (5%)
/// and late (5%) answers: 1,500 cycles on a Semaphore(permits=2) by 2
/// clients × 3 threads are safe, every call ends within its bound, and
/// nothing is left held.
#[test]
fn a_semaphore_stays_safe_through_bursts_of_busy_answers() {
    let run = Run {
        bursts_at: &[0.2, 0.5, 0.8],
        ..Run::semaphore(1500)
    };
    contention_through_faults(run, "faults-burst");
}

/// The clients talk to an API server of their own (a second one on the
/// control plane's etcd) through the proxy (lost 5% and late 5% answers),
/// and it is killed and started again at 30 and 70% of the cycles: they
/// meet refused connections, then the 429/503 answers of a starting API
/// server. 1,500 cycles on a Semaphore(permits=2) by 2 clients × 3 threads
/// are safe, every call ends within its bound, and nothing is left held.
#[test]
fn a_semaphore_stays_safe_through_api_server_restarts() {
    let run = Run {
        restarts_at: &[0.3, 0.7],
        ..Run::semaphore(1500)
    };
    contention_through_faults(run, "faults-restart");
}
