//! Onces from the core client against the real control plane: the work runs
//! in exactly one of many concurrent callers and the others get its outcome;
//! failures are recorded (final, or retried by option); an executor killed
//! mid-run is replaced by the next caller after the TTL; a retried outcome
//! write is recognised.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use konductor::resource::{OnFailure, Once, OncePhase};
use konductor::{Error, Options};
use konductor_tests::cluster::cluster;
use konductor_tests::namespace::Namespace;
use konductor_tests::serial::one_at_a_time;
use konductor_tests::status::status_of;
use konductor_tests::wait::ms;
use konductor_tests::work::WorkError;

#[test]
fn onces_can_be_created_read_listed_and_deleted() {
    let ns = Namespace::new("once-crud");
    let client = ns.admin();
    let created = client
        .create_once(
            "migrate",
            Some(Duration::from_secs(60)),
            Some(OnFailure::Retry),
        )
        .expect("create");
    assert_eq!(
        (created.spec.ttl.as_deref(), created.spec.on_failure),
        (Some("1m0s"), Some(OnFailure::Retry))
    );
    assert!(matches!(
        client.create_once("migrate", None, None),
        Err(Error::AlreadyExists { .. })
    ));
    assert!(matches!(
        client.create_once("bad", Some(Duration::from_secs(1 << 40)), None),
        Err(Error::Invalid { .. })
    ));
    assert_eq!(client.list_onces().expect("list").len(), 1);
    client.delete_once("migrate").expect("delete");
    let missing: Result<Option<()>, Error> = client.do_once("migrate", &Options::new(), |_| Ok(()));
    assert!(
        matches!(missing, Err(Error::NotFound { kind: "Once", .. })),
        "{missing:?}"
    );
}

#[test]
fn the_work_runs_in_exactly_one_of_many_callers_and_all_learn_it_is_done() {
    let ns = Namespace::new("once-many");
    let client = ns.admin();
    client.create_once("init", None, None).expect("create");
    let runs = Arc::new(AtomicU32::new(0));
    let start = Arc::new(Barrier::new(8));
    let callers: Vec<_> = (0..8)
        .map(|i| {
            let (client, runs, start) = (client.clone(), runs.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                let options = Options::new()
                    .holder(format!("replica-{i}"))
                    .timeout(Duration::from_secs(30));
                let outcome = client.do_once("init", &options, |run| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(500));
                    Ok::<_, Error>(run.token())
                });
                (outcome, Instant::now())
            })
        })
        .collect();
    let outcomes: Vec<_> = callers
        .into_iter()
        .map(|c| c.join().expect("caller"))
        .collect();
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the work ran exactly once");
    let ran: Vec<_> = outcomes
        .iter()
        .filter(|(o, _)| matches!(o, Ok(Some(_))))
        .collect();
    assert_eq!(ran.len(), 1, "one caller ran it: {outcomes:?}");
    for (outcome, _) in &outcomes {
        assert!(outcome.is_ok(), "{outcome:?}");
    }
    let status = status_of::<Once>(&client, "init");
    assert_eq!(status.phase, Some(OncePhase::Done));
    assert!(status
        .ran_by
        .as_deref()
        .is_some_and(|h| h.starts_with("replica-")));
    assert!(status.finished_at.is_some() && status.started_at.is_some());
    assert_eq!(status.executor.and_then(|e| e.holder), None);
    // Later callers return at once without running it, also when they
    // only try once.
    let later: Result<Option<()>, Error> = client.do_once("init", &Options::new(), |_| {
        panic!("a done once never runs again")
    });
    assert!(matches!(later, Ok(None)), "{later:?}");
    let tried = client.claim_once("init", &Options::new().timeout(Duration::ZERO));
    assert!(matches!(tried, Ok(None)), "{tried:?}");
}

#[test]
fn a_failed_run_is_final_by_default_and_everyone_gets_its_message() {
    let ns = Namespace::new("once-failed");
    let client = ns.admin();
    client.create_once("init", None, None).expect("create");
    let failed: Result<Option<()>, WorkError> =
        client.do_once("init", &Options::new().holder("first"), |_| {
            Err(WorkError::Job("the schema is locked"))
        });
    assert!(matches!(failed, Err(WorkError::Job(_))), "{failed:?}");
    let status = status_of::<Once>(&client, "init");
    assert_eq!(
        (status.phase, status.ran_by.as_deref()),
        (Some(OncePhase::Failed), Some("first"))
    );
    assert_eq!(
        status.message.as_deref(),
        Some("job failed: the schema is locked")
    );
    let next: Result<Option<()>, Error> = client.do_once(
        "init",
        &Options::new().holder("second").timeout(Duration::ZERO),
        |_| panic!("a finally failed once never runs again"),
    );
    match next {
        Err(Error::Failed {
            kind,
            name,
            message,
        }) => {
            assert_eq!((kind, name.as_str()), ("Once", "init"));
            assert!(message.contains("the schema is locked"), "{message}");
        }
        other => panic!("expected the recorded failure, got {other:?}"),
    }
}

#[test]
fn a_failed_run_is_retried_by_the_next_caller_when_asked() {
    let ns = Namespace::new("once-retry");
    let client = ns.admin();
    client
        .create_once("init", None, Some(OnFailure::Retry))
        .expect("create");
    let failed: Result<Option<u64>, WorkError> =
        client.do_once("init", &Options::new().holder("first"), |_| {
            Err(WorkError::Job("network down"))
        });
    assert!(failed.is_err());
    assert_eq!(
        status_of::<Once>(&client, "init").phase,
        Some(OncePhase::Failed)
    );
    let retried: Result<Option<u64>, Error> =
        client.do_once("init", &Options::new().holder("second"), |run| {
            Ok(run.token())
        });
    let token = retried.expect("retried").expect("the second caller ran it");
    assert_eq!(token, 2, "each run has the next fencing token");
    let status = status_of::<Once>(&client, "init");
    assert_eq!(
        (status.phase, status.ran_by.as_deref(), status.message),
        (Some(OncePhase::Done), Some("second"), None),
        "a done run clears the failure before it"
    );
}

#[test]
fn a_waiting_caller_times_out_while_the_executor_runs_and_can_be_cancelled() {
    let ns = Namespace::new("once-timeout");
    let client = ns.admin();
    client.create_once("init", None, None).expect("create");
    let (started, running) = mpsc::channel();
    let (finish, finished) = mpsc::channel::<()>();
    let executor = {
        let client = client.clone();
        thread::spawn(move || {
            client.do_once("init", &Options::new().holder("executor"), |_| {
                started.send(()).unwrap();
                finished.recv_timeout(Duration::from_secs(30)).ok();
                Ok::<_, Error>(())
            })
        })
    };
    running
        .recv_timeout(Duration::from_secs(20))
        .expect("the executor runs");
    assert_eq!(
        status_of::<Once>(&client, "init").phase,
        Some(OncePhase::Running)
    );
    let began = Instant::now();
    let late: Result<Option<()>, Error> = client.do_once(
        "init",
        &Options::new().timeout(Duration::from_millis(500)),
        |_| panic!("it is running elsewhere"),
    );
    assert!(matches!(late, Err(Error::Timeout { .. })), "{late:?}");
    assert!(began.elapsed() < Duration::from_secs(10));
    finish.send(()).unwrap();
    assert!(matches!(executor.join().unwrap(), Ok(Some(()))));
}

/// Starts an executor process that claims `name` and never finishes.
fn spawn_executor(ns: &Namespace, name: &str, ttl: Duration) -> Child {
    Command::new(env!("CARGO_BIN_EXE_once_executor"))
        .arg("--kubeconfig")
        .arg(&cluster().admin)
        .args(["--namespace", &ns.name, "--name", name])
        .args([
            "--holder",
            "doomed",
            "--ttl-ms",
            &ttl.as_millis().to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the executor")
}

#[test]
fn an_executor_killed_mid_run_is_replaced_by_the_next_caller_after_the_ttl() {
    let _serial = one_at_a_time();
    const TTL: Duration = Duration::from_secs(2);
    let ns = Namespace::new("once-crash");
    let client = ns.admin();
    client.create_once("init", Some(TTL), None).expect("create");
    let mut doomed = spawn_executor(&ns, "init", TTL);
    let mut line = String::new();
    BufReader::new(doomed.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let doomed_token: u64 = line
        .trim()
        .strip_prefix("running ")
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("expected `running TOKEN`, got {line:?}"));
    let survivor = {
        let client = client.clone();
        thread::spawn(move || {
            let options = Options::new()
                .holder("survivor")
                .timeout(Duration::from_secs(60));
            let outcome = client.do_once("init", &options, |run| Ok::<_, Error>(run.token()));
            (outcome, Instant::now())
        })
    };
    // Let the executor renew at least once more, so its record is fresh.
    thread::sleep(TTL / 2);
    doomed.kill().expect("SIGKILL the executor");
    let killed_at = Instant::now();
    doomed.wait().expect("reap");
    let (outcome, ran_at) = survivor.join().expect("survivor");
    let token = outcome
        .expect("the survivor's call")
        .expect("the survivor ran the work");
    let took = ran_at - killed_at;
    println!(
        "once: executor killed with SIGKILL (TTL {TTL:?}); the next caller ran it {:.0} ms later",
        ms(took)
    );
    assert!(token > doomed_token, "{token} after {doomed_token}");
    assert!(
        took <= TTL + Duration::from_secs(2),
        "expected the work to run again within TTL + 2 s of the kill, took {took:?}"
    );
    let status = status_of::<Once>(&client, "init");
    assert_eq!(
        (status.phase, status.ran_by.as_deref()),
        (Some(OncePhase::Done), Some("survivor"))
    );
}
