//! Wait groups from the core client against the real control plane: CRUD
//! and argument bounds, wait blocking until zero (timeout, cancel), the
//! below-zero error, idempotent done and add, exact counting under
//! concurrent dones, the apiserver's rules, and a wait group as a gate
//! condition.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use konductor::resource::{
    ConditionKind, GateCondition, WaitGroup, WaitGroupPhase, MAX_WAITGROUP_COUNT,
};
use konductor::{Argument, CancelToken, Error, Options};
use konductor_tests::cluster::{cluster, kubectl_as};
use konductor_tests::namespace::Namespace;
use konductor_tests::status::status_of;
use konductor_tests::waiter::spawn_timed_waiter;

fn holder(name: &str) -> Options {
    Options::new().holder(name).timeout(Duration::from_secs(10))
}

#[test]
fn waitgroups_can_be_created_read_listed_and_deleted_and_absurd_counts_are_refused() {
    let ns = Namespace::new("wg-crud");
    let client = ns.admin();
    let created = client
        .create_waitgroup("shards", 3, Some(Duration::from_secs(3600)))
        .expect("create");
    assert_eq!(
        (created.spec.expected, created.spec.ttl.as_deref()),
        (3, Some("1h0m0s"))
    );
    assert_eq!(created.counter(), 3, "the counter starts at expected");
    assert!(matches!(
        client.create_waitgroup("shards", 1, None),
        Err(Error::AlreadyExists { .. })
    ));
    let too_many = client.create_waitgroup("big", MAX_WAITGROUP_COUNT + 1, None);
    assert!(
        matches!(&too_many, Err(Error::Invalid { argument: Argument::Expected, value, .. }) if value == "2001"),
        "{too_many:?}"
    );
    assert!(matches!(
        client.create_waitgroup("short", 1, Some(Duration::from_millis(1))),
        Err(Error::Invalid {
            argument: Argument::Ttl,
            ..
        })
    ));
    for count in [0, MAX_WAITGROUP_COUNT + 1] {
        let refused = client.add_waitgroup("shards", count, &Options::new());
        assert!(
            matches!(&refused, Err(Error::Invalid { argument: Argument::Count, value, .. }) if *value == count.to_string()),
            "add({count}): {refused:?}"
        );
    }
    let names: Vec<String> = client
        .list_waitgroups()
        .expect("list")
        .iter()
        .map(|g| g.name().to_owned())
        .collect();
    assert_eq!(names, ["shards"]);
    assert_eq!(
        client.get_waitgroup("shards").expect("get").spec,
        created.spec
    );
    client.delete_waitgroup("shards").expect("delete");
    assert!(matches!(
        client.done_waitgroup("shards", &holder("a")),
        Err(Error::NotFound {
            kind: "WaitGroup",
            ..
        })
    ));
}

#[test]
fn wait_blocks_while_the_counter_is_above_zero_and_returns_when_it_reaches_zero() {
    let ns = Namespace::new("wg-wait");
    let client = ns.admin();
    client.create_waitgroup("g", 2, None).expect("create");
    let waiter = spawn_timed_waiter(&client, |client| {
        client.wait_waitgroup("g", &Options::new().timeout(Duration::from_secs(20)))
    });
    thread::sleep(Duration::from_millis(500));
    assert!(!waiter.is_finished(), "returned while the counter was 2");
    let after_one = client.done_waitgroup("g", &holder("a")).expect("done a");
    assert_eq!(after_one.counter(), 1);
    thread::sleep(Duration::from_millis(500));
    assert!(!waiter.is_finished(), "returned while the counter was 1");
    let last = client.done_waitgroup("g", &holder("b")).expect("done b");
    let zero_at = Instant::now();
    let status = last.status.expect("status written");
    assert_eq!(
        (status.counter, status.phase, status.done_holders.as_slice()),
        (
            0,
            Some(WaitGroupPhase::Done),
            &["a".to_owned(), "b".to_owned()][..]
        )
    );
    assert!(status.done_at.is_some(), "doneAt is set at zero");
    let (result, returned_at) = waiter.join().expect("waiter thread");
    result.expect("wait returns at zero");
    let lag = returned_at.saturating_duration_since(zero_at);
    assert!(
        lag < Duration::from_secs(2),
        "woken by the watch, expected well under 2s, took {lag:?}"
    );
    client
        .wait_waitgroup("g", &Options::new().timeout(Duration::ZERO))
        .expect("a wait at zero returns at once");
}

#[test]
fn wait_times_out_or_is_cancelled_while_the_counter_is_above_zero() {
    let ns = Namespace::new("wg-timeout");
    let client = ns.admin();
    client.create_waitgroup("g", 1, None).expect("create");
    let started = Instant::now();
    let timed_out = client.wait_waitgroup("g", &Options::new().timeout(Duration::from_millis(400)));
    assert!(
        matches!(&timed_out, Err(Error::Timeout { what, .. }) if what.contains("waitgroup")),
        "{timed_out:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(400));
    let cancel = CancelToken::new();
    let waiter = {
        let cancel = cancel.clone();
        spawn_timed_waiter(&client, move |client| {
            client.wait_waitgroup("g", &Options::new().cancel(&cancel))
        })
    };
    thread::sleep(Duration::from_millis(300));
    cancel.cancel();
    let cancelled_at = Instant::now();
    let (result, returned_at) = waiter.join().expect("waiter thread");
    assert!(matches!(result, Err(Error::Cancelled { .. })), "{result:?}");
    assert!(returned_at.saturating_duration_since(cancelled_at) < Duration::from_secs(2));
}

#[test]
fn done_below_zero_is_a_typed_error_naming_the_values() {
    let ns = Namespace::new("wg-below");
    let client = ns.admin();
    client.create_waitgroup("g", 1, None).expect("create");
    client.done_waitgroup("g", &holder("a")).expect("done a");
    match client.done_waitgroup("g", &holder("b")) {
        Err(error @ Error::BelowZero { .. }) => {
            assert_eq!(
                error.to_string(),
                "done by holder \"b\" would take WaitGroup g below zero (counter 0, 1 holders done)"
            );
        }
        other => panic!("expected BelowZero for holder b, got {other:?}"),
    }
    let status = status_of::<WaitGroup>(&client, "g");
    assert_eq!(
        (status.counter, status.done_holders),
        (0, vec!["a".to_owned()])
    );
    // A zero-count group refuses a done before any status exists.
    client.create_waitgroup("empty", 0, None).expect("create");
    assert!(matches!(
        client.done_waitgroup("empty", &holder("a")),
        Err(Error::BelowZero {
            counter: 0,
            done: 0,
            ..
        })
    ));
}

#[test]
fn a_retried_done_of_the_same_holder_counts_once() {
    let ns = Namespace::new("wg-retry");
    let client = ns.admin();
    client.create_waitgroup("g", 3, None).expect("create");
    client.done_waitgroup("g", &holder("a")).expect("done a");
    let again = client
        .done_waitgroup("g", &holder("a"))
        .expect("retry of a");
    assert_eq!(again.counter(), 2, "a's second done counted nothing");
    // A done whose write applied but whose answer was lost: the retry finds
    // its holder recorded and stops, whoever wrote the record.
    ns.patch_status(
        "waitgroups",
        "g",
        r#"{"status":{"counter":1,"doneHolders":["a","b"]}}"#,
    );
    let retried = client
        .done_waitgroup("g", &holder("b"))
        .expect("retry of b");
    assert_eq!(retried.counter(), 1, "b counted once");
    // Even at zero, a holder already done gets its (idempotent) success,
    // never a below-zero error.
    client.done_waitgroup("g", &holder("c")).expect("done c");
    let at_zero = client
        .done_waitgroup("g", &holder("c"))
        .expect("retry of c at zero");
    assert_eq!(at_zero.counter(), 0);
}

#[test]
fn add_raises_the_counter_once_per_call_up_to_the_cap_and_reopens_a_done_group() {
    let ns = Namespace::new("wg-add");
    let client = ns.admin();
    client.create_waitgroup("g", 0, None).expect("create");
    client
        .wait_waitgroup("g", &Options::new().timeout(Duration::ZERO))
        .expect("zero from the start");
    let added = client
        .add_waitgroup("g", 2, &Options::new())
        .expect("add 2");
    let status = added.status.clone().expect("status");
    assert_eq!(
        (
            status.counter,
            status.added,
            status.phase,
            status.add_tickets.len()
        ),
        (2, 2, Some(WaitGroupPhase::Waiting), 1)
    );
    client.done_waitgroup("g", &holder("a")).expect("done a");
    client.done_waitgroup("g", &holder("b")).expect("done b");
    assert_eq!(
        status_of::<WaitGroup>(&client, "g").phase,
        Some(WaitGroupPhase::Done)
    );
    let reopened = client
        .add_waitgroup("g", 1, &Options::new())
        .expect("add after done");
    let status = reopened.status.expect("status");
    assert_eq!(
        (status.counter, status.phase, status.done_at),
        (1, Some(WaitGroupPhase::Waiting), None)
    );
    let over = client.add_waitgroup("g", MAX_WAITGROUP_COUNT - 2, &Options::new());
    match &over {
        Err(Error::Invalid {
            argument: Argument::Count,
            reason,
            ..
        }) => assert!(
            reason.contains("expected 0 plus added 3") && reason.contains("to 2001"),
            "{reason}"
        ),
        other => panic!("expected an Invalid count past the cap, got {other:?}"),
    }
    assert_eq!(
        status_of::<WaitGroup>(&client, "g").added,
        3,
        "the refused add wrote nothing"
    );
    client
        .add_waitgroup("g", MAX_WAITGROUP_COUNT - 3, &Options::new())
        .expect("up to the cap exactly");
}

#[test]
fn concurrent_dones_from_many_threads_count_exactly() {
    const WORKERS: u32 = 16;
    let ns = Namespace::new("wg-concurrent");
    let client = ns.admin();
    client.create_waitgroup("g", WORKERS, None).expect("create");
    let waiter = spawn_timed_waiter(&client, |client| {
        client.wait_waitgroup("g", &Options::new().timeout(Duration::from_secs(60)))
    });
    let start = Arc::new(Barrier::new(WORKERS as usize));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (client, start) = (client.clone(), start.clone());
            thread::spawn(move || {
                let me = Options::new()
                    .holder(format!("worker-{w}"))
                    .timeout(Duration::from_secs(60));
                start.wait();
                // Every worker's done is retried once, as after a lost answer.
                client.done_waitgroup("g", &me)?;
                client.done_waitgroup("g", &me).map(|g| g.counter())
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker thread").expect("done");
    }
    let (result, _) = waiter.join().expect("waiter thread");
    result.expect("the waiter returned at zero");
    let status = status_of::<WaitGroup>(&client, "g");
    let mut holders = status.done_holders.clone();
    holders.sort();
    holders.dedup();
    assert_eq!(
        (status.counter, status.done_holders.len(), holders.len()),
        (0, WORKERS as usize, WORKERS as usize),
        "each of {WORKERS} workers counted exactly once: {status:?}"
    );
    assert!(matches!(
        client.done_waitgroup("g", &holder("one-too-many")),
        Err(Error::BelowZero { .. })
    ));
}

#[test]
fn the_apiserver_refuses_a_counter_that_does_not_add_up_or_a_done_holder_removed() {
    let ns = Namespace::new("wg-rules");
    let client = ns.admin();
    client.create_waitgroup("g", 2, None).expect("create");
    client.done_waitgroup("g", &holder("a")).expect("done a");
    let patch = |body: &str| {
        kubectl_as(
            &cluster().admin,
            &[
                "-n",
                &ns.name,
                "patch",
                "waitgroups.sync.konductor.io",
                "g",
                "--subresource=status",
                "--type=merge",
                "-p",
                body,
            ],
        )
    };
    let (ok, _, stderr) = patch(r#"{"status":{"counter":0,"phase":"Done"}}"#);
    assert!(
        !ok && stderr.contains(
            "status.counter must equal spec.expected plus status.added minus the done holders"
        ),
        "a counter released early is refused: {stderr}"
    );
    let (ok, _, stderr) = patch(r#"{"status":{"counter":2,"doneHolders":[]}}"#);
    assert!(
        !ok && stderr.contains("status.doneHolders must not shrink"),
        "a done holder cannot be forgotten: {stderr}"
    );
    let (ok, _, stderr) = patch(r#"{"status":{"counter":0,"doneHolders":["a","a"]}}"#);
    assert!(
        !ok && stderr.contains("Duplicate value"),
        "a holder listed twice is refused: {stderr}"
    );
    let (ok, _, stderr) = kubectl_as(
        &cluster().admin,
        &[
            "-n",
            &ns.name,
            "patch",
            "waitgroups.sync.konductor.io",
            "g",
            "--type=merge",
            "-p",
            r#"{"spec":{"expected":5}}"#,
        ],
    );
    assert!(
        !ok && stderr.contains("spec.expected is immutable"),
        "expected cannot change: {stderr}"
    );
    assert_eq!(
        status_of::<WaitGroup>(&client, "g").counter,
        1,
        "nothing was written"
    );
}

#[test]
fn a_gate_can_wait_for_a_waitgroup_to_be_done() {
    let ns = Namespace::new("wg-gate");
    let client = ns.admin();
    client.create_waitgroup("g", 1, None).expect("create");
    let condition = GateCondition {
        type_: ConditionKind::WaitGroup,
        name: "g".into(),
        namespace: None,
        state: Some("Done".into()),
        value: None,
    };
    let gate = client
        .create_gate("after-g", vec![condition.clone()], None)
        .expect("a WaitGroup condition is accepted");
    assert_eq!(gate.spec.conditions, [condition]);
    let rejected = client.create_gate(
        "wrong-state",
        vec![GateCondition {
            type_: ConditionKind::WaitGroup,
            name: "g".into(),
            namespace: None,
            state: Some("Open".into()),
            value: None,
        }],
        None,
    );
    assert!(
        matches!(&rejected, Err(Error::Api(status)) if status.message.contains("WaitGroup Done/Waiting")),
        "a wait group state other than Done/Waiting is refused by the API server: {rejected:?}"
    );
}
