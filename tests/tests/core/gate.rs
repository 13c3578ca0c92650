//! Gate operations of the core client against the real control plane. The
//! operator is not running, so each test writes the gate's status as admin,
//! as the operator would, and checks what clients read and wait for.

use std::thread;
use std::time::{Duration, Instant};

use konductor::resource::{ConditionKind, GateCondition};
use konductor::{Argument, Error, Options};
use konductor_tests::cancel::cancel_while_waiting;
use konductor_tests::namespace::Namespace;
use konductor_tests::wait::ms;

fn condition(
    type_: ConditionKind,
    name: &str,
    state: Option<&str>,
    value: Option<i64>,
) -> GateCondition {
    GateCondition {
        type_,
        name: name.to_owned(),
        namespace: None,
        state: state.map(str::to_owned),
        value,
    }
}

fn conditions() -> Vec<GateCondition> {
    vec![
        condition(ConditionKind::Barrier, "stage-1", Some("Open"), None),
        condition(ConditionKind::Semaphore, "gpu", None, Some(2)),
    ]
}

#[test]
fn gates_can_be_created_read_listed_and_deleted() {
    let ns = Namespace::new("gate-crud");
    let client = ns.admin();
    let created = client
        .create_gate("deploy", conditions(), Some(Duration::from_secs(300)))
        .expect("create");
    assert_eq!(created.spec.conditions, conditions());
    assert_eq!(
        created.spec.timeout.as_deref(),
        Some("5m0s"),
        "Go duration format"
    );
    client
        .create_gate(
            "other",
            vec![condition(
                ConditionKind::Job,
                "build",
                Some("Complete"),
                None,
            )],
            None,
        )
        .expect("create second");
    assert_eq!(client.get_gate("deploy").expect("get").spec, created.spec);
    let mut names: Vec<String> = client
        .list_gates()
        .expect("list")
        .iter()
        .map(|g| g.name().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["deploy", "other"]);
    client.delete_gate("deploy").expect("delete");
    assert!(matches!(
        client.get_gate("deploy"),
        Err(Error::NotFound { kind: "Gate", .. })
    ));
    assert!(matches!(
        client.delete_gate("deploy"),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        client.check_gate("deploy"),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        client.gate_conditions("deploy"),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        client.wait_gate("deploy", &Options::new()),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn bad_gate_specs_are_rejected() {
    let ns = Namespace::new("gate-invalid");
    let client = ns.admin();
    match client.create_gate(
        "g",
        vec![condition(
            ConditionKind::Barrier,
            "Bad_Name",
            Some("Open"),
            None,
        )],
        None,
    ) {
        Err(Error::Invalid { value, reason, .. }) => {
            assert_eq!(value, "Bad_Name");
            assert!(reason.contains("conditions[0]"), "reason = {reason}");
        }
        other => panic!("expected Invalid for a bad condition name, got {other:?}"),
    }
    let mut foreign = condition(ConditionKind::Lease, "l", Some("Acquired"), None);
    foreign.namespace = Some("Not A Namespace".to_owned());
    assert!(matches!(
        client.create_gate("g", vec![foreign], None),
        Err(Error::Invalid {
            argument: Argument::Namespace,
            ..
        })
    ));
}

#[test]
fn check_gate_and_gate_conditions_follow_the_status_the_operator_writes() {
    let ns = Namespace::new("gate-status");
    let client = ns.admin();
    client.create_gate("g", conditions(), None).expect("create");
    assert!(
        !client.check_gate("g").expect("check"),
        "a gate without status is closed"
    );
    assert!(
        client.gate_conditions("g").expect("conditions").is_empty(),
        "nothing evaluated yet"
    );

    ns.patch_status(
        "gate",
        "g",
        r#"{"status":{"phase":"Waiting","conditionStatuses":[
            {"type":"Barrier","name":"stage-1","met":true,"message":"open"},
            {"type":"Semaphore","name":"gpu","met":false,"message":"1 of 2 permits available"}]}}"#,
    );
    assert!(!client.check_gate("g").expect("check"));
    let evaluated = client.gate_conditions("g").expect("conditions");
    let summary: Vec<(ConditionKind, &str, bool)> = evaluated
        .iter()
        .map(|c| (c.type_, c.name.as_str(), c.met))
        .collect();
    assert_eq!(
        summary,
        [
            (ConditionKind::Barrier, "stage-1", true),
            (ConditionKind::Semaphore, "gpu", false)
        ]
    );
    assert_eq!(evaluated[1].message, "1 of 2 permits available");
    match client.wait_gate("g", &Options::new().timeout(Duration::from_millis(400))) {
        Err(Error::Timeout { what, .. }) => assert!(what.contains("gate"), "what = {what}"),
        other => panic!("expected Timeout while the gate waits, got {other:?}"),
    }

    ns.patch_status(
        "gate",
        "g",
        r#"{"status":{"phase":"Open","openedAt":"2030-01-01T00:00:00Z"}}"#,
    );
    assert!(client.check_gate("g").expect("check"));
    client
        .wait_gate("g", &Options::new().timeout(Duration::ZERO))
        .expect("an open gate returns at once");
}

#[test]
fn a_waiter_is_woken_by_the_gate_opening() {
    let ns = Namespace::new("gate-wake");
    let client = ns.admin();
    client.create_gate("g", conditions(), None).expect("create");
    let waiter = {
        let client = client.clone();
        thread::spawn(move || {
            let result = client.wait_gate("g", &Options::new().timeout(Duration::from_secs(20)));
            (result, Instant::now())
        })
    };
    thread::sleep(Duration::from_millis(400));
    ns.patch_status("gate", "g", r#"{"status":{"phase":"Open"}}"#);
    let opened_at = Instant::now();
    let (result, returned_at) = waiter.join().expect("waiter");
    result.expect("wait_gate returns once open");
    let delay = returned_at.saturating_duration_since(opened_at);
    println!(
        "wait_gate returned {:.1} ms after the status write returned",
        ms(delay)
    );
    assert!(
        delay < Duration::from_secs(1),
        "expected a watch-driven wake-up within 1 s, took {delay:?}"
    );
}

#[test]
fn a_failed_gate_fails_its_waiters_with_the_message() {
    let ns = Namespace::new("gate-failed");
    let client = ns.admin();
    client.create_gate("g", conditions(), None).expect("create");
    let waiter = {
        let client = client.clone();
        thread::spawn(move || {
            client.wait_gate("g", &Options::new().timeout(Duration::from_secs(20)))
        })
    };
    thread::sleep(Duration::from_millis(300));
    ns.patch_status(
        "gate",
        "g",
        r#"{"status":{"phase":"Failed","message":"timeout of 5m passed"}}"#,
    );
    match waiter.join().expect("waiter") {
        Err(Error::Failed {
            kind,
            name,
            message,
        }) => {
            assert_eq!(
                (kind, name.as_str(), message.as_str()),
                ("Gate", "g", "timeout of 5m passed")
            )
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(
        !client.check_gate("g").expect("check"),
        "a failed gate is not open"
    );
}

#[test]
fn waiting_for_a_gate_can_be_cancelled() {
    let ns = Namespace::new("gate-cancel");
    let client = ns.admin();
    client.create_gate("g", conditions(), None).expect("create");
    let waiting = client.clone();
    cancel_while_waiting(
        "gate wait",
        move |cancel| waiting.wait_gate("g", &Options::new().cancel(cancel)),
        || thread::sleep(Duration::from_millis(300)),
    );
}
