//! Network trouble between one client and the API server, made with a
//! loopback proxy the test can cut: a holder cut off from the server learns
//! that it lost its permit or lease before anyone else is granted it, and a
//! waiter whose watch stream drops still gets its grant once it reconnects.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use konductor::{Client, Error, Event, Observer, Options};
use konductor_tests::kind::Kind;
use konductor_tests::namespace::Namespace;
use konductor_tests::proxy::{client_through, Proxy};
use konductor_tests::serial::one_at_a_time;
use konductor_tests::test_each_kind;
use konductor_tests::wait::{eventually, ms};

/// Records when the observer was told of a loss.
#[derive(Default)]
struct LossClock(Mutex<Option<Instant>>);

impl Observer for LossClock {
    fn lost(&self, _: &Event<'_>, _: &str) {
        self.0.lock().unwrap().get_or_insert_with(Instant::now);
    }
}

/// Acquires `name` with a long TTL; returns the token and when the acquire
/// returned (taken before the handle is dropped, which releases).
fn acquire(client: &Client, kind: Kind, name: &str, holder: &str) -> Result<(u64, Instant), Error> {
    let options = Options::new()
        .holder(holder)
        .ttl(Duration::from_secs(30))
        .timeout(Duration::from_secs(30));
    let slot = kind.acquire(client, name, &options)?;
    Ok((slot.token(), Instant::now()))
}

fn partitioned_holder_learns_first(kind: Kind) {
    let _serial = one_at_a_time();
    let ns = Namespace::new(&format!("part-{kind}"));
    let direct = ns.admin();
    kind.create(&direct, "x", 1);
    let proxy = Proxy::start();
    let Some(cut_off) = client_through(&proxy, &ns.name) else {
        println!("skipped: needs a token and CA in the test kubeconfig");
        return;
    };
    let ttl = Duration::from_millis(1500);
    let clock = Arc::new(LossClock::default());
    let options = Options::new()
        .holder("cut-off")
        .ttl(ttl)
        .auto_renew(true)
        .observer(clock.clone());
    let held = kind
        .acquire(&cut_off, "x", &options)
        .expect("acquire through the proxy");
    let waiter = {
        let direct = direct.clone();
        thread::spawn(move || acquire(&direct, kind, "x", "next"))
    };
    eventually(Duration::from_secs(10), "the waiter to queue", || {
        kind.waiters(&direct, "x").len() == 1
    });
    // Let at least one renewal through, then cut the holder off.
    thread::sleep(ttl / 2);
    proxy.block();
    let cut_at = Instant::now();
    let (next_token, granted_at) = waiter
        .join()
        .expect("waiter thread")
        .expect("the waiter gets the slot of the cut-off holder");
    let lost_at = clock
        .0
        .lock()
        .unwrap()
        .expect("the cut-off holder was told it lost the slot");
    println!(
        "{kind}: holder cut off (TTL {ttl:?}); it learned of the loss after {:.0} ms, the waiter was granted after {:.0} ms",
        ms(lost_at - cut_at),
        ms(granted_at - cut_at)
    );
    assert!(held.lost_token().is_cancelled());
    assert!(
        lost_at < granted_at,
        "expected the cut-off holder to learn of its loss before the waiter's grant; it learned {:?} later",
        lost_at - granted_at
    );
    assert!(next_token > held.token());
    assert!(
        matches!(held.renew(), Err(Error::Lost { .. })),
        "renew after the loss must say Lost"
    );
    proxy.unblock();
}

test_each_kind!(partitioned_holder_learns_first: a_cut_off_permit_holder_learns_of_its_loss_before_anyone_is_granted_it, a_cut_off_lease_holder_learns_of_its_loss_before_anyone_is_granted_it);

/// The waiter's watch drops; the release happens during the outage (`release_while_cut`) or after it.
fn waiter_survives_dropped_watch(release_while_cut: bool) {
    let _serial = one_at_a_time();
    let ns = Namespace::new(if release_while_cut {
        "part-missed"
    } else {
        "part-drop"
    });
    let direct = ns.admin();
    Kind::Semaphore.create(&direct, "x", 1);
    let proxy = Proxy::start();
    let Some(behind_proxy) = client_through(&proxy, &ns.name) else {
        println!("skipped: needs a token and CA in the test kubeconfig");
        return;
    };
    let held = direct
        .acquire_semaphore("x", &Options::new().holder("holder"))
        .expect("hold");
    let waiter = thread::spawn(move || acquire(&behind_proxy, Kind::Semaphore, "x", "waiter"));
    eventually(Duration::from_secs(10), "the waiter to queue", || {
        Kind::Semaphore.waiters(&direct, "x").len() == 1
    });
    thread::sleep(Duration::from_millis(300));
    proxy.block();
    thread::sleep(Duration::from_millis(500));
    if release_while_cut {
        held.release().expect("release");
        thread::sleep(Duration::from_millis(500));
    }
    proxy.unblock();
    let restored_at = Instant::now();
    let mut released_at = None;
    if !release_while_cut {
        // Give the watch time to come back, then release.
        thread::sleep(Duration::from_millis(1000));
        held.release().expect("release");
        released_at = Some(Instant::now());
    }
    let (_, acquired_at) = waiter
        .join()
        .expect("waiter thread")
        .expect("the waiter acquires after its watch dropped");
    let after = acquired_at - restored_at;
    println!(
        "watch cut for {} ms ({}); waiter acquired {:.0} ms after the connection was restored",
        if release_while_cut { 1000 } else { 500 },
        if release_while_cut {
            "release during the outage"
        } else {
            "release 1 s after it"
        },
        ms(after)
    );
    if let Some(released_at) = released_at {
        let handoff = acquired_at.saturating_duration_since(released_at);
        println!(
            "  hand-off through the reconnected watch: {:.1} ms",
            ms(handoff)
        );
        assert!(
            handoff < Duration::from_secs(1),
            "expected a watch-driven hand-off once reconnected, took {handoff:?}"
        );
    }
    assert!(
        after < Duration::from_secs(5),
        "expected the waiter back within 5 s of the restored connection, took {after:?}"
    );
}

#[test]
fn a_waiter_whose_watch_drops_still_gets_a_later_release() {
    waiter_survives_dropped_watch(false);
}

#[test]
fn a_waiter_whose_watch_drops_still_gets_a_release_it_missed() {
    waiter_survives_dropped_watch(true);
}
