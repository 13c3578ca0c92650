//! Mutexes from the core client against the real control plane: CRUD, the
//! busy error naming the holder, fencing across holders, `with_mutex`, a
//! mutex as a gate condition, and the original project's sample YAML.
//! (Queueing, hand-off, fairness, expiry and contention are the lease
//! machinery's and run for mutexes too: see `test_each_kind!` users.)

use std::time::Duration;

use konductor::resource::{ConditionKind, GateCondition, LeasePhase, Mutex};
use konductor::{Error, Options};
use konductor_tests::cluster::{kubectl, repo};
use konductor_tests::kind::Kind;
use konductor_tests::namespace::Namespace;
use konductor_tests::status::status_of;
use konductor_tests::work::WorkError;

#[test]
fn mutexes_can_be_created_read_listed_and_deleted() {
    let ns = Namespace::new("mutex-crud");
    let client = ns.admin();
    let created = client
        .create_mutex("config", Some(Duration::from_secs(20)), Some(2))
        .expect("create");
    assert_eq!(
        (created.spec.ttl.as_deref(), created.spec.priority),
        (Some("20s"), Some(2))
    );
    assert!(matches!(
        client.create_mutex("config", None, None),
        Err(Error::AlreadyExists { .. })
    ));
    assert!(matches!(
        client.create_mutex("bad", Some(Duration::from_millis(1)), None),
        Err(Error::Invalid { .. })
    ));
    assert_eq!(client.get_mutex("config").expect("get").spec, created.spec);
    let names: Vec<String> = client
        .list_mutexes()
        .expect("list")
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    assert_eq!(names, ["config"]);
    client.delete_mutex("config").expect("delete");
    assert!(matches!(
        client.get_mutex("config"),
        Err(Error::NotFound { kind: "Mutex", .. })
    ));
    assert!(matches!(
        client.lock_mutex("config", &Options::new().timeout(Duration::ZERO)),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn a_locked_mutex_refuses_try_lock_naming_its_holder_and_fences_the_next() {
    let ns = Namespace::new("mutex-locked");
    let client = ns.admin();
    client.create_mutex("m", None, None).expect("create");
    let alice = client
        .try_lock_mutex("m", &Options::new().holder("alice"))
        .expect("unlocked mutex");
    let status = status_of::<Mutex>(&client, "m");
    assert_eq!(
        (status.holder.as_deref(), status.phase),
        (Some("alice"), Some(LeasePhase::Held))
    );

    match client.try_lock_mutex("m", &Options::new().holder("bob")) {
        Err(error @ Error::Locked { .. }) => {
            let Error::Locked { kind, name, holder } = &error else {
                unreachable!()
            };
            assert_eq!(
                (*kind, name.as_str(), holder.as_str()),
                ("mutex", "m", "alice")
            );
            assert_eq!(error.to_string(), "mutex m is locked by \"alice\"");
        }
        other => panic!("expected Locked naming alice, got {other:?}"),
    }
    assert!(matches!(
        client.lock_mutex("m", &Options::new().holder("bob").timeout(Duration::ZERO)),
        Err(Error::Locked { .. })
    ));
    assert!(matches!(
        client.lock_mutex(
            "m",
            &Options::new()
                .holder("bob")
                .timeout(Duration::from_millis(300))
        ),
        Err(Error::Timeout { .. })
    ));
    assert!(matches!(
        client.try_lock_mutex("m", &Options::new().holder("alice")),
        Err(Error::AlreadyHeld { kind: "Mutex", .. })
    ));

    alice.release().expect("unlock");
    let bob = client
        .lock_mutex("m", &Options::new().holder("bob"))
        .expect("unlocked again");
    assert!(
        bob.token() > alice.token(),
        "each lock has a larger fencing token: {} then {}",
        alice.token(),
        bob.token()
    );
    assert_eq!(status_of::<Mutex>(&client, "m").transitions, bob.token());
}

#[test]
fn with_mutex_runs_the_section_and_unlocks_even_when_it_fails() {
    let ns = Namespace::new("mutex-with");
    let client = ns.admin();
    client.create_mutex("m", None, None).expect("create");
    let options = Options::new()
        .holder("worker")
        .timeout(Duration::from_secs(5));
    let token: Result<u64, WorkError> = client.with_mutex("m", &options, |lock| {
        assert_eq!(Kind::Mutex.holders(&client, "m"), ["worker"]);
        Ok(lock.token())
    });
    assert!(token.is_ok(), "{token:?}");
    let failed: Result<(), WorkError> =
        client.with_mutex("m", &options, |_| Err(WorkError::Job("section failed")));
    assert!(matches!(failed, Err(WorkError::Job(_))), "{failed:?}");
    assert!(
        Kind::Mutex.holders(&client, "m").is_empty(),
        "unlocked although the section failed"
    );
    let _held = client
        .lock_mutex("m", &Options::new().holder("other"))
        .expect("lock");
    let busy: Result<(), WorkError> = client.with_mutex(
        "m",
        &Options::new().holder("late").timeout(Duration::ZERO),
        |_| Ok(()),
    );
    assert!(
        matches!(busy, Err(WorkError::Konductor(Error::Locked { .. }))),
        "{busy:?}"
    );
}

#[test]
fn a_gate_can_wait_for_a_mutex_to_be_unlocked() {
    let ns = Namespace::new("mutex-gate");
    let client = ns.admin();
    client.create_mutex("m", None, None).expect("create");
    let condition = GateCondition {
        type_: ConditionKind::Mutex,
        name: "m".into(),
        namespace: None,
        state: Some("Unlocked".into()),
        value: None,
    };
    let gate = client
        .create_gate("after-m", vec![condition.clone()], None)
        .expect("a Mutex condition is accepted");
    assert_eq!(gate.spec.conditions, [condition]);
    let rejected = client.create_gate(
        "wrong-state",
        vec![GateCondition {
            type_: ConditionKind::Mutex,
            name: "m".into(),
            namespace: None,
            state: Some("Open".into()),
            value: None,
        }],
        None,
    );
    assert!(
        matches!(&rejected, Err(Error::Api(status)) if status.message.contains("Mutex Locked/Unlocked")),
        "a mutex state other than Locked/Unlocked is refused by the API server: {rejected:?}"
    );
}

#[test]
fn the_original_konductor_samples_of_the_new_kinds_apply() {
    let ns = Namespace::new("mutex-samples");
    let samples = repo().join("tests/samples/original-kinds.yaml");
    let out = kubectl(&[
        "apply",
        "--dry-run=server",
        "-n",
        &ns.name,
        "-f",
        samples.to_str().expect("path"),
    ]);
    for created in [
        "mutex.sync.konductor.io/config-update created (server dry run)",
        "rwmutex.sync.konductor.io/cache-lock created (server dry run)",
        "once.sync.konductor.io/init-database created (server dry run)",
        "waitgroup.sync.konductor.io/shard-workers created (server dry run)",
    ] {
        assert!(out.contains(created), "expected {created:?} in: {out}");
    }
}
