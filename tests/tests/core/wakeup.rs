//! Waiting is watch-driven: a queued waiter gets a released permit or lease
//! within a few milliseconds of the release, not on a polling interval.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use konductor::{Client, Options};
use konductor_tests::kind::Kind;
use konductor_tests::serial::one_at_a_time;
use konductor_tests::test_each_kind;
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
    kind: Kind,
    name: &str,
    runs: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let _serial = one_at_a_time();
    let (mut after_return, mut after_call) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let holder_options = Options::new().holder(format!("holder-{run}"));
        let held = kind.acquire(client, name, &holder_options).expect("hold");
        let (sender, receiver) = mpsc::channel();
        let waiter = {
            let (client, name) = (client.clone(), name.to_owned());
            thread::spawn(move || {
                let options = Options::new()
                    .holder(format!("waiter-{run}"))
                    .timeout(Duration::from_secs(30));
                let slot = kind
                    .acquire(&client, &name, &options)
                    .expect("waiter acquires");
                sender.send(Instant::now()).unwrap();
                slot.token()
            })
        };
        eventually(Duration::from_secs(10), "the waiter to queue", || {
            kind.waiters(client, name).len() == 1
        });
        // Let the waiter settle into its watch.
        thread::sleep(Duration::from_millis(200));
        let releasing = Instant::now();
        held.release().expect("release");
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

fn check(kind: Kind, from: &str, single_limit: Duration, delays: &mut [Duration]) {
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

fn waiter_gets_a_released_slot_within_100ms(kind: Kind) {
    let (_ns, client) = kind.in_new_namespace(&format!("wake-{kind}"), "s", 1);
    let (mut after_return, mut after_call) = hand_offs(&client, kind, "s", RUNS);
    check(kind, "release returned", SINGLE_LIMIT, &mut after_return);
    check(
        kind,
        "release called",
        SINGLE_LIMIT_FROM_CALL,
        &mut after_call,
    );
}

test_each_kind!(waiter_gets_a_released_slot_within_100ms: a_waiting_acquirer_gets_a_released_permit_within_100ms, a_waiting_acquirer_gets_a_released_lease_within_100ms, a_waiting_locker_gets_an_unlocked_mutex_within_100ms);
