//! Liveness without the operator: a process killed with SIGKILL while it
//! holds (or waits for) a permit or lease cannot block the others for longer
//! than its TTL, plus a little slack for one watch event and one write.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use konductor::{Client, Options};
use konductor_tests::flags::command;
use konductor_tests::kind::Kind;
use konductor_tests::namespace::Namespace;
use konductor_tests::serial::one_at_a_time;
use konductor_tests::test_each_kind;
use konductor_tests::wait::{eventually, ms};

const TTL: Duration = Duration::from_secs(2);
const SLACK: Duration = Duration::from_secs(2);

/// Starts the `holder` binary on `kind/name` with the short TTL.
fn spawn_holder(ns: &Namespace, kind: Kind, name: &str, holder: &str) -> Child {
    command(env!("CARGO_BIN_EXE_holder"), &ns.name, kind, name)
        .args(["--holder", holder])
        .args(["--ttl-ms", &TTL.as_millis().to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the holder binary")
}

/// Waits for the holder's `held TOKEN` line.
fn held_token(child: &mut Child) -> u64 {
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    let line = receiver
        .recv_timeout(Duration::from_secs(30))
        .expect("the holder acquires within 30 s");
    line.trim()
        .strip_prefix("held ")
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("expected `held TOKEN` from the holder, got {line:?}"))
}

/// Acquires with a long TTL; returns the token and when the acquire returned
/// (taken before the handle drops, which releases).
fn acquire(client: &Client, kind: Kind, name: &str, holder: &str) -> (u64, Instant) {
    let options = Options::new()
        .holder(holder)
        .ttl(Duration::from_secs(30))
        .timeout(Duration::from_secs(30));
    let slot = kind
        .acquire(client, name, &options)
        .expect("waiter acquires");
    (slot.token(), Instant::now())
}

/// A waiter queued behind a holder process gets the slot within TTL + slack of SIGKILL.
fn killed_holder_is_replaced(kind: Kind) {
    let _serial = one_at_a_time();
    let ns = Namespace::new(&format!("live-{kind}"));
    let client = ns.admin();
    kind.create(&client, "x", 1);
    let mut holder = spawn_holder(&ns, kind, "x", "doomed");
    let doomed_token = held_token(&mut holder);
    let waiter = {
        let client = client.clone();
        thread::spawn(move || acquire(&client, kind, "x", "survivor"))
    };
    eventually(Duration::from_secs(10), "the survivor to queue", || {
        kind.waiters(&client, "x") == ["survivor"]
    });
    // Let the holder renew at least once more, so that its record is fresh.
    thread::sleep(TTL / 2);
    holder.kill().expect("SIGKILL the holder");
    let killed_at = Instant::now();
    holder.wait().expect("reap the holder");
    let (token, acquired_at) = waiter.join().expect("waiter thread");
    let took = acquired_at - killed_at;
    println!(
        "{kind}: holder killed with SIGKILL (TTL {TTL:?}); waiter acquired {:.0} ms later",
        ms(took)
    );
    assert!(
        token > doomed_token,
        "expected a larger token than the dead holder's {doomed_token}, got {token}"
    );
    assert!(
        took <= TTL + SLACK,
        "expected the waiter to acquire within TTL + {SLACK:?} = {:?} of the kill, took {took:?}",
        TTL + SLACK
    );
}

test_each_kind!(killed_holder_is_replaced: a_killed_semaphore_holder_is_replaced_within_its_ttl, a_killed_lease_holder_is_replaced_within_its_ttl, a_killed_mutex_holder_is_replaced_within_its_ttl);

#[test]
fn a_killed_waiter_does_not_receive_the_permit_for_good() {
    let _serial = one_at_a_time();
    let ns = Namespace::new("live-waiter");
    let client = ns.admin();
    client.create_semaphore("x", 1, None).expect("create");
    let held = client
        .acquire_semaphore("x", &Options::new().holder("holder"))
        .expect("hold");
    // The holder binary queues behind `holder` with a 2 s waiter TTL, then dies.
    let mut dead_waiter = spawn_holder(&ns, Kind::Semaphore, "x", "dead-waiter");
    eventually(
        Duration::from_secs(30),
        "the doomed waiter to queue",
        || Kind::Semaphore.waiters(&client, "x") == ["dead-waiter"],
    );
    let survivor = {
        let client = client.clone();
        thread::spawn(move || acquire(&client, Kind::Semaphore, "x", "survivor"))
    };
    eventually(Duration::from_secs(10), "the survivor to queue", || {
        Kind::Semaphore.waiters(&client, "x").len() == 2
    });
    dead_waiter.kill().expect("SIGKILL the waiter");
    let killed_at = Instant::now();
    dead_waiter.wait().expect("reap");
    held.release().expect("release");
    let (_, acquired_at) = survivor.join().expect("survivor thread");
    let took = acquired_at - killed_at;
    println!("dead waiter (waiter TTL {TTL:?}) skipped or evicted; survivor acquired {:.0} ms after the kill", ms(took));
    assert!(
        took <= TTL + SLACK,
        "expected the survivor to acquire within {:?} of the kill, took {took:?}",
        TTL + SLACK
    );
    eventually(
        Duration::from_secs(10),
        "the dead waiter's object to be deleted",
        || Kind::Semaphore.waiters(&client, "x").is_empty(),
    );
}
