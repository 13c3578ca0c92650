//! The operator fails a barrier whose timeout passed, and waiting clients get
//! a clear error; it opens a barrier whose threshold was lowered.

use std::time::{Duration, Instant};

use konductor::resource::{Barrier, BarrierPhase};
use konductor::{Error, Options};
use konductor_tests::cluster::kubectl;
use konductor_tests::failure::failed_message;
use konductor_tests::operator::operated;
use konductor_tests::status::status_of;
use konductor_tests::wait::{eventually, ms};
use konductor_tests::waiter::spawn_timed_waiter;

#[test]
fn a_barrier_that_times_out_fails_and_wait_barrier_returns_failed() {
    let (_serial, ns, _operator) = operated("op-bar-timeout");
    let client = ns.admin();
    const TIMEOUT: Duration = Duration::from_secs(2);
    let created_at = Instant::now();
    client
        .create_barrier("stage", 3, None, Some(TIMEOUT))
        .expect("create");
    client
        .arrive_barrier("stage", &Options::new().holder("early"))
        .expect("arrive");

    let waiter = spawn_timed_waiter(&client, |client| {
        client.wait_barrier(
            "stage",
            &Options::new()
                .holder("early")
                .timeout(Duration::from_secs(10)),
        )
    });
    let (result, returned_at) = waiter.join().expect("waiter thread");
    let after = returned_at - created_at;
    println!(
        "barrier with timeout {}ms failed; wait_barrier returned after {:.0}ms",
        TIMEOUT.as_millis(),
        ms(after)
    );
    assert_eq!(
        failed_message(result, "Barrier", "stage"),
        "timed out after 2s: 1 of 3 holders arrived"
    );
    // creationTimestamp has whole seconds; the operator counts from the
    // latest instant it can stand for, so it fails up to a second late, never early.
    assert!(
        after >= TIMEOUT && after <= TIMEOUT + Duration::from_secs(2),
        "failed {:.0}ms after creation, expected about {TIMEOUT:?}",
        ms(after)
    );
    let status = status_of::<Barrier>(&client, "stage");
    assert_eq!(status.phase, Some(BarrierPhase::Failed));
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
        ns.event_reasons().contains("Failed")
    });
}

#[test]
fn lowering_expected_lets_the_operator_open_the_barrier() {
    let (_serial, ns, _operator) = operated("op-bar-open");
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
    let status = status_of::<Barrier>(&client, "stage");
    assert_eq!(
        (status.phase, status.arrived),
        (Some(BarrierPhase::Open), 1)
    );
    assert!(status.opened_at.is_some());
}
