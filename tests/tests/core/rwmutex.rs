//! RWMutexes from the core client against the real control plane: readers
//! share and a writer excludes, a queued writer blocks later readers (strict
//! FIFO), readers and writers in several processes never overlap a writer,
//! a killed writer is reclaimed after its TTL, and the apiserver refuses a
//! writer together with anyone.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use konductor::resource::{RWMutexPhase, RWMutexStatus};
use konductor::{Client, Error, Options};
use konductor_tests::cluster::{cluster, kubectl_as};
use konductor_tests::holds::{parse_log, Hold};
use konductor_tests::namespace::Namespace;
use konductor_tests::serial::one_at_a_time;

fn status(client: &Client, name: &str) -> RWMutexStatus {
    client
        .get_rwmutex(name)
        .expect("get rwmutex")
        .status
        .unwrap_or_default()
}

fn busy_holder(result: konductor::Result<konductor::RWMutexLock>) -> String {
    match result {
        Err(Error::Locked { kind, holder, .. }) => {
            assert_eq!(kind, "rwmutex");
            holder
        }
        Err(other) => panic!("expected Locked, got {other}"),
        Ok(lock) => panic!("expected Locked, got a lock with token {}", lock.token()),
    }
}

/// Waits until `name` has `count` waiters queued.
fn until_queued(client: &Client, name: &str, count: usize) {
    let started = Instant::now();
    while client
        .api::<konductor::resource::RWMutex>()
        .waiters(name)
        .expect("waiters")
        .len()
        != count
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "expected {count} waiters on {name} within 20s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn readers_share_an_rwmutex_and_a_writer_excludes_everyone() {
    let ns = Namespace::new("rwm-share");
    let client = ns.admin();
    let created = client
        .create_rwmutex("m", Some(Duration::from_secs(20)), None, Some(5))
        .expect("create");
    assert_eq!(created.spec.max_readers, Some(5));
    assert!(matches!(
        client.create_rwmutex("bad", None, None, Some(0)),
        Err(Error::Invalid { .. })
    ));
    let r1 = client
        .try_read_lock_rwmutex("m", &Options::new().holder("r1"))
        .expect("first reader");
    let r2 = client
        .try_read_lock_rwmutex("m", &Options::new().holder("r2"))
        .expect("second reader shares the lock");
    let s = status(&client, "m");
    assert_eq!(
        (s.phase, s.readers, s.writer.as_deref()),
        (Some(RWMutexPhase::ReadLocked), 2, None)
    );
    assert_eq!(
        busy_holder(client.try_write_lock_rwmutex("m", &Options::new().holder("w"))),
        "r1, r2",
        "a writer never joins readers"
    );
    r1.release().expect("release r1");
    r2.release().expect("release r2");

    let token = client
        .with_write("m", &Options::new().holder("w"), |lock| {
            let s = status(&client, "m");
            assert_eq!(
                (s.phase, s.readers, s.writer.as_deref()),
                (Some(RWMutexPhase::WriteLocked), 0, Some("w"))
            );
            assert_eq!(
                busy_holder(client.try_read_lock_rwmutex("m", &Options::new().holder("r3"))),
                "w",
                "no reader while a writer holds"
            );
            Ok::<u64, Error>(lock.token())
        })
        .expect("with_write");
    assert!(token > r2.token(), "tokens strictly increase: {token}");
    let read_token = client
        .with_read("m", &Options::new(), |lock| Ok::<u64, Error>(lock.token()))
        .expect("with_read");
    assert!(read_token > token);
    assert_eq!(status(&client, "m").phase, Some(RWMutexPhase::Unlocked));
}

#[test]
fn a_queued_writer_blocks_later_readers_and_is_granted_before_them() {
    let ns = Namespace::new("rwm-fifo");
    let client = ns.admin();
    client
        .create_rwmutex("m", None, None, None)
        .expect("create");
    let r1 = client
        .read_lock_rwmutex("m", &Options::new().holder("r1"))
        .expect("first reader");
    let order = Arc::new(Mutex::new(Vec::<(String, u64)>::new()));

    let writer = {
        let (client, order) = (client.clone(), order.clone());
        std::thread::spawn(move || {
            let lock = client
                .write_lock_rwmutex("m", &Options::new().holder("w"))
                .expect("writer");
            order.lock().unwrap().push(("w".into(), lock.token()));
            std::thread::sleep(Duration::from_millis(300));
            lock.release().expect("release w");
        })
    };
    until_queued(&client, "m", 1);
    // A newcomer decides from its process's view of the queue, which learns
    // of a new waiter one watch delivery after its creation.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        busy_holder(client.try_read_lock_rwmutex("m", &Options::new().holder("r2"))),
        "r1",
        "a new reader must not overtake the queued writer, though only readers hold"
    );
    let reader = {
        let (client, order) = (client.clone(), order.clone());
        std::thread::spawn(move || {
            let lock = client
                .read_lock_rwmutex("m", &Options::new().holder("r2"))
                .expect("later reader");
            order.lock().unwrap().push(("r2".into(), lock.token()));
            lock.release().expect("release r2");
        })
    };
    until_queued(&client, "m", 2);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        order.lock().unwrap().is_empty(),
        "nobody is granted while r1 holds and the writer waits: {:?}",
        order.lock().unwrap()
    );
    r1.release().expect("release r1");
    writer.join().expect("writer thread");
    reader.join().expect("reader thread");
    let order = order.lock().unwrap().clone();
    let names: Vec<&str> = order.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["w", "r2"], "expected the writer first: {order:?}");
    assert!(order[0].1 < order[1].1, "tokens in grant order: {order:?}");
}

const PROCESSES: u32 = 3;
const THREADS: u32 = 6;
const WRITERS: u32 = 2;
const CYCLES: u32 = 15;

fn spawn_contender(ns: &Namespace, process: u32, args: &[(&str, String)], log: &Path) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rw_contender"));
    command
        .arg("--kubeconfig")
        .arg(&cluster().admin)
        .args(["--namespace", &ns.name, "--name", "hot"])
        .args(["--process", &process.to_string()])
        .arg("--log")
        .arg(log);
    for (flag, value) in args {
        command.arg(format!("--{flag}")).arg(value);
    }
    command
        .stderr(File::create(log.with_extension(format!("p{process}.err"))).expect("stderr file"))
        .spawn()
        .expect("spawn rw_contender")
}

#[test]
fn readers_and_writers_in_several_processes_never_overlap_a_writer() {
    let _serial = one_at_a_time();
    let ns = Namespace::new("rwm-hot");
    let client = ns.admin();
    client
        .create_rwmutex("hot", None, None, None)
        .expect("create");
    let log = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rwmutex-contention-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let args = [
        ("threads", THREADS.to_string()),
        ("writers", WRITERS.to_string()),
        ("cycles", CYCLES.to_string()),
        ("hold-us", "5000".to_string()),
        ("ttl-ms", "30000".to_string()),
    ];
    let started = Instant::now();
    let mut children: Vec<Child> = (0..PROCESSES)
        .map(|p| spawn_contender(&ns, p, &args, &log))
        .collect();
    for (p, child) in children.iter_mut().enumerate() {
        let status = child.wait().expect("contender status");
        let err =
            std::fs::read_to_string(log.with_extension(format!("p{p}.err"))).unwrap_or_default();
        assert!(status.success(), "contender {p} failed ({status}): {err}");
    }
    let wall = started.elapsed();
    let holds: Vec<Hold> =
        parse_log(&std::fs::read_to_string(&log).expect("log")).expect("well-formed log");
    assert_eq!(holds.len(), (PROCESSES * THREADS * CYCLES) as usize);
    let writes: Vec<&Hold> = holds.iter().filter(|h| h.thread < WRITERS).collect();
    let overlaps = |a: &Hold, b: &Hold| a.acquired < b.releasing && b.acquired < a.releasing;
    let mut violations = Vec::new();
    for w in &writes {
        for other in &holds {
            if (other.process, other.thread, other.token) != (w.process, w.thread, w.token)
                && overlaps(w, other)
            {
                violations.push((**w, *other));
            }
        }
    }
    // Readers did share: the most reads held at one moment.
    let mut edges: Vec<(u64, i64)> = holds
        .iter()
        .filter(|h| h.thread >= WRITERS)
        .flat_map(|h| [(h.acquired, 1), (h.releasing, -1)])
        .collect();
    edges.sort();
    let (mut now, mut most) = (0i64, 0i64);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    let mut tokens: Vec<u64> = holds.iter().map(|h| h.token).collect();
    tokens.sort_unstable();
    tokens.dedup();
    eprintln!(
        "rwmutex contention: {} holds ({} writes) in {wall:?}, most concurrent readers {most}, writer overlaps {}",
        holds.len(),
        writes.len(),
        violations.len()
    );
    assert!(
        violations.is_empty(),
        "a writer overlapped another holder: {:?}",
        &violations[..violations.len().min(5)]
    );
    assert_eq!(tokens.len(), holds.len(), "every grant has its own token");
    assert!(most > 1, "expected readers to share the lock at least once");
    let s = status(&client, "hot");
    assert_eq!((s.readers, s.writer), (0, None));
}

#[test]
fn a_killed_writer_is_reclaimed_within_its_ttl_and_a_margin() {
    let ns = Namespace::new("rwm-kill");
    let client = ns.admin();
    client
        .create_rwmutex("hot", None, None, None)
        .expect("create");
    let ttl = Duration::from_secs(3);
    let log = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rwmutex-kill-{}.log", std::process::id()));
    let args = [
        ("threads", "1".to_string()),
        ("writers", "1".to_string()),
        ("cycles", "1".to_string()),
        ("hold-us", "600000000".to_string()),
        ("ttl-ms", ttl.as_millis().to_string()),
    ];
    let mut child = spawn_contender(&ns, 0, &args, &log);
    let started = Instant::now();
    while status(&client, "hot").writer.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "expected the child to hold the write lock within 20s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("SIGKILL the writer");
    let _ = child.wait();
    let killed = Instant::now();
    let margin = Duration::from_secs(5);
    let lock = client
        .read_lock_rwmutex("hot", &Options::new().holder("next").timeout(ttl + margin))
        .expect("a reader gets the lock once the killed writer's TTL has passed");
    let waited = killed.elapsed();
    assert!(
        waited <= ttl + margin,
        "expected a reclaim within {:?}, took {waited:?}",
        ttl + margin
    );
    assert_eq!(status(&client, "hot").writer, None);
    lock.release().expect("release");
}

#[test]
fn the_apiserver_refuses_a_writer_with_a_reader_or_two_writers() {
    let ns = Namespace::new("rwm-cel");
    let client = ns.admin();
    client
        .create_rwmutex("m", None, None, None)
        .expect("create");
    let holder = |name: &str, token: u64, mode: &str| {
        format!(r#"{{"holder":"{name}","token":{token},"ttl":"30s","mode":"{mode}"}}"#)
    };
    let patch = |holders: &[String]| {
        let (ok, _, stderr) = kubectl_as(
            &cluster().admin,
            &[
                "-n",
                &ns.name,
                "patch",
                "rwmutex",
                "m",
                "--subresource=status",
                "--type=merge",
                "-p",
                &format!(
                    r#"{{"status":{{"fencingToken":2,"holders":[{}]}}}}"#,
                    holders.join(",")
                ),
            ],
        );
        (ok, stderr)
    };
    let rule = "an rwmutex is held by one writer alone or by readers only";
    for holders in [
        [holder("w", 1, "Write"), holder("r", 2, "Read")],
        [holder("r", 1, "Read"), holder("w", 2, "Write")],
        [holder("w1", 1, "Write"), holder("w2", 2, "Write")],
    ] {
        let (ok, stderr) = patch(&holders);
        assert!(
            !ok && stderr.contains(rule),
            "expected {holders:?} refused by {rule:?}, got: {stderr}"
        );
    }
    let (ok, stderr) = patch(&[holder("r1", 1, "Read"), holder("r2", 2, "Read")]);
    assert!(ok, "two readers are fine: {stderr}");
}
