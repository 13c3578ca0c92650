//! The operator reclaims permits, leases, mutexes, rwmutex locks and once executors whose holders stopped renewing,
//! promptly and never before their TTL, and keeps the fields that
//! `kubectl get semaphores` shows true while clients churn.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use konductor::resource::{
    Lease, LeasePhase, Mutex, Once, OncePhase, RWMutex, RWMutexPhase, Resource, Semaphore,
    SemaphorePhase,
};
use konductor::Options;
use konductor_tests::cluster::{cluster, kubectl};
use konductor_tests::kind::Kind;
use konductor_tests::operator::operated;
use konductor_tests::status::status_of;
use konductor_tests::wait::{eventually, ms};

const TTL: Duration = Duration::from_secs(2);

#[test]
fn a_holder_that_stops_renewing_is_reclaimed_within_its_ttl_plus_one_second() {
    let (_serial, ns, _operator) = operated("op-reclaim");
    let client = ns.admin();
    client.create_semaphore("jobs", 1, None).expect("create");

    let started = Instant::now();
    let permit = client
        .acquire_semaphore("jobs", &Options::new().holder("crashed").ttl(TTL))
        .expect("acquire");
    let acquired = started.elapsed();
    // The holder "crashes": no renewal, no release.
    std::mem::forget(permit);

    let waited = eventually(
        TTL + Duration::from_secs(5),
        "the stale holder to be reclaimed",
        || Kind::Semaphore.holders(&client, "jobs").is_empty(),
    );
    let reclaimed_after = acquired + waited;
    println!(
        "holder with TTL {}ms reclaimed {:.0}ms after the grant (acquire took {:.0}ms)",
        TTL.as_millis(),
        ms(reclaimed_after),
        ms(acquired)
    );
    assert!(
        waited >= TTL - Duration::from_millis(50),
        "reclaimed {:.0}ms after the grant returned, before its TTL of {TTL:?}",
        ms(waited)
    );
    assert!(
        reclaimed_after <= TTL + Duration::from_secs(1),
        "expected the reclaim within TTL + 1s ({:?}), it took {:.0}ms",
        TTL + Duration::from_secs(1),
        ms(reclaimed_after)
    );
    let status = status_of::<Semaphore>(&client, "jobs");
    assert_eq!(
        (status.in_use, status.available, status.phase),
        (0, 1, Some(SemaphorePhase::Ready))
    );

    // The slot is really free again, and the reclaim was reported.
    let next = client
        .acquire_semaphore(
            "jobs",
            &Options::new().holder("next").timeout(Duration::ZERO),
        )
        .expect("the reclaimed permit can be taken at once");
    assert!(
        next.token() > 1,
        "a new grant carries a larger fencing token"
    );
    next.release().expect("release");
    let events = ns.event_reasons();
    assert!(
        events.contains("Reclaimed"),
        "expected a Reclaimed event, got {events:?}"
    );
}

#[test]
fn a_reclaimed_permit_goes_to_the_head_waiter() {
    let (_serial, ns, _operator) = operated("op-handoff");
    let client = ns.admin();
    client.create_semaphore("jobs", 1, None).expect("create");
    let permit = client
        .acquire_semaphore("jobs", &Options::new().holder("crashed").ttl(TTL))
        .expect("acquire");
    std::mem::forget(permit);
    let started = Instant::now();
    let waiter = client
        .acquire_semaphore(
            "jobs",
            &Options::new()
                .holder("waiter")
                .ttl(Duration::from_secs(10))
                .timeout(Duration::from_secs(10)),
        )
        .expect("the waiter gets the reclaimed permit");
    let waited = started.elapsed();
    println!("waiter granted after {:.0}ms", ms(waited));
    assert!(
        waited <= TTL + Duration::from_secs(1),
        "waited {:.0}ms",
        ms(waited)
    );
    assert_eq!(Kind::Semaphore.holders(&client, "jobs"), ["waiter"]);
    waiter.release().expect("release");
}

#[test]
fn an_rwmutex_writer_that_stopped_renewing_is_reclaimed_within_its_ttl_plus_one_second() {
    let (_serial, ns, _operator) = operated("op-rwmutex");
    let client = ns.admin();
    client
        .create_rwmutex("cache", None, None, None)
        .expect("create");
    let started = Instant::now();
    let lock = client
        .write_lock_rwmutex("cache", &Options::new().holder("crashed").ttl(TTL))
        .expect("write lock");
    let acquired = started.elapsed();
    // The writer "crashes": no renewal, no release.
    std::mem::forget(lock);
    let waited = eventually(
        TTL + Duration::from_secs(5),
        "the stale writer to be reclaimed",
        || status_of::<RWMutex>(&client, "cache").holders.is_empty(),
    );
    assert!(
        acquired + waited <= TTL + Duration::from_secs(1),
        "expected the reclaim within TTL + 1s, it took {:.0}ms",
        ms(acquired + waited)
    );
    let status = status_of::<RWMutex>(&client, "cache");
    assert_eq!(
        (status.phase, status.readers, status.writer),
        (Some(RWMutexPhase::Unlocked), 0, None)
    );
    let events = ns.event_reasons();
    assert!(
        events.contains("Reclaimed"),
        "expected a Reclaimed event, got {events:?}"
    );
}

#[test]
fn a_lease_whose_holder_stopped_renewing_is_reclaimed_and_shows_expired() {
    a_single_holder_that_stopped_renewing_is_reclaimed(Kind::Lease, "op-lease");
}

#[test]
fn a_mutex_whose_holder_stopped_renewing_is_reclaimed_and_shows_expired() {
    a_single_holder_that_stopped_renewing_is_reclaimed(Kind::Mutex, "op-mutex");
}

/// A lease or mutex whose holder vanished is freed within its TTL plus a
/// second, shows `Expired`, is counted, and goes to the next caller with a
/// larger fencing token.
fn a_single_holder_that_stopped_renewing_is_reclaimed(kind: Kind, prefix: &str) {
    let (_serial, ns, operator) = operated(prefix);
    let client = ns.admin();
    let status = || match kind {
        Kind::Mutex => status_of::<Mutex>(&client, "one"),
        _ => status_of::<Lease>(&client, "one"),
    };
    match kind {
        Kind::Mutex => client.create_mutex("one", Some(TTL), None).map(drop),
        _ => client.create_lease("one", Some(TTL), None).map(drop),
    }
    .expect("create");
    let started = Instant::now();
    let held = kind
        .acquire(&client, "one", &Options::new().holder("old-holder"))
        .expect("acquire");
    std::mem::forget(held);
    eventually(TTL + Duration::from_secs(5), "the holder to expire", || {
        kind.holders(&client, "one").is_empty()
    });
    let took = started.elapsed();
    println!(
        "{} with TTL {}ms reclaimed after {:.0}ms",
        kind.as_str(),
        TTL.as_millis(),
        ms(took)
    );
    assert!(
        took <= TTL + Duration::from_secs(1),
        "took {:.0}ms",
        ms(took)
    );
    assert_eq!(status().phase, Some(LeasePhase::Expired));
    // The operator counts the reclaim once its write has returned, which can
    // be just after the client already sees the result.
    let label = match kind {
        Kind::Mutex => Mutex::KIND,
        _ => Lease::KIND,
    };
    let metric = format!("konductor_reclaimed_total{{kind=\"{label}\",record=\"holder\"}}");
    eventually(Duration::from_secs(2), "the reclaim to be counted", || {
        operator.metric(&metric) == Some(1.0)
    });
    let next = kind
        .acquire(
            &client,
            "one",
            &Options::new().holder("new-holder").timeout(Duration::ZERO),
        )
        .expect("the expired one is free");
    assert!(next.token() > 1);
    next.release().expect("release");
}

#[test]
fn semaphore_fields_stay_true_under_churn() {
    let (_serial, ns, operator) = operated("op-churn");
    let client = ns.admin();
    const PERMITS: u32 = 2;
    client
        .create_semaphore("pool", PERMITS, None)
        .expect("create");
    // One holder that dies mid-run, so reclaim happens during the churn.
    let crashed = client
        .acquire_semaphore(
            "pool",
            &Options::new().holder("crashed").ttl(Duration::from_secs(1)),
        )
        .expect("acquire");
    std::mem::forget(crashed);

    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let client = ns.admin();
            let stop = stop.clone();
            thread::spawn(move || {
                let mut cycles = 0;
                while !stop.load(Ordering::Relaxed) {
                    let options = Options::new()
                        .holder(format!("worker-{i}"))
                        .ttl(Duration::from_secs(5))
                        .timeout(Duration::from_secs(20));
                    let permit = client.acquire_semaphore("pool", &options).expect("acquire");
                    thread::sleep(Duration::from_millis(20));
                    permit.release().expect("release");
                    cycles += 1;
                }
                cycles
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(4);
    let mut samples = 0;
    while Instant::now() < deadline {
        let sem = client.get_semaphore("pool").expect("get");
        let status = sem.status.unwrap_or_default();
        let in_use = status.holders.len() as u32;
        assert!(
            in_use <= PERMITS,
            "{in_use} holders on {PERMITS} permits: {:?}",
            status.holders
        );
        assert_eq!(status.in_use, in_use, "inUse must count the holders");
        assert_eq!(
            status.available,
            PERMITS - in_use,
            "available must be permits - inUse"
        );
        let expected_phase = if in_use < PERMITS {
            SemaphorePhase::Ready
        } else {
            SemaphorePhase::Full
        };
        assert_eq!(
            status.phase,
            Some(expected_phase),
            "phase for {in_use}/{PERMITS}"
        );
        samples += 1;
        thread::sleep(Duration::from_millis(25));
    }
    stop.store(true, Ordering::Relaxed);
    let cycles: u32 = workers.into_iter().map(|w| w.join().expect("worker")).sum();
    let writes = |outcome: &str| {
        operator
            .metric(&format!(
                "konductor_status_writes_total{{kind=\"Semaphore\",outcome=\"{outcome}\"}}"
            ))
            .unwrap_or(0.0)
    };
    println!(
        "{cycles} acquire/release cycles, {samples} consistent samples; operator status writes: {} applied, {} conflicts",
        writes("applied"),
        writes("conflict")
    );
    assert!(cycles > 10, "the workers made progress ({cycles} cycles)");

    let status = status_of::<Semaphore>(&client, "pool");
    assert!(
        status.holders.is_empty(),
        "the crashed holder was reclaimed: {:?}",
        status.holders
    );
    assert_eq!(
        (status.in_use, status.available, status.phase),
        (0, PERMITS, Some(SemaphorePhase::Ready))
    );
    let columns = kubectl(&["-n", &ns.name, "get", "semaphores", "pool", "--no-headers"]);
    let fields: Vec<&str> = columns.split_whitespace().collect();
    assert_eq!(
        &fields[..5],
        ["pool", "2", "0", "2", "Ready"],
        "kubectl get shows {columns:?}"
    );
}

#[test]
fn a_once_whose_executor_died_is_pending_again_after_its_ttl_and_its_outcome_is_announced() {
    let (_serial, ns, operator) = operated("op-once");
    let client = ns.admin();
    client.create_once("init", Some(TTL), None).expect("create");
    let mut executor = Command::new(env!("CARGO_BIN_EXE_once_executor"))
        .arg("--kubeconfig")
        .arg(&cluster().admin)
        .args(["--namespace", &ns.name, "--name", "init"])
        .args([
            "--holder",
            "doomed",
            "--ttl-ms",
            &TTL.as_millis().to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the executor");
    let mut line = String::new();
    BufReader::new(executor.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    assert!(line.starts_with("running "), "{line:?}");
    assert_eq!(
        status_of::<Once>(&client, "init").phase,
        Some(OncePhase::Running)
    );
    executor.kill().expect("SIGKILL the executor");
    let killed_at = Instant::now();
    executor.wait().expect("reap");
    // Nobody else calls: the operator alone returns it to Pending.
    eventually(
        TTL + Duration::from_secs(5),
        "the once to be pending",
        || status_of::<Once>(&client, "init").phase == Some(OncePhase::Pending),
    );
    let took = killed_at.elapsed();
    println!(
        "once executor killed (TTL {TTL:?}); Pending again after {:.0}ms",
        ms(took)
    );
    assert!(
        took <= TTL + Duration::from_secs(1),
        "took {:.0}ms",
        ms(took)
    );
    eventually(Duration::from_secs(2), "the reclaim to be counted", || {
        operator.metric("konductor_reclaimed_total{kind=\"Once\",record=\"holder\"}") == Some(1.0)
    });
    let ran: Result<Option<u64>, konductor::Error> = client.do_once(
        "init",
        &Options::new().holder("next"),
        |run| Ok(run.token()),
    );
    assert_eq!(ran.expect("the next caller runs it"), Some(2));
    eventually(
        Duration::from_secs(5),
        "the Reclaimed and Done Events",
        || {
            let events = ns.event_reasons();
            events.contains("Reclaimed") && events.contains("PhaseChanged")
        },
    );
}
