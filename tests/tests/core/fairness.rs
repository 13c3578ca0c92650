//! Fairness: with one slot, queued waiters are granted by priority, then in
//! arrival order, and the fencing tokens follow that order.

use std::thread;
use std::time::Duration;

use konductor::{Client, Options};
use konductor_tests::kind::Kind;
use konductor_tests::test_each_kind;
use konductor_tests::wait::{eventually, ms};

/// Waiters in the order they queue, with their priorities.
const WAITERS: [(&str, i32); 5] = [("a", 0), ("b", 0), ("c", 5), ("d", 0), ("e", 5)];
/// Priority first, arrival second.
const EXPECTED: [&str; 5] = ["c", "e", "a", "b", "d"];

/// Queues the waiters one by one behind a holder, releases, and returns the
/// holders in the order of their fencing tokens.
fn grant_order(client: &Client, kind: Kind, name: &'static str) -> Vec<String> {
    let holder = kind
        .acquire(client, name, &Options::new().holder("h"))
        .expect("hold");
    let mut threads = Vec::new();
    for (index, (waiter, priority)) in WAITERS.into_iter().enumerate() {
        let waiter_client = client.clone();
        threads.push(thread::spawn(move || {
            let options = Options::new()
                .holder(waiter)
                .priority(priority)
                .timeout(Duration::from_secs(30));
            // The handle drops at once, releasing to the next in line.
            let token = kind
                .acquire(&waiter_client, name, &options)
                .expect("waiter acquires")
                .token();
            (token, waiter.to_owned())
        }));
        // Arrival order is only defined once each waiter is in the object.
        let took = eventually(
            Duration::from_secs(10),
            &format!("{waiter} to queue"),
            || kind.waiters(client, name).len() == index + 1,
        );
        println!("{kind}: {waiter} queued after {:.1} ms", ms(took));
    }
    println!(
        "{kind}: status.waiters before the release {:?}",
        kind.waiters(client, name)
    );
    drop(holder);
    let mut grants: Vec<(u64, String)> = threads
        .into_iter()
        .map(|t| t.join().expect("waiter thread"))
        .collect();
    grants.sort();
    println!("{kind}: grants in token order {grants:?}");
    grants.into_iter().map(|(_, holder)| holder).collect()
}

fn grants_follow_priority_then_arrival(kind: Kind) {
    let (_ns, client) = kind.in_new_namespace(&format!("fair-{kind}"), "s", 1);
    let order = grant_order(&client, kind, "s");
    assert_eq!(
        order, EXPECTED,
        "expected grants by priority then arrival, got {order:?}"
    );
}

test_each_kind!(grants_follow_priority_then_arrival: semaphore_grants_follow_priority_then_arrival, lease_grants_follow_priority_then_arrival, mutex_grants_follow_priority_then_arrival);
