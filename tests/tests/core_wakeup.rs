//! Waiting is watch-driven: a queued waiter gets a released permit or lease
//! within a few milliseconds of the release, not on a polling interval.

mod support;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use konductor::{Client, Options};
use support::{eventually, ms, Namespace};

const RUNS: usize = 9;
/// The median hand-off must beat this (loopback, one write plus one watch event).
const MEDIAN_LIMIT: Duration = Duration::from_millis(100);
/// No single run may take this long, even on a machine busy with builds.
const SINGLE_LIMIT: Duration = Duration::from_secs(1);

/// Release-return to acquire-return, for `runs` hand-offs of `name`.
fn hand_offs(client: &Client, kind: &str, name: &str, runs: usize) -> Vec<Duration> {
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
    let mut delays = Vec::new();
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
        held();
        let released = Instant::now();
        let acquired = receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("waiter acquired");
        waiter.join().expect("waiter thread");
        delays.push(acquired.saturating_duration_since(released));
    }
    delays
}

fn check(kind: &str, delays: &mut [Duration]) {
    delays.sort();
    let median = delays[delays.len() / 2];
    let worst = *delays.last().expect("runs");
    println!(
        "{kind} hand-off, release returned -> waiter's acquire returned, {} runs: median {:.1} ms, min {:.1} ms, max {:.1} ms, all {:?}",
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
        worst < SINGLE_LIMIT,
        "expected every hand-off under {SINGLE_LIMIT:?}, worst {worst:?}"
    );
}

#[test]
fn a_waiting_acquirer_gets_a_released_permit_within_100ms() {
    let ns = Namespace::new("wake-sem");
    let client = ns.admin();
    client.create_semaphore("s", 1, None).expect("create");
    let mut delays = hand_offs(&client, "semaphore", "s", RUNS);
    check("semaphore", &mut delays);
}

#[test]
fn a_waiting_acquirer_gets_a_released_lease_within_100ms() {
    let ns = Namespace::new("wake-lease");
    let client = ns.admin();
    client.create_lease("l", None, None).expect("create");
    let mut delays = hand_offs(&client, "lease", "l", RUNS);
    check("lease", &mut delays);
}
