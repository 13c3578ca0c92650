//! Gates evaluated by the operator: over two Jobs and a Barrier, a gate opens
//! within a second of its last condition becoming true; a failed Job keeps it
//! closed and says so; a gate that does not open in time fails.

use std::time::{Duration, Instant, SystemTime};

use konductor::resource::{ConditionKind, Gate, GatePhase};
use konductor::{format_rfc3339, Client, Options};
use konductor_tests::cluster::kubectl;
use konductor_tests::condition::condition;
use konductor_tests::failure::failed_message;
use konductor_tests::namespace::Namespace;
use konductor_tests::operator::{operated, Operator};
use konductor_tests::serial::one_at_a_time;
use konductor_tests::status::status_of;
use konductor_tests::wait::{eventually, ms};

/// Creates a Job as admin. No controller-manager runs, so nothing changes its
/// status but the test.
fn create_job(ns: &Namespace, name: &str) {
    let manifest = format!(
        r#"{{"apiVersion":"batch/v1","kind":"Job","metadata":{{"name":"{name}"}},
        "spec":{{"template":{{"spec":{{"restartPolicy":"Never",
        "containers":[{{"name":"main","image":"busybox"}}]}}}}}}}}"#
    );
    let path = std::env::temp_dir().join(format!("{}-{name}.json", ns.name));
    std::fs::write(&path, manifest).expect("write the Job manifest");
    kubectl(&[
        "-n",
        &ns.name,
        "create",
        "-f",
        path.to_str().expect("UTF-8 path"),
    ]);
    let _ = std::fs::remove_file(path);
}

/// Now as RFC 3339 in whole seconds, as Job status requires.
fn now() -> String {
    let stamp = format_rfc3339(SystemTime::now());
    format!("{}Z", &stamp[..19])
}

/// Merge-patches the status of Job `name` as admin, as the Job controller would.
fn patch_job_status(ns: &Namespace, name: &str, patch: &str) {
    kubectl(&[
        "-n",
        &ns.name,
        "patch",
        "job",
        name,
        "--subresource=status",
        "--type=merge",
        "-p",
        patch,
    ]);
}

/// Marks a Job Complete through its status subresource, as the Job controller would.
fn complete_job(ns: &Namespace, name: &str) {
    let t = now();
    let patch = format!(
        r#"{{"status":{{"startTime":"{t}","completionTime":"{t}","succeeded":1,"conditions":[
        {{"type":"SuccessCriteriaMet","status":"True","lastTransitionTime":"{t}"}},
        {{"type":"Complete","status":"True","lastTransitionTime":"{t}"}}]}}}}"#
    );
    patch_job_status(ns, name, &patch);
}

/// Marks a Job Failed through its status subresource.
fn fail_job(ns: &Namespace, name: &str) {
    let t = now();
    let reason = r#""reason":"BackoffLimitExceeded","message":"Job has reached the specified backoff limit""#;
    let patch = format!(
        r#"{{"status":{{"startTime":"{t}","failed":1,"conditions":[
        {{"type":"FailureTarget","status":"True",{reason},"lastTransitionTime":"{t}"}},
        {{"type":"Failed","status":"True",{reason},"lastTransitionTime":"{t}"}}]}}}}"#
    );
    patch_job_status(ns, name, &patch);
}

fn statuses(client: &Client, gate: &str) -> Vec<(String, bool, String)> {
    client
        .gate_conditions(gate)
        .expect("gate conditions")
        .into_iter()
        .map(|c| (c.name, c.met, c.message))
        .collect()
}

#[test]
fn a_gate_over_two_jobs_and_a_barrier_opens_within_a_second_of_the_last_condition() {
    let (_serial, ns, _operator) = operated("op-gate-open");
    let client = ns.admin();
    create_job(&ns, "build");
    create_job(&ns, "test");
    client
        .create_barrier("ready", 1, None, None)
        .expect("barrier");
    client
        .create_gate(
            "deploy",
            vec![
                condition(ConditionKind::Job, "build", Some("Complete")),
                condition(ConditionKind::Job, "test", None),
                condition(ConditionKind::Barrier, "ready", Some("Open")),
            ],
            Some(Duration::from_secs(120)),
        )
        .expect("gate");
    eventually(Duration::from_secs(5), "the first evaluation", || {
        statuses(&client, "deploy").len() == 3
    });
    assert_eq!(
        statuses(&client, "deploy"),
        [
            (
                "build".into(),
                false,
                "Job build is not complete yet (active 0, succeeded 0, failed 0)".into()
            ),
            (
                "test".into(),
                false,
                "Job test is not complete yet (active 0, succeeded 0, failed 0)".into()
            ),
            (
                "ready".into(),
                false,
                "Barrier ready is not open (phase Waiting)".into()
            ),
        ]
    );

    complete_job(&ns, "build");
    client
        .arrive_barrier("ready", &Options::new().holder("stage-1"))
        .expect("arrive");
    eventually(Duration::from_secs(5), "two conditions met", || {
        statuses(&client, "deploy")
            .iter()
            .filter(|(_, met, _)| *met)
            .count()
            == 2
    });
    assert!(
        !client.check_gate("deploy").expect("check"),
        "one Job is still running"
    );

    // The last condition. The change is applied before kubectl returns, so
    // timing from its return leaves out only kubectl's exit (a few ms), and
    // not its start-up, which on a loaded machine can take longer than the
    // operator does.
    let before_kubectl = Instant::now();
    complete_job(&ns, "test");
    let applied = Instant::now();
    client
        .wait_gate("deploy", &Options::new().timeout(Duration::from_secs(5)))
        .expect("the gate opens");
    let opened = applied.elapsed();
    println!(
        "gate opened {:.0}ms after the last Job was marked Complete ({:.0}ms counting kubectl)",
        ms(opened),
        ms(before_kubectl.elapsed())
    );
    assert!(
        opened <= Duration::from_secs(1),
        "expected the gate open within 1s of the last condition, it took {:.0}ms",
        ms(opened)
    );
    let status = status_of::<Gate>(&client, "deploy");
    assert!(status.opened_at.is_some());
    assert!(
        status.condition_statuses.iter().all(|c| c.met),
        "{:?}",
        status.condition_statuses
    );
}

#[test]
fn a_failed_job_keeps_the_gate_closed_with_the_reason() {
    let (_serial, ns, _operator) = operated("op-gate-failed");
    let client = ns.admin();
    create_job(&ns, "migrate");
    create_job(&ns, "seed");
    client
        .create_gate(
            "release",
            vec![
                condition(ConditionKind::Job, "migrate", Some("Complete")),
                condition(ConditionKind::Job, "seed", Some("Complete")),
            ],
            None,
        )
        .expect("gate");
    complete_job(&ns, "seed");
    fail_job(&ns, "migrate");
    let expected = "Job migrate failed (BackoffLimitExceeded: Job has reached the specified backoff limit); it will not complete";
    eventually(Duration::from_secs(5), "the failure to show", || {
        statuses(&client, "release")
            .first()
            .is_some_and(|(_, _, m)| m == expected)
    });
    assert_eq!(
        statuses(&client, "release"),
        [
            ("migrate".into(), false, expected.into()),
            ("seed".into(), true, "Job seed is complete".into()),
        ]
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !client.check_gate("release").expect("check"),
        "a failed condition keeps the gate closed"
    );
    let status = status_of::<Gate>(&client, "release");
    assert_eq!(status.phase, Some(GatePhase::Waiting));
    let ready = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .expect("Ready condition");
    assert_eq!(ready.message, format!("waiting for: {expected}"));
}

#[test]
fn a_gate_that_does_not_open_in_time_fails_and_wait_gate_says_why() {
    let (_serial, ns, _operator) = operated("op-gate-timeout");
    let client = ns.admin();
    client.create_semaphore("gpu", 1, None).expect("semaphore");
    let mut needs_two = condition(ConditionKind::Semaphore, "gpu", None);
    needs_two.value = Some(2);
    client
        .create_gate(
            "train",
            vec![needs_two, condition(ConditionKind::Job, "prepare", None)],
            Some(Duration::from_secs(2)),
        )
        .expect("gate");
    let started = Instant::now();
    let result = client.wait_gate("train", &Options::new().timeout(Duration::from_secs(10)));
    println!(
        "gate with timeout 2s failed after {:.0}ms",
        ms(started.elapsed())
    );
    assert_eq!(
        failed_message(result, "Gate", "train"),
        "timed out after 2s: Semaphore gpu has 1 of 1 permits available (needs at least 2); Job prepare not found"
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took <= Duration::from_secs(4),
        "expected the failure 2-3s after creation (never before the timeout), it came after {took:?}"
    );
}

#[test]
fn a_gate_follows_objects_in_its_conditions_as_they_change() {
    let (_serial, ns, _operator) = operated("op-gate-kinds");
    let client = ns.admin();
    client
        .create_lease("leader", Some(Duration::from_secs(30)), None)
        .expect("lease");
    client
        .create_gate(
            "upstream",
            vec![condition(ConditionKind::Lease, "leader", Some("Acquired"))],
            None,
        )
        .expect("upstream gate");
    client
        .create_gate(
            "downstream",
            vec![condition(ConditionKind::Gate, "upstream", None)],
            None,
        )
        .expect("downstream gate");
    eventually(Duration::from_secs(5), "first evaluation", || {
        statuses(&client, "downstream")
            == [(
                "upstream".into(),
                false,
                "Gate upstream is not open (phase Waiting)".into(),
            )]
    });
    let started = Instant::now();
    let lease = client
        .acquire_lease("leader", &Options::new().holder("me"))
        .expect("acquire");
    client
        .wait_gate(
            "downstream",
            &Options::new().timeout(Duration::from_secs(5)),
        )
        .expect("both gates open in turn");
    println!(
        "two chained gates opened {:.0}ms after the lease was taken",
        ms(started.elapsed())
    );
    // One second per gate in the chain.
    assert!(started.elapsed() <= Duration::from_secs(2));
    lease.release().expect("release");
}

#[test]
fn a_gate_waits_on_a_job_in_another_watched_namespace() {
    let _serial = one_at_a_time();
    let home = Namespace::new("op-gate-home");
    let other = Namespace::new("op-gate-other");
    let _operator = Operator::start(&format!("{},{}", home.name, other.name), &[]);
    let client = home.admin();
    create_job(&other, "upstream");
    let mut upstream = condition(ConditionKind::Job, "upstream", None);
    upstream.namespace = Some(other.name.clone());
    client
        .create_gate("downstream", vec![upstream], None)
        .expect("gate");
    let expected = format!(
        "Job {}/upstream is not complete yet (active 0, succeeded 0, failed 0)",
        other.name
    );
    eventually(Duration::from_secs(5), "the first evaluation", || {
        statuses(&client, "downstream") == [("upstream".to_owned(), false, expected.clone())]
    });
    complete_job(&other, "upstream");
    let applied = Instant::now();
    client
        .wait_gate(
            "downstream",
            &Options::new().timeout(Duration::from_secs(5)),
        )
        .expect("the gate opens");
    let opened = applied.elapsed();
    println!(
        "cross-namespace gate opened {:.0}ms after the Job was marked Complete",
        ms(opened)
    );
    assert!(opened <= Duration::from_secs(1), "took {:.0}ms", ms(opened));
}
