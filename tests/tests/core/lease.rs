//! Lease operations of the core client against the real control plane:
//! CRUD, exclusive holding, try-acquire, hand-off, renewal, loss, eviction
//! and the leader-election helper.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use konductor::resource::{Lease, LeasePhase};
use konductor::{Error, Options};
use konductor_tests::kind::Kind;
use konductor_tests::namespace::Namespace;
use konductor_tests::status::status_of;
use konductor_tests::wait::{eventually, ms};
use konductor_tests::work::WorkError;

#[test]
fn leases_can_be_created_read_listed_and_deleted() {
    let ns = Namespace::new("lease-crud");
    let client = ns.admin();
    let created = client
        .create_lease("leader", Some(Duration::from_secs(15)), Some(3))
        .expect("create");
    assert_eq!(
        (created.spec.ttl.as_deref(), created.spec.priority),
        (Some("15s"), Some(3))
    );
    client
        .create_lease("other", None, None)
        .expect("create second");
    assert_eq!(client.get_lease("leader").expect("get").spec, created.spec);
    let mut names: Vec<String> = client
        .list_leases()
        .expect("list")
        .iter()
        .map(|l| l.name().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["leader", "other"]);
    client.delete_lease("leader").expect("delete");
    assert!(matches!(
        client.get_lease("leader"),
        Err(Error::NotFound { kind: "Lease", .. })
    ));
    assert!(matches!(
        client.delete_lease("leader"),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        client.acquire_lease("leader", &Options::new().timeout(Duration::ZERO)),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn a_held_lease_is_refused_to_try_acquire_with_the_holder_named() {
    let ns = Namespace::new("lease-held");
    let client = ns.admin();
    client.create_lease("l", None, None).expect("create");
    let lease = client
        .try_acquire_lease("l", &Options::new().holder("alice"))
        .expect("free lease");
    assert_eq!((lease.name(), lease.holder()), ("l", "alice"));
    let status = status_of::<Lease>(&client, "l");
    assert_eq!(
        (status.holder.as_deref(), status.phase),
        (Some("alice"), Some(LeasePhase::Held))
    );
    assert_eq!(status.transitions, lease.token());
    assert!(
        status.expires_at.is_some(),
        "expiresAt is derived for display"
    );

    match client.try_acquire_lease("l", &Options::new().holder("bob")) {
        Err(Error::LeaseHeld { name, holder }) => {
            assert_eq!((name.as_str(), holder.as_str()), ("l", "alice"))
        }
        other => panic!("expected LeaseHeld naming alice, got {other:?}"),
    }
    assert!(
        Kind::Lease.waiters(&client, "l").is_empty(),
        "try-acquire never queues"
    );
    match client.try_acquire_lease("l", &Options::new().holder("alice")) {
        Err(Error::AlreadyHeld {
            kind: "Lease",
            holder,
            ..
        }) => assert_eq!(holder, "alice"),
        other => panic!("expected AlreadyHeld for the holder itself, got {other:?}"),
    }

    lease.release().expect("release");
    let status = status_of::<Lease>(&client, "l");
    assert_eq!(
        (status.holder, status.phase),
        (None, Some(LeasePhase::Available))
    );
    let bob = client
        .try_acquire_lease("l", &Options::new().holder("bob"))
        .expect("free again");
    assert_eq!(
        bob.token(),
        lease.token() + 1,
        "each grant is one transition"
    );
}

#[test]
fn a_released_lease_is_handed_to_the_waiter_with_a_larger_token() {
    let ns = Namespace::new("lease-handoff");
    let client = ns.admin();
    client.create_lease("l", None, None).expect("create");
    let first = client
        .acquire_lease("l", &Options::new().holder("first"))
        .expect("acquire");
    let (sender, receiver) = mpsc::channel();
    let waiter = {
        let client = client.clone();
        thread::spawn(move || {
            let lease = client.acquire_lease(
                "l",
                &Options::new()
                    .holder("second")
                    .timeout(Duration::from_secs(20)),
            )?;
            sender.send(Instant::now()).unwrap();
            Ok::<_, Error>(lease.token())
        })
    };
    eventually(
        Duration::from_secs(10),
        "the second acquirer to queue",
        || Kind::Lease.waiters(&client, "l") == ["second"],
    );
    assert!(
        receiver.try_recv().is_err(),
        "the waiter must not get a held lease"
    );
    first.release().expect("release");
    let released_at = Instant::now();
    let token = waiter.join().expect("waiter").expect("second acquires");
    let got_at = receiver.recv().expect("acquire time");
    println!(
        "hand-off after {:.1} ms",
        ms(got_at.saturating_duration_since(released_at))
    );
    assert!(
        token > first.token(),
        "token {token} must exceed {}",
        first.token()
    );
    assert!(
        Kind::Lease.holders(&client, "l").is_empty(),
        "the waiter's handle was dropped, releasing"
    );
}

#[test]
fn a_lease_is_lost_after_its_ttl_or_when_reclaimed() {
    let ns = Namespace::new("lease-lost");
    let client = ns.admin();
    client
        .create_lease("l", Some(Duration::from_millis(800)), None)
        .expect("create");
    let lease = client
        .acquire_lease("l", &Options::new().holder("h"))
        .expect("acquire");
    assert_eq!(
        lease.ttl(),
        Duration::from_millis(800),
        "TTL defaults to spec.ttl"
    );
    lease.renew().expect("renew in time");
    assert_eq!(status_of::<Lease>(&client, "l").renew_count, 1);
    thread::sleep(Duration::from_millis(1000));
    match lease.renew() {
        Err(Error::Lost {
            kind: "Lease",
            reason,
            ..
        }) => assert!(reason.contains("TTL"), "reason = {reason}"),
        other => panic!("expected Lost after the TTL, got {other:?}"),
    }
    lease.release().expect("release after loss");

    let lease = client
        .acquire_lease(
            "l",
            &Options::new().holder("h2").ttl(Duration::from_secs(60)),
        )
        .expect("acquire again");
    ns.patch_status(
        "lease",
        "l",
        r#"{"status":{"holder":null,"phase":"Available"}}"#,
    );
    match lease.renew() {
        Err(Error::Lost { reason, .. }) => {
            assert!(reason.contains("reclaimed"), "reason = {reason}")
        }
        other => panic!("expected Lost after reclaim, got {other:?}"),
    }
}

#[test]
fn the_lease_priority_from_the_spec_applies_to_acquirers_without_one() {
    let ns = Namespace::new("lease-prio");
    let client = ns.admin();
    client.create_lease("l", None, Some(7)).expect("create");
    let held = client
        .acquire_lease("l", &Options::new().holder("h"))
        .expect("hold");
    assert_eq!(status_of::<Lease>(&client, "l").holder_priority, 7);
    let waiter = {
        let client = client.clone();
        thread::spawn(move || {
            client
                .acquire_lease(
                    "l",
                    &Options::new().holder("w").timeout(Duration::from_secs(20)),
                )
                .map(|l| l.token())
        })
    };
    eventually(Duration::from_secs(10), "the waiter to queue", || {
        Kind::Lease.waiters(&client, "l") == ["w"]
    });
    let waiter_priority = client.api::<Lease>().waiters("l").expect("waiters")[0]
        .spec
        .priority;
    assert_eq!(waiter_priority, 7);
    held.release().expect("release");
    waiter
        .join()
        .expect("waiter thread")
        .expect("waiter acquires");
}

#[test]
fn with_lease_releases_after_success_and_after_the_work_fails() {
    let ns = Namespace::new("lease-with");
    let client = ns.admin();
    client.create_lease("l", None, None).expect("create");
    let token: Result<u64, WorkError> =
        client.with_lease("l", &Options::new().holder("a"), |lease| {
            assert_eq!(Kind::Lease.holders(&client, "l"), ["a"]);
            Ok(lease.token())
        });
    assert!(token.is_ok(), "{token:?}");
    assert!(
        Kind::Lease.holders(&client, "l").is_empty(),
        "released after the work succeeded"
    );
    let failed: Result<(), WorkError> = client.with_lease("l", &Options::new().holder("b"), |_| {
        Err(WorkError::Job("boom"))
    });
    assert!(matches!(failed, Err(WorkError::Job("boom"))), "{failed:?}");
    assert!(
        Kind::Lease.holders(&client, "l").is_empty(),
        "released although the work failed"
    );
    let _held = client
        .acquire_lease("l", &Options::new().holder("c"))
        .expect("hold");
    let busy: Result<(), WorkError> = client.with_lease(
        "l",
        &Options::new().holder("d").timeout(Duration::ZERO),
        |_| Ok(()),
    );
    assert!(
        matches!(busy, Err(WorkError::Konductor(Error::LeaseHeld { .. }))),
        "{busy:?}"
    );
}

#[test]
fn leaders_take_turns_and_each_term_has_a_larger_token() {
    let ns = Namespace::new("lease-leader");
    let client = ns.admin();
    client
        .create_lease("leader", Some(Duration::from_secs(3)), None)
        .expect("create");
    let (sender, receiver) = mpsc::channel::<(String, u64, Instant, Instant)>();
    let candidates: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|name| {
            let (client, sender) = (client.clone(), sender.clone());
            thread::spawn(move || {
                client.run_as_leader("leader", &Options::new().holder(name), |leader| {
                    let start = Instant::now();
                    assert!(leader.is_leader());
                    assert_eq!(leader.holder(), name);
                    assert!(
                        leader.sleep(Duration::from_millis(300)),
                        "still leader after 300 ms"
                    );
                    sender
                        .send((name.to_owned(), leader.token(), start, Instant::now()))
                        .unwrap();
                })
            })
        })
        .collect();
    for candidate in candidates {
        candidate
            .join()
            .expect("candidate thread")
            .expect("each candidate leads once");
    }
    drop(sender);
    let mut terms: Vec<_> = receiver.iter().collect();
    terms.sort_by_key(|t| t.2);
    for pair in terms.windows(2) {
        assert!(
            pair[0].3 <= pair[1].2,
            "terms overlap: {:?} and {:?}",
            pair[0].0,
            pair[1].0
        );
        assert!(
            pair[0].1 < pair[1].1,
            "tokens must increase by term: {} then {}",
            pair[0].1,
            pair[1].1
        );
    }
    println!(
        "terms: {:?}",
        terms.iter().map(|t| (&t.0, t.1)).collect::<Vec<_>>()
    );
    assert_eq!(terms.len(), 3);
}

#[test]
fn a_leader_whose_lease_is_reclaimed_is_told_to_stop_and_gets_lost() {
    let ns = Namespace::new("lease-leaderloss");
    let client = ns.admin();
    let ttl = Duration::from_millis(900);
    client
        .create_lease("leader", Some(ttl), None)
        .expect("create");
    let (sender, receiver) = mpsc::channel();
    let leader = {
        let client = client.clone();
        thread::spawn(move || {
            client.run_as_leader("leader", &Options::new().holder("l1"), |leader| {
                sender.send(()).unwrap();
                let started = Instant::now();
                while leader.sleep(Duration::from_secs(10)) {}
                started.elapsed()
            })
        })
    };
    receiver
        .recv_timeout(Duration::from_secs(10))
        .expect("became leader");
    ns.patch_status(
        "lease",
        "leader",
        r#"{"status":{"holder":null,"phase":"Available"}}"#,
    );
    let removed_at = Instant::now();
    let result = leader.join().expect("leader thread");
    let noticed = removed_at.elapsed();
    println!(
        "leader noticed the reclaimed lease after {:.0} ms (TTL {ttl:?})",
        ms(noticed)
    );
    match result {
        Err(Error::Lost { kind: "Lease", .. }) => {}
        other => panic!("expected Lost from run_as_leader, got {other:?}"),
    }
    assert!(
        noticed < ttl + Duration::from_secs(1),
        "expected the loss noticed within TTL + 1 s, took {noticed:?}"
    );
}
