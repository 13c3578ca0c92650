//! Two operator replicas with leader election: only the leader reconciles,
//! and when it dies the standby takes over within the lease duration.

use std::time::{Duration, Instant};

use konductor::Options;
use konductor_tests::namespace::Namespace;
use konductor_tests::operator::{leader_election, Operator, LEASE_DURATION};
use konductor_tests::serial::one_at_a_time;
use konductor_tests::wait::{eventually, ms};

fn replica(ns: &Namespace, identity: &str) -> Operator {
    let identity = ["--identity", identity];
    Operator::start(
        &ns.name,
        &[&leader_election(&ns.name)[..], &identity].concat(),
    )
}

#[test]
fn the_standby_takes_over_within_the_lease_duration_when_the_leader_is_killed() {
    let _serial = one_at_a_time();
    let ns = Namespace::new("op-failover");
    let mut first = replica(&ns, "replica-a");
    eventually(Duration::from_secs(10), "replica-a to lead", || {
        first.is_leader()
    });
    let second = replica(&ns, "replica-b");
    std::thread::sleep(Duration::from_millis(1000));
    assert!(!second.is_leader(), "only one replica leads");

    let client = ns.admin();
    client
        .create_gate("before", Vec::new(), None)
        .expect("gate");
    client
        .wait_gate("before", &Options::new().timeout(Duration::from_secs(5)))
        .expect("the leader reconciles");

    first.kill();
    let killed = Instant::now();
    client.create_gate("after", Vec::new(), None).expect("gate");
    eventually(
        LEASE_DURATION + Duration::from_secs(5),
        "replica-b to lead",
        || second.is_leader(),
    );
    let leading = killed.elapsed();
    client
        .wait_gate(
            "after",
            &Options::new().timeout(LEASE_DURATION + Duration::from_secs(5)),
        )
        .expect("the new leader reconciles");
    let reconciled = killed.elapsed();
    println!(
        "leader killed; standby leading after {:.0}ms, reconciling after {:.0}ms (lease duration {}s)",
        ms(leading),
        ms(reconciled),
        LEASE_DURATION.as_secs()
    );
    assert!(
        reconciled <= LEASE_DURATION + Duration::from_secs(2),
        "expected the standby to reconcile within lease duration + 2s, it took {:.0}ms",
        ms(reconciled)
    );
}

#[test]
fn a_leader_that_stops_gracefully_hands_over_at_once() {
    let _serial = one_at_a_time();
    let ns = Namespace::new("op-handover");
    let mut first = replica(&ns, "replica-a");
    eventually(Duration::from_secs(10), "replica-a to lead", || {
        first.is_leader()
    });
    let second = replica(&ns, "replica-b");
    assert!(
        first.terminate(Duration::from_secs(5)),
        "the leader exits on SIGTERM"
    );
    let stopped = Instant::now();
    eventually(LEASE_DURATION, "replica-b to lead", || second.is_leader());
    println!(
        "released lease taken over after {:.0}ms",
        ms(stopped.elapsed())
    );
    assert!(
        stopped.elapsed() < Duration::from_secs(1),
        "a released lease is taken at the next retry"
    );
}
