//! Barrier operations of the core client against the real control plane:
//! CRUD, arrivals, opening at `expected` or `quorum`, waiting, failure,
//! timeout and cancellation.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use konductor::resource::BarrierPhase;
use konductor::{Client, Error, Options};
use konductor_tests::cancel::cancel_while_waiting;
use konductor_tests::namespace::Namespace;
use konductor_tests::wait::{eventually, ms};
use konductor_tests::work::WorkError;

fn arrived(client: &Client, name: &str) -> Vec<String> {
    let status = client
        .get_barrier(name)
        .expect("get barrier")
        .status
        .unwrap_or_default();
    status.arrivals.into_iter().map(|a| a.holder).collect()
}

#[test]
fn barriers_can_be_created_read_listed_and_deleted() {
    let ns = Namespace::new("bar-crud");
    let client = ns.admin();
    let created = client
        .create_barrier("stage-1", 3, Some(2), Some(Duration::from_secs(600)))
        .expect("create");
    assert_eq!(
        (
            created.spec.expected,
            created.spec.quorum,
            created.spec.timeout.as_deref()
        ),
        (3, Some(2), Some("10m0s"))
    );
    client
        .create_barrier("stage-2", 1, None, None)
        .expect("create second");
    assert_eq!(
        client.get_barrier("stage-1").expect("get").spec,
        created.spec
    );
    let mut names: Vec<String> = client
        .list_barriers()
        .expect("list")
        .iter()
        .map(|b| b.name().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["stage-1", "stage-2"]);
    client.delete_barrier("stage-1").expect("delete");
    assert!(matches!(
        client.get_barrier("stage-1"),
        Err(Error::NotFound {
            kind: "Barrier",
            ..
        })
    ));
    assert!(matches!(
        client.delete_barrier("stage-1"),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        client.arrive_barrier("stage-1", &Options::new()),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        client.wait_barrier("stage-1", &Options::new()),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn arrivals_are_idempotent_and_the_expected_arrival_opens_the_barrier() {
    let ns = Namespace::new("bar-open");
    let client = ns.admin();
    client.create_barrier("b", 3, None, None).expect("create");
    let first = client
        .arrive_barrier("b", &Options::new().holder("w1"))
        .expect("arrive");
    let status = first.status.expect("status");
    assert_eq!(
        (status.arrived, status.phase),
        (1, Some(BarrierPhase::Waiting))
    );
    let again = client
        .arrive_barrier("b", &Options::new().holder("w1"))
        .expect("arrive again");
    assert_eq!(
        again.status.expect("status").arrived,
        1,
        "arriving twice counts once"
    );
    match client.wait_barrier("b", &Options::new().timeout(Duration::ZERO)) {
        Err(Error::Timeout { .. }) => {}
        other => {
            panic!("expected Timeout from a zero-timeout wait on a closed barrier, got {other:?}")
        }
    }
    client
        .arrive_barrier("b", &Options::new().holder("w2"))
        .expect("arrive");
    let opened = client
        .arrive_barrier("b", &Options::new().holder("w3"))
        .expect("arrive");
    let status = opened.status.expect("status");
    assert_eq!(
        (status.arrived, status.phase),
        (3, Some(BarrierPhase::Open))
    );
    assert!(
        status.opened_at.is_some(),
        "openedAt is set by the opening write"
    );
    assert_eq!(arrived(&client, "b"), ["w1", "w2", "w3"]);
    client
        .wait_barrier("b", &Options::new().timeout(Duration::ZERO))
        .expect("open barrier: wait returns at once");
    let late = client
        .arrive_barrier("b", &Options::new().holder("w4"))
        .expect("late arrival");
    assert_eq!(late.status.expect("status").phase, Some(BarrierPhase::Open));
}

#[test]
fn with_barrier_starts_the_work_only_after_everyone_arrived() {
    let ns = Namespace::new("bar-with");
    let client = ns.admin();
    client.create_barrier("b", 3, None, None).expect("create");
    let (sender, receiver) = mpsc::channel::<(&str, Instant, Instant)>();
    let workers: Vec<_> = [("w1", 0u64), ("w2", 300), ("w3", 600)]
        .into_iter()
        .map(|(name, delay)| {
            let (client, sender) = (client.clone(), sender.clone());
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(delay));
                let arrived = Instant::now();
                client.with_barrier(
                    "b",
                    &Options::new().holder(name).timeout(Duration::from_secs(20)),
                    || {
                        sender.send((name, arrived, Instant::now())).unwrap();
                        Ok::<_, Error>(())
                    },
                )
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker thread").expect("with_barrier");
    }
    drop(sender);
    let runs: Vec<_> = receiver.iter().collect();
    let last_arrival = runs.iter().map(|r| r.1).max().expect("three runs");
    for (name, _, started) in &runs {
        assert!(
            *started >= last_arrival,
            "{name} started its work before the last arrival"
        );
        println!(
            "{name} started {:.1} ms after the last arrival",
            ms(*started - last_arrival)
        );
    }
    let spread = runs.iter().map(|r| r.2).max().unwrap() - last_arrival;
    assert!(
        spread < Duration::from_secs(2),
        "expected all released within 2 s of the last arrival, took {spread:?}"
    );
}

#[test]
fn a_quorum_opens_the_barrier_before_all_expected_arrive() {
    let ns = Namespace::new("bar-quorum");
    let client = ns.admin();
    client
        .create_barrier("b", 5, Some(2), None)
        .expect("create");
    let waiter = {
        let client = client.clone();
        thread::spawn(move || {
            client.wait_barrier("b", &Options::new().timeout(Duration::from_secs(20)))
        })
    };
    client
        .arrive_barrier("b", &Options::new().holder("a"))
        .expect("arrive");
    let opened = client
        .arrive_barrier("b", &Options::new().holder("b"))
        .expect("arrive");
    assert_eq!(
        opened.status.expect("status").phase,
        Some(BarrierPhase::Open),
        "2 of 5 is a quorum of 2"
    );
    waiter
        .join()
        .expect("waiter thread")
        .expect("the waiter sees the quorum");
}

#[test]
fn invalid_barrier_counts_are_rejected() {
    let ns = Namespace::new("bar-invalid");
    let client = ns.admin();
    for (expected, quorum, what) in [
        (0, None, "expected"),
        (3, Some(0), "quorum"),
        (3, Some(4), "quorum"),
    ] {
        match client.create_barrier("b", expected, quorum, None) {
            Err(Error::Invalid {
                argument, value, ..
            }) => {
                assert_eq!(
                    argument.as_str(),
                    what,
                    "expected={expected} quorum={quorum:?}"
                );
                assert!(!value.is_empty());
            }
            other => panic!(
                "expected Invalid {what} for expected={expected} quorum={quorum:?}, got {other:?}"
            ),
        }
    }
    assert!(
        client.list_barriers().expect("list").is_empty(),
        "nothing was created"
    );
}

#[test]
fn a_failed_barrier_fails_waits_and_arrivals() {
    let ns = Namespace::new("bar-failed");
    let client = ns.admin();
    client.create_barrier("b", 2, None, None).expect("create");
    client
        .arrive_barrier("b", &Options::new().holder("a"))
        .expect("arrive");
    let waiter = {
        let client = client.clone();
        thread::spawn(move || {
            let result = client.wait_barrier("b", &Options::new().timeout(Duration::from_secs(20)));
            (result, Instant::now())
        })
    };
    thread::sleep(Duration::from_millis(300));
    // What the operator writes when the barrier's timeout passes.
    ns.patch_status(
        "barrier",
        "b",
        r#"{"status":{"phase":"Failed","message":"timeout of 1m passed with 1/2 arrived"}}"#,
    );
    let failed_at = Instant::now();
    let (result, returned_at) = waiter.join().expect("waiter thread");
    println!(
        "waiter saw the failure after {:.1} ms",
        ms(returned_at.saturating_duration_since(failed_at))
    );
    match result {
        Err(Error::Failed {
            kind,
            name,
            message,
        }) => {
            assert_eq!((kind, name.as_str()), ("Barrier", "b"));
            assert!(message.contains("1/2 arrived"), "message = {message}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(
        returned_at.saturating_duration_since(failed_at) < Duration::from_secs(1),
        "watch-driven: within 1 s"
    );
    assert!(matches!(
        client.arrive_barrier("b", &Options::new().holder("late")),
        Err(Error::Failed { .. })
    ));
    assert!(matches!(
        client.wait_barrier("b", &Options::new()),
        Err(Error::Failed { .. })
    ));
    let work: Result<(), Error> =
        client.with_barrier("b", &Options::new().holder("x"), || panic!("must not run"));
    assert!(matches!(work, Err(Error::Failed { .. })));
}

#[test]
fn waiting_for_a_barrier_times_out_or_is_cancelled() {
    let ns = Namespace::new("bar-wait");
    let client = ns.admin();
    client.create_barrier("b", 2, None, None).expect("create");
    let started = Instant::now();
    let result = client.wait_barrier("b", &Options::new().timeout(Duration::from_millis(500)));
    let took = started.elapsed();
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "expected Timeout, got {result:?}"
    );
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(3),
        "took {took:?}"
    );

    let waiting = client.clone();
    cancel_while_waiting(
        "barrier wait",
        move |cancel| waiting.wait_barrier("b", &Options::new().cancel(cancel)),
        || thread::sleep(Duration::from_millis(300)),
    );
}

#[test]
fn with_barrier_returns_the_work_result_and_deleting_ends_waits() {
    let ns = Namespace::new("bar-result");
    let client = ns.admin();
    client.create_barrier("one", 1, None, None).expect("create");
    let value: Result<&str, Error> = client.with_barrier("one", &Options::new(), || Ok("done"));
    assert_eq!(value.expect("work result"), "done");
    assert_eq!(
        arrived(&client, "one").len(),
        1,
        "with_barrier arrives under a generated holder"
    );
    let failed: Result<(), WorkError> =
        client.with_barrier("one", &Options::new().holder("second"), || {
            Err(WorkError::Job("boom"))
        });
    assert!(
        matches!(failed, Err(WorkError::Job("boom"))),
        "the work's error comes back: {failed:?}"
    );
    assert_eq!(arrived(&client, "one").len(), 2);
    let missing: Result<(), WorkError> = client.with_barrier("absent", &Options::new(), || Ok(()));
    assert!(
        matches!(missing, Err(WorkError::Konductor(Error::NotFound { .. }))),
        "got {missing:?}"
    );

    client
        .create_barrier("gone", 2, None, None)
        .expect("create");
    let waiter = {
        let client = client.clone();
        thread::spawn(move || {
            client.wait_barrier("gone", &Options::new().timeout(Duration::from_secs(20)))
        })
    };
    thread::sleep(Duration::from_millis(300));
    client.delete_barrier("gone").expect("delete");
    let result = waiter.join().expect("waiter");
    assert!(
        matches!(result, Err(Error::NotFound { .. })),
        "expected NotFound after delete, got {result:?}"
    );
    eventually(Duration::from_secs(5), "the barrier to disappear", || {
        client.list_barriers().expect("list").len() == 1
    });
}
