//! Network trouble between one client and the API server, made with a
//! loopback proxy the test can cut: a holder cut off from the server learns
//! that it lost its permit or lease before anyone else is granted it, and a
//! waiter whose watch stream drops still gets its grant once it reconnects.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use konductor::{Client, Error, Event, Observer, Options};
use konductor_tests::namespace::Namespace;
use konductor_tests::proxy::{client_through, Proxy};
use konductor_tests::wait::{eventually, ms};

/// Records when the observer was told of a loss.
#[derive(Default)]
struct LossClock(Mutex<Option<Instant>>);

impl Observer for LossClock {
    fn lost(&self, _: &Event<'_>, _: &str) {
        self.0.lock().unwrap().get_or_insert_with(Instant::now);
    }
}

fn waiters(client: &Client, kind: &str, name: &str) -> usize {
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
}

fn create(client: &Client, kind: &str, name: &str) {
    match kind {
        "lease" => drop(client.create_lease(name, None, None).expect("create lease")),
        _ => drop(
            client
                .create_semaphore(name, 1, None)
                .expect("create semaphore"),
        ),
    }
}

/// Acquires `name` with a long TTL; returns the token and when the acquire
/// returned (taken before the handle is dropped, which releases).
fn acquire(client: &Client, kind: &str, name: &str, holder: &str) -> Result<(u64, Instant), Error> {
    let options = Options::new()
        .holder(holder)
        .ttl(Duration::from_secs(30))
        .timeout(Duration::from_secs(30));
    match kind {
        "lease" => client
            .acquire_lease(name, &options)
            .map(|l| (l.token(), Instant::now())),
        _ => client
            .acquire_semaphore(name, &options)
            .map(|p| (p.token(), Instant::now())),
    }
}

/// Renews the held permit or lease.
type Renew = Box<dyn Fn() -> Result<(), Error>>;

fn partitioned_holder_learns_first(kind: &'static str) {
    let ns = Namespace::new(&format!("part-{kind}"));
    let direct = ns.admin();
    create(&direct, kind, "x");
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
    let (token, lost_token, renew): (u64, konductor::CancelToken, Renew) = match kind {
        "lease" => {
            let lease = cut_off
                .acquire_lease("x", &options)
                .expect("acquire through the proxy");
            (
                lease.token(),
                lease.lost_token(),
                Box::new(move || lease.renew()),
            )
        }
        _ => {
            let permit = cut_off
                .acquire_semaphore("x", &options)
                .expect("acquire through the proxy");
            (
                permit.token(),
                permit.lost_token(),
                Box::new(move || permit.renew()),
            )
        }
    };
    let waiter = {
        let direct = direct.clone();
        thread::spawn(move || acquire(&direct, kind, "x", "next"))
    };
    eventually(Duration::from_secs(10), "the waiter to queue", || {
        waiters(&direct, kind, "x") == 1
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
    assert!(lost_token.is_cancelled());
    assert!(
        lost_at < granted_at,
        "expected the cut-off holder to learn of its loss before the waiter's grant; it learned {:?} later",
        lost_at - granted_at
    );
    assert!(next_token > token);
    assert!(
        matches!(renew(), Err(Error::Lost { .. })),
        "renew after the loss must say Lost"
    );
    proxy.unblock();
}

#[test]
fn a_cut_off_permit_holder_learns_of_its_loss_before_anyone_is_granted_it() {
    partitioned_holder_learns_first("semaphore");
}

#[test]
fn a_cut_off_lease_holder_learns_of_its_loss_before_anyone_is_granted_it() {
    partitioned_holder_learns_first("lease");
}

/// The waiter's watch drops; the release happens during the outage (`release_while_cut`) or after it.
fn waiter_survives_dropped_watch(release_while_cut: bool) {
    let ns = Namespace::new(if release_while_cut {
        "part-missed"
    } else {
        "part-drop"
    });
    let direct = ns.admin();
    create(&direct, "semaphore", "x");
    let proxy = Proxy::start();
    let Some(behind_proxy) = client_through(&proxy, &ns.name) else {
        println!("skipped: needs a token and CA in the test kubeconfig");
        return;
    };
    let held = direct
        .acquire_semaphore("x", &Options::new().holder("holder"))
        .expect("hold");
    let waiter = thread::spawn(move || acquire(&behind_proxy, "semaphore", "x", "waiter"));
    eventually(Duration::from_secs(10), "the waiter to queue", || {
        waiters(&direct, "semaphore", "x") == 1
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
