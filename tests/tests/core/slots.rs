//! Waiting for a slot and losing one, the same for a semaphore's permits and
//! a lease: a wait that times out or is cancelled leaves the queue, and a
//! holder that stops renewing is evicted by a waiter after its TTL.

use std::time::{Duration, Instant};

use konductor::{CancelToken, Error, Options};
use konductor_tests::cancel::cancel_while_waiting;
use konductor_tests::cluster::cluster;
use konductor_tests::kind::Kind;
use konductor_tests::namespace::client_from;
use konductor_tests::test_each_kind;
use konductor_tests::wait::{eventually, ms};

/// The object every test here creates, one slot wide.
const NAME: &str = "s";

fn try_once(holder: &str) -> Options {
    Options::new().holder(holder).timeout(Duration::ZERO)
}

fn wait_times_out_and_leaves_the_queue(kind: Kind) {
    let (_ns, client) = kind.in_new_namespace(&format!("{kind}-timeout"), NAME, 1);
    let _held = kind
        .acquire(&client, NAME, &try_once("holder"))
        .expect("hold");

    let timeout = Duration::from_millis(700);
    let started = Instant::now();
    let result = kind.acquire(
        &client,
        NAME,
        &Options::new().holder("waiter").timeout(timeout),
    );
    let waited = started.elapsed();
    match result {
        Err(Error::Timeout {
            waited: reported, ..
        }) => assert!(
            reported >= timeout,
            "expected the Timeout to report at least {timeout:?}, it says {reported:?}"
        ),
        other => panic!("expected Timeout, got {other:?}"),
    }
    println!(
        "{kind}: timeout of 700 ms returned after {:.0} ms",
        ms(waited)
    );
    assert!(
        waited >= timeout && waited < Duration::from_secs(3),
        "expected the call to return 700 ms..3 s after it started, took {waited:?}"
    );
    let waiters = kind.waiters(&client, NAME);
    assert!(
        waiters.is_empty(),
        "expected no waiter left, found {waiters:?}"
    );
}

test_each_kind!(wait_times_out_and_leaves_the_queue: a_semaphore_wait_that_times_out_returns_timeout_and_leaves_the_queue, a_lease_wait_that_times_out_returns_timeout_and_leaves_the_queue, a_mutex_wait_that_times_out_returns_timeout_and_leaves_the_queue);

fn cancelled_wait_returns_promptly_and_leaves_the_queue(kind: Kind) {
    let (_ns, client) = kind.in_new_namespace(&format!("{kind}-cancel"), NAME, 1);
    let _held = kind
        .acquire(&client, NAME, &try_once("holder"))
        .expect("hold");

    let waiting = client.clone();
    let cancelled = cancel_while_waiting(
        &format!("{kind} acquire"),
        move |cancel| {
            kind.acquire(
                &waiting,
                NAME,
                &Options::new().holder("waiter").cancel(cancel),
            )
        },
        || {
            eventually(Duration::from_secs(10), "the waiter to queue", || {
                kind.waiters(&client, NAME) == ["waiter"]
            });
        },
    );
    let Error::Cancelled { what } = cancelled else {
        unreachable!("cancel_while_waiting returns Cancelled")
    };
    assert!(
        what.contains(kind.as_str()) && what.contains(NAME),
        "expected the error to name the {kind}, got what = {what}"
    );
    let waiters = kind.waiters(&client, NAME);
    assert!(
        waiters.is_empty(),
        "expected the waiter entry gone, found {waiters:?}"
    );
    assert_eq!(kind.holders(&client, NAME), ["holder"]);

    // A token that is already cancelled stops the call before it queues.
    let cancel = CancelToken::new();
    cancel.cancel();
    match kind.acquire(
        &client,
        NAME,
        &Options::new().holder("late").cancel(&cancel),
    ) {
        Err(Error::Cancelled { .. }) => {}
        other => panic!("expected Cancelled for an already-cancelled token, got {other:?}"),
    }
    let waiters = kind.waiters(&client, NAME);
    assert!(
        waiters.is_empty(),
        "expected no waiter after an already-cancelled call, found {waiters:?}"
    );
}

test_each_kind!(cancelled_wait_returns_promptly_and_leaves_the_queue: cancelling_a_semaphore_wait_from_another_thread_returns_promptly_and_leaves_the_queue, cancelling_a_lease_wait_from_another_thread_returns_promptly_and_leaves_the_queue);

fn stale_holder_is_evicted_by_a_waiter_after_its_ttl(kind: Kind) {
    let (ns, client) = kind.in_new_namespace(&format!("{kind}-evict"), NAME, 1);
    let ttl = Duration::from_secs(1);
    let stale = kind
        .acquire(&client, NAME, &Options::new().holder("stale").ttl(ttl))
        .expect("acquire");
    // Another process, so that it cannot share first-seen times with the holder's client.
    let waiter_client = client_from(&cluster().admin, &ns.name);
    let started = Instant::now();
    let taken = kind
        .acquire(
            &waiter_client,
            NAME,
            &Options::new()
                .holder("waiter")
                .timeout(Duration::from_secs(10)),
        )
        .expect("the waiter takes the stale slot");
    let evicted_after = started.elapsed();
    println!(
        "{kind}: stale holder (TTL {ttl:?}) evicted {:.0} ms after the waiter started",
        ms(evicted_after)
    );
    assert!(
        evicted_after >= ttl && evicted_after < ttl + Duration::from_secs(2),
        "expected eviction between TTL and TTL + 2 s, took {evicted_after:?}"
    );
    assert!(
        taken.token() > stale.token(),
        "expected the waiter's token {} above the stale holder's {}",
        taken.token(),
        stale.token()
    );
    assert!(stale.is_lost(), "the stale holder knows it lost the slot");
    match stale.renew() {
        Err(Error::Lost { .. }) => {}
        other => panic!("expected Lost when the stale holder renews, got {other:?}"),
    }
    assert_eq!(kind.holders(&client, NAME), ["waiter"]);
}

test_each_kind!(stale_holder_is_evicted_by_a_waiter_after_its_ttl: a_semaphore_holder_that_stops_renewing_is_evicted_by_a_waiter_after_its_ttl, a_lease_holder_that_stops_renewing_is_evicted_by_a_waiter_after_its_ttl);
