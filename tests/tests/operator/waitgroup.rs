//! The operator derives a wait group's status, publishes a `Done` Event when
//! its counter reaches zero, opens a gate waiting for it, and deletes it
//! `spec.ttl` after it reached zero; its counter is in the metrics.

use std::time::Duration;

use konductor::resource::{ConditionKind, GatePhase, WaitGroup, WaitGroupPhase};
use konductor::{Error, Options};
use konductor_tests::condition::condition;
use konductor_tests::operator::operated;
use konductor_tests::status::status_of;
use konductor_tests::wait::eventually;

#[test]
fn a_waitgroup_reaching_zero_is_done_with_an_event_opens_its_gate_and_is_deleted_after_its_ttl() {
    let (_serial, ns, operator) = operated("op-wg");
    let client = ns.admin();
    const TTL: Duration = Duration::from_secs(3);
    client
        .create_waitgroup("shards", 2, Some(TTL))
        .expect("create");
    client
        .create_gate(
            "merge",
            vec![condition(ConditionKind::WaitGroup, "shards", Some("Done"))],
            None,
        )
        .expect("gate");
    // The operator writes the derived status of a group nobody touched yet.
    eventually(
        Duration::from_secs(5),
        "the operator's Waiting status",
        || {
            client
                .get_waitgroup("shards")
                .ok()
                .and_then(|g| g.status)
                .is_some_and(|s| s.phase == Some(WaitGroupPhase::Waiting) && s.counter == 2)
        },
    );
    let status = status_of::<WaitGroup>(&client, "shards");
    let ready = status.conditions.iter().find(|c| c.type_ == "Ready");
    assert_eq!(
        ready.map(|c| (c.status.as_str(), c.reason.as_str())),
        Some(("True", "Waiting")),
        "{status:?}"
    );
    eventually(Duration::from_secs(5), "the counter in the metrics", || {
        operator.metric("konductor_waitgroup_counter") == Some(2.0)
    });
    for shard in ["shard-0", "shard-1"] {
        client
            .done_waitgroup("shards", &Options::new().holder(shard))
            .expect("done");
    }
    eventually(Duration::from_secs(5), "a Done event", || {
        ns.event_reasons().contains("Done")
    });
    eventually(Duration::from_secs(5), "the gate opens", || {
        client
            .get_gate("merge")
            .ok()
            .and_then(|g| g.status)
            .is_some_and(|s| s.phase == Some(GatePhase::Open))
    });
    let status = status_of::<WaitGroup>(&client, "shards");
    let ready = status.conditions.iter().find(|c| c.type_ == "Ready");
    assert_eq!(ready.map(|c| c.reason.as_str()), Some("Done"), "{status:?}");
    eventually(
        Duration::from_secs(5),
        "the counter zero in the metrics",
        || operator.metric("konductor_waitgroup_counter") == Some(0.0),
    );
    // Deleted after the ttl counted from doneAt, not before.
    assert!(
        client.get_waitgroup("shards").is_ok(),
        "deleted before its ttl"
    );
    eventually(
        TTL + Duration::from_secs(5),
        "the wait group deleted",
        || matches!(client.get_waitgroup("shards"), Err(Error::NotFound { .. })),
    );
}
