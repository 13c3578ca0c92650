//! The operator fails a barrier whose timeout passed, and waiting clients get
//! a clear error; it opens a barrier whose threshold was lowered.

use std::thread;
use std::time::{Duration, Instant};

use konductor::{Error, Options};
use konductor_tests::cluster::kubectl;
use konductor_tests::namespace::Namespace;
use konductor_tests::operator::Operator;
use konductor_tests::serial::one_at_a_time;
use konductor_tests::wait::{eventually, ms};

#[test]
fn a_barrier_that_times_out_fails_and_wait_barrier_returns_failed() {
    let _serial = one_at_a_time();
    let ns = Namespace::new("op-bar-timeout");
    let _operator = Operator::start(&ns.name, &[]);
    let client = ns.admin();
    const TIMEOUT: Duration = Duration::from_secs(2);
    let created_at = Instant::now();
    client
        .create_barrier("stage", 3, None, Some(TIMEOUT))
        .expect("create");
    client
        .arrive_barrier("stage", &Options::new().holder("early"))
        .expect("arrive");

    let waiter = {
        let client = ns.admin();
        thread::spawn(move || {
            let result = client.wait_barrier(
                "stage",
                &Options::new()
                    .holder("early")
                    .timeout(Duration::from_secs(10)),
            );
            (result, Instant::now())
        })
    };
    let (result, returned_at) = waiter.join().expect("waiter thread");
    let after = returned_at - created_at;
    println!(
        "barrier with timeout {}ms failed; wait_barrier returned after {:.0}ms",
        TIMEOUT.as_millis(),
        ms(after)
    );
    match result {
        Err(Error::Failed {
            kind,
            name,
            message,
        }) => {
            assert_eq!((kind, name.as_str()), ("Barrier", "stage"));
            assert_eq!(message, "timed out after 2s: 1 of 3 holders arrived");
        }
        other => panic!("expected Error::Failed from wait_barrier, got {other:?}"),
    }
    // creationTimestamp has whole seconds; the operator counts from the
    // latest instant it can stand for, so it fails up to a second late, never early.
    assert!(
        after >= TIMEOUT && after <= TIMEOUT + Duration::from_secs(2),
        "failed {:.0}ms after creation, expected about {TIMEOUT:?}",
        ms(after)
    );
    let barrier = client.get_barrier("stage").expect("get");
    let status = barrier.status.expect("status");
    assert_eq!(status.phase, "Failed");
    let ready = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .expect("Ready condition");
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "TimedOut")
    );
    assert!(matches!(
        client.arrive_barrier("stage", &Options::new().holder("late")),
        Err(Error::Failed { .. })
    ));
    eventually(Duration::from_secs(3), "a Failed event", || {
        kubectl(&[
            "-n",
            &ns.name,
            "get",
            "events",
            "-o",
            "jsonpath={.items[*].reason}",
        ])
        .contains("Failed")
    });
}

#[test]
fn lowering_expected_lets_the_operator_open_the_barrier() {
    let _serial = one_at_a_time();
    let ns = Namespace::new("op-bar-open");
    let _operator = Operator::start(&ns.name, &[]);
    let client = ns.admin();
    client
        .create_barrier("stage", 3, None, None)
        .expect("create");
    client
        .arrive_barrier("stage", &Options::new().holder("a"))
        .expect("arrive");
    kubectl(&[
        "-n",
        &ns.name,
        "patch",
        "barrier",
        "stage",
        "--type=merge",
        "-p",
        r#"{"spec":{"expected":1}}"#,
    ]);
    client
        .wait_barrier("stage", &Options::new().timeout(Duration::from_secs(5)))
        .expect("the operator opens it");
    let status = client
        .get_barrier("stage")
        .expect("get")
        .status
        .expect("status");
    assert_eq!((status.phase.as_str(), status.arrived), ("Open", 1));
    assert!(status.opened_at.is_some());
}
