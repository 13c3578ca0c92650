//! Gates evaluated by the operator: over two Jobs and a Barrier, a gate opens
//! within a second of its last condition becoming true; a failed Job keeps it
//! closed and says so; a gate that does not open in time fails.

use std::time::{Duration, Instant};

use konductor::resource::{ConditionKind, GateCondition};
use konductor::{Client, Error, Options};
use konductor_tests::cluster::kubectl;
use konductor_tests::namespace::Namespace;
use konductor_tests::operator::Operator;
use konductor_tests::serial::one_at_a_time;
use konductor_tests::wait::{eventually, ms};

fn condition(type_: ConditionKind, name: &str, state: Option<&str>) -> GateCondition {
    GateCondition {
        type_,
        name: name.to_owned(),
        namespace: None,
        state: state.map(str::to_owned),
        value: None,
    }
}

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

fn now() -> String {
    kubectl_time()
}

/// An RFC 3339 time in whole seconds, as Job status requires.
fn kubectl_time() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Marks a Job Complete through its status subresource, as the Job controller would.
fn complete_job(ns: &Namespace, name: &str) {
    let t = now();
    let patch = format!(
        r#"{{"status":{{"startTime":"{t}","completionTime":"{t}","succeeded":1,"conditions":[
        {{"type":"SuccessCriteriaMet","status":"True","lastTransitionTime":"{t}"}},
        {{"type":"Complete","status":"True","lastTransitionTime":"{t}"}}]}}}}"#
    );
    kubectl(&[
        "-n",
        &ns.name,
        "patch",
        "job",
        name,
        "--subresource=status",
        "--type=merge",
        "-p",
        &patch,
    ]);
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
    kubectl(&[
        "-n",
        &ns.name,
        "patch",
        "job",
        name,
        "--subresource=status",
        "--type=merge",
        "-p",
        &patch,
    ]);
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
    let _serial = one_at_a_time();
    let ns = Namespace::new("op-gate-open");
    let _operator = Operator::start(&ns.name, &[]);
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
    let status = client
        .get_gate("deploy")
        .expect("get")
        .status
        .expect("status");
    assert!(status.opened_at.is_some());
    assert!(
        status.condition_statuses.iter().all(|c| c.met),
        "{:?}",
        status.condition_statuses
    );
}

#[test]
fn a_failed_job_keeps_the_gate_closed_with_the_reason() {
    let _serial = one_at_a_time();
    let ns = Namespace::new("op-gate-failed");
    let _operator = Operator::start(&ns.name, &[]);
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
    let status = client
        .get_gate("release")
        .expect("get")
        .status
        .expect("status");
    assert_eq!(status.phase, "Waiting");
    let ready = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .expect("Ready condition");
    assert_eq!(ready.message, format!("waiting for: {expected}"));
}

#[test]
fn a_gate_that_does_not_open_in_time_fails_and_wait_gate_says_why() {
    let _serial = one_at_a_time();
    let ns = Namespace::new("op-gate-timeout");
    let _operator = Operator::start(&ns.name, &[]);
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
    match result {
        Err(Error::Failed {
            kind,
            name,
            message,
        }) => {
            assert_eq!((kind, name.as_str()), ("Gate", "train"));
            assert_eq!(
                message,
                "timed out after 2s: Semaphore gpu has 1 of 1 permits available (needs at least 2); Job prepare not found"
            );
        }
        other => panic!("expected Error::Failed from wait_gate, got {other:?}"),
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took <= Duration::from_secs(4),
        "expected the failure 2-3s after creation (never before the timeout), it came after {took:?}"
    );
}

#[test]
fn a_gate_follows_objects_in_its_conditions_as_they_change() {
    let _serial = one_at_a_time();
    let ns = Namespace::new("op-gate-kinds");
    let _operator = Operator::start(&ns.name, &[]);
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
