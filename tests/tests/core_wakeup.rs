//! Waiting is watch-driven: a queued waiter gets a released permit or lease
//! within a few milliseconds of the release, not on a polling interval.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use konductor::{Client, Options};
use konductor_tests::namespace::Namespace;
use konductor_tests::wait::{eventually, ms};

const RUNS: usize = 9;
/// The median hand-off must beat this (loopback, one write plus one watch event).
const MEDIAN_LIMIT: Duration = Duration::from_millis(100);
/// No single run may take this long, even on a machine busy with builds.
const SINGLE_LIMIT: Duration = Duration::from_secs(1);
/// Counted from the release call, the bound also covers the release's own
/// write, which a machine busy with builds can slow down.
const SINGLE_LIMIT_FROM_CALL: Duration = Duration::from_secs(3);

/// For `runs` hand-offs of `name`: (release returned -> waiter's acquire
/// returned, release called -> waiter's acquire returned).
fn hand_offs(
    client: &Client,
    kind: &str,
    name: &str,
    runs: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let queued = |client: &Client| -> usize {
        match kind {
            "lease" => client
                .get_lease(name)
                .expect("get")
                .status
                .unwrap_or_default()
                .waiters
                .len(),
            _ => client
                .get_semaphore(name)
                .expect("get")
                .status
                .unwrap_or_default()
                .waiters
                .len(),
        }
    };
    let (mut after_return, mut after_call) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let holder_options = Options::new().holder(format!("holder-{run}"));
        let held: Box<dyn FnOnce()> = match kind {
            "lease" => {
                let lease = client
                    .acquire_lease(name, &holder_options)
                    .expect("hold lease");
                Box::new(move || lease.release().expect("release lease"))
            }
            _ => {
                let permit = client
                    .acquire_semaphore(name, &holder_options)
                    .expect("hold permit");
                Box::new(move || permit.release().expect("release permit"))
            }
        };
        let (sender, receiver) = mpsc::channel();
        let waiter = {
            let (client, kind, name) = (client.clone(), kind.to_owned(), name.to_owned());
            thread::spawn(move || {
                let options = Options::new()
                    .holder(format!("waiter-{run}"))
                    .timeout(Duration::from_secs(30));
                let token = match kind.as_str() {
                    "lease" => client.acquire_lease(&name, &options).map(|l| {
                        sender.send(Instant::now()).unwrap();
                        l.token()
                    }),
                    _ => client.acquire_semaphore(&name, &options).map(|p| {
                        sender.send(Instant::now()).unwrap();
                        p.token()
                    }),
                };
                token.expect("waiter acquires")
            })
        };
        eventually(Duration::from_secs(10), "the waiter to queue", || {
            queued(client) == 1
        });
        // Let the waiter settle into its watch.
        thread::sleep(Duration::from_millis(200));
        let releasing = Instant::now();
        held();
        let released = Instant::now();
        let acquired = receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("waiter acquired");
        waiter.join().expect("waiter thread");
        // The waiter may return before the releaser does: that counts as zero.
        after_return.push(acquired.saturating_duration_since(released));
        after_call.push(acquired.saturating_duration_since(releasing));
    }
    (after_return, after_call)
}

fn check(kind: &str, from: &str, single_limit: Duration, delays: &mut [Duration]) {
    delays.sort();
    let median = delays[delays.len() / 2];
    let worst = *delays.last().expect("runs");
    println!(
        "{kind} hand-off, {from} -> waiter's acquire returned, {} runs: median {:.1} ms, min {:.1} ms, max {:.1} ms, all {:?}",
        delays.len(),
        ms(median),
        ms(delays[0]),
        ms(worst),
        delays.iter().map(|d| format!("{:.1}", ms(*d))).collect::<Vec<_>>()
    );
    assert!(
        median < MEDIAN_LIMIT,
        "expected a median hand-off under {MEDIAN_LIMIT:?}, got {median:?}"
    );
    assert!(
        worst < single_limit,
        "expected every hand-off ({from} -> acquired) under {single_limit:?}, worst {worst:?}"
    );
}

#[test]
fn a_waiting_acquirer_gets_a_released_permit_within_100ms() {
    let ns = Namespace::new("wake-sem");
    let client = ns.admin();
    client.create_semaphore("s", 1, None).expect("create");
    let (mut after_return, mut after_call) = hand_offs(&client, "semaphore", "s", RUNS);
    check(
        "semaphore",
        "release returned",
        SINGLE_LIMIT,
        &mut after_return,
    );
    check(
        "semaphore",
        "release called",
        SINGLE_LIMIT_FROM_CALL,
        &mut after_call,
    );
}

#[test]
fn a_waiting_acquirer_gets_a_released_lease_within_100ms() {
    let ns = Namespace::new("wake-lease");
    let client = ns.admin();
    client.create_lease("l", None, None).expect("create");
    let (mut after_return, mut after_call) = hand_offs(&client, "lease", "l", RUNS);
    check("lease", "release returned", SINGLE_LIMIT, &mut after_return);
    check(
        "lease",
        "release called",
        SINGLE_LIMIT_FROM_CALL,
        &mut after_call,
    );
}
