//! The `konductor` binary against a real API server: exit codes, output
//! formats, signals, and grants that span several invocations.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use konductor::Options;
use konductor_tests::cluster::{cluster, kubectl};
use konductor_tests::kind::Kind;
use konductor_tests::namespace::Namespace;
use konductor_tests::wait::eventually;
use rustix::process::{kill_process, Pid, Signal};

/// No single invocation in these tests may take longer.
const LIMIT: Duration = Duration::from_secs(60);

/// `konductor --kubeconfig <admin> -n <ns> ARGS…`, not yet started.
fn konductor(ns: &Namespace, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_konductor"));
    command
        .arg("--kubeconfig")
        .arg(&cluster().admin)
        .args(["-n", &ns.name])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Waits for `child` at most [`LIMIT`], killing it and failing the test after that.
fn finish(mut child: Child, what: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().expect("wait for konductor").is_none() {
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("{what} did not exit within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output of konductor")
}

/// Runs `konductor ARGS…` in `ns` to the end (bounded).
fn run(ns: &Namespace, args: &[&str]) -> Output {
    let child = konductor(ns, args).spawn().expect("start konductor");
    finish(child, &format!("konductor {}", args.join(" ")))
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `konductor ARGS…` and checks its exit code, showing its stderr otherwise.
fn expect(ns: &Namespace, args: &[&str], want: i32) -> Output {
    let output = run(ns, args);
    assert_eq!(
        code(&output),
        want,
        "konductor {}: expected exit {want}, got {}; stderr: {}",
        args.join(" "),
        code(&output),
        stderr(&output)
    );
    output
}

fn in_use(ns: &Namespace, name: &str) -> u32 {
    let semaphore = ns.admin().get_semaphore(name).expect("semaphore");
    semaphore.status.map_or(0, |s| s.in_use)
}

/// A scratch directory for files the commands write.
fn scratch(ns: &Namespace) -> PathBuf {
    let dir = std::env::temp_dir().join(&ns.name);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn signal(child: &Child, signal: Signal) {
    let pid = Pid::from_child(child);
    kill_process(pid, signal).expect("signal konductor");
}

#[test]
fn run_passes_the_exit_status_through_and_releases_the_permit() {
    let ns = Namespace::new("cli-run");
    expect(&ns, &["semaphore", "create", "work", "--permits", "1"], 0);
    let script = r#"test -n "$KONDUCTOR_TOKEN" && test -n "$KONDUCTOR_HOLDER" || exit 99; exit 7"#;
    expect(
        &ns,
        &["semaphore", "run", "work", "--", "sh", "-c", script],
        7,
    );
    assert_eq!(in_use(&ns, "work"), 0, "the permit was released");
    expect(&ns, &["semaphore", "run", "work", "--", "true"], 0);
    let killed = expect(
        &ns,
        &[
            "semaphore",
            "run",
            "work",
            "--",
            "sh",
            "-c",
            "kill -KILL $$",
        ],
        137,
    );
    assert!(stderr(&killed).is_empty(), "{}", stderr(&killed));
    expect(
        &ns,
        &["semaphore", "run", "work", "--", "/no/such/command"],
        127,
    );
    assert_eq!(
        in_use(&ns, "work"),
        0,
        "a command that could not start holds nothing"
    );
}

#[test]
fn sigterm_to_run_reaches_the_command_and_releases_the_permit() {
    let ns = Namespace::new("cli-term");
    expect(
        &ns,
        &[
            "semaphore",
            "create",
            "work",
            "--permits",
            "1",
            "--ttl",
            "60s",
        ],
        0,
    );
    let dir = scratch(&ns);
    let started = dir.join("started");
    let got = dir.join("got-term");
    let script = format!(
        "trap 'echo term > {}; exit 143' TERM; echo > {}; while :; do sleep 0.1; done",
        got.display(),
        started.display()
    );
    let child = konductor(
        &ns,
        &["semaphore", "run", "work", "--", "sh", "-c", &script],
    )
    .spawn()
    .expect("start konductor");
    eventually(LIMIT, "the command to start", || started.exists());
    assert_eq!(in_use(&ns, "work"), 1);
    let sent = Instant::now();
    signal(&child, Signal::TERM);
    let output = finish(child, "konductor semaphore run after SIGTERM");
    assert_eq!(code(&output), 143, "stderr: {}", stderr(&output));
    assert!(got.exists(), "the command received SIGTERM");
    assert_eq!(in_use(&ns, "work"), 0, "the permit was released");
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "released long before the 60 s TTL: {:?}",
        sent.elapsed()
    );
}

#[test]
fn sigint_while_waiting_leaves_the_queue_and_exits_130() {
    let ns = Namespace::new("cli-int");
    expect(&ns, &["semaphore", "create", "full", "--permits", "1"], 0);
    expect(
        &ns,
        &["semaphore", "acquire", "full", "--holder", "owner"],
        0,
    );
    let child = konductor(&ns, &["semaphore", "run", "full", "--", "true"])
        .spawn()
        .expect("start konductor");
    let api = ns.admin().api::<konductor::resource::Semaphore>();
    eventually(LIMIT, "the run to queue", || {
        api.waiters("full").is_ok_and(|w| w.len() == 1)
    });
    signal(&child, Signal::INT);
    let output = finish(child, "konductor semaphore run after SIGINT");
    assert_eq!(code(&output), 130, "stderr: {}", stderr(&output));
    eventually(LIMIT, "its waiter object to go", || {
        api.waiters("full").is_ok_and(|w| w.is_empty())
    });
}

#[test]
fn a_killed_run_is_reclaimed_within_its_ttl_and_a_margin() {
    let ns = Namespace::new("cli-kill");
    let ttl = Duration::from_secs(2);
    expect(&ns, &["semaphore", "create", "work", "--permits", "1"], 0);
    let dir = scratch(&ns);
    let started = dir.join("started");
    let script = format!("echo > {}; sleep 5", started.display());
    let child = konductor(
        &ns,
        &[
            "semaphore",
            "run",
            "work",
            "--ttl",
            "2s",
            "--",
            "sh",
            "-c",
            &script,
        ],
    )
    .spawn()
    .expect("start konductor");
    eventually(LIMIT, "the command to start", || started.exists());
    signal(&child, Signal::KILL);
    let _ = finish(child, "konductor after SIGKILL");
    let waited = Instant::now();
    let options = Options::new().timeout(Duration::from_secs(30));
    let permit = ns
        .admin()
        .acquire_semaphore("work", &options)
        .expect("the dead holder's permit is reclaimed");
    let took = waited.elapsed();
    permit.release().expect("release");
    assert!(
        took < ttl + Duration::from_secs(3),
        "reclaimed after {took:?}, expected within the TTL ({ttl:?}) and a margin"
    );
}

#[test]
fn lease_run_is_a_singleton() {
    let ns = Namespace::new("cli-lease");
    expect(&ns, &["lease", "create", "nightly"], 0);
    let dir = scratch(&ns);
    let ran = dir.join("ran");
    let touch = format!("touch {}", ran.display());
    expect(&ns, &["lease", "try", "nightly", "--holder", "other"], 0);
    let skipped = expect(
        &ns,
        &["lease", "run", "nightly", "--", "sh", "-c", &touch],
        0,
    );
    assert!(
        !ran.exists(),
        "the command did not run while another held the lease"
    );
    assert!(
        stderr(&skipped).contains("\"other\""),
        "{}",
        stderr(&skipped)
    );
    let args = [
        "lease",
        "run",
        "nightly",
        "--held-exit-code",
        "3",
        "--",
        "sh",
        "-c",
        &touch,
    ];
    expect(&ns, &args, 3);
    expect(&ns, &["lease", "try", "nightly", "--holder", "third"], 67);
    expect(
        &ns,
        &["lease", "release", "nightly", "--holder", "other"],
        0,
    );
    expect(
        &ns,
        &["lease", "run", "nightly", "--", "sh", "-c", &touch],
        0,
    );
    assert!(ran.exists(), "the command ran once the lease was free");
    let lease = ns.admin().get_lease("nightly").expect("lease");
    assert_eq!(
        lease.status.and_then(|s| s.holder),
        None,
        "released after the run"
    );
}

#[test]
fn mutex_run_waits_for_the_lock_and_try_lock_names_the_holder() {
    let ns = Namespace::new("cli-mutex");
    expect(&ns, &["mutex", "create", "config", "--ttl", "30s"], 0);
    expect(&ns, &["mutex", "lock", "config", "--holder", "first"], 0);
    let busy = expect(
        &ns,
        &["mutex", "try-lock", "config", "--holder", "second"],
        67,
    );
    assert!(stderr(&busy).contains("\"first\""), "{}", stderr(&busy));
    expect(
        &ns,
        &["mutex", "run", "config", "--timeout", "300ms", "--", "true"],
        69,
    );
    let dir = scratch(&ns);
    let ran = dir.join("ran");
    let waiting = konductor(
        &ns,
        &[
            "mutex",
            "run",
            "config",
            "--timeout",
            "60s",
            "--",
            "touch",
            ran.to_str().expect("path"),
        ],
    )
    .spawn()
    .expect("spawn mutex run");
    eventually(Duration::from_secs(20), "the run to queue", || {
        Kind::Mutex.waiters(&ns.admin(), "config").len() == 1
    });
    assert!(!ran.exists(), "the command waits for the lock");
    expect(&ns, &["mutex", "unlock", "config", "--holder", "first"], 0);
    let output = finish(waiting, "mutex run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(ran.exists(), "the command ran once the lock was free");
    assert!(Kind::Mutex.holders(&ns.admin(), "config").is_empty());
    let listed = expect(&ns, &["mutex", "list"], 0);
    assert!(stdout(&listed).starts_with("NAME"), "{}", stdout(&listed));
    assert!(stdout(&listed).contains("config"), "{}", stdout(&listed));
}

#[test]
fn once_run_runs_the_command_in_one_caller_and_records_a_failure() {
    let ns = Namespace::new("cli-once");
    expect(&ns, &["once", "create", "migrate", "--ttl", "30s"], 0);
    let dir = scratch(&ns);
    let log = dir.join("runs");
    let append = format!("echo ran >> {}; sleep 1", log.display());
    let callers: Vec<Child> = (0..3)
        .map(|_| {
            konductor(&ns, &["once", "run", "migrate", "--", "sh", "-c", &append])
                .spawn()
                .expect("spawn once run")
        })
        .collect();
    for caller in callers {
        let output = finish(caller, "once run");
        assert_eq!(code(&output), 0, "{}", stderr(&output));
    }
    let runs = std::fs::read_to_string(&log).expect("the command ran");
    assert_eq!(runs.lines().count(), 1, "ran exactly once: {runs:?}");
    let again = expect(&ns, &["once", "run", "migrate", "--", "false"], 0);
    assert!(
        stderr(&again).contains("done already"),
        "{}",
        stderr(&again)
    );
    let listed = stdout(&expect(&ns, &["once", "list"], 0));
    assert!(listed.contains("Done"), "{listed}");

    expect(&ns, &["once", "create", "fragile"], 0);
    expect(
        &ns,
        &["once", "run", "fragile", "--", "sh", "-c", "exit 3"],
        3,
    );
    let failed = expect(&ns, &["once", "run", "fragile", "--", "true"], 71);
    assert!(
        stderr(&failed).contains("exited with status 3"),
        "{}",
        stderr(&failed)
    );
    // A run stopped from outside (a rolling update's SIGTERM) is no
    // failure: the next caller runs the command.
    expect(&ns, &["once", "create", "interrupted"], 0);
    let stopped = konductor(&ns, &["once", "run", "interrupted", "--", "sleep", "30"])
        .spawn()
        .expect("spawn once run");
    eventually(Duration::from_secs(20), "the run to start", || {
        ns.admin()
            .get_once("interrupted")
            .ok()
            .and_then(|o| o.status?.executor?.holder)
            .is_some()
    });
    signal(&stopped, Signal::TERM);
    let output = finish(stopped, "interrupted once run");
    assert_eq!(code(&output), 128 + 15, "{}", stderr(&output));
    expect(&ns, &["once", "run", "interrupted", "--", "true"], 0);
    expect(&ns, &["once", "create", "retried", "--retry-failed"], 0);
    expect(&ns, &["once", "run", "retried", "--", "false"], 1);
    expect(&ns, &["once", "run", "retried", "--", "true"], 0);
    expect(
        &ns,
        &["once", "run", "retried", "--priority", "3", "--", "true"],
        64,
    );
}

#[test]
fn rwmutex_readers_share_and_a_writer_waits_for_them() {
    let ns = Namespace::new("cli-rwmutex");
    expect(&ns, &["rwmutex", "create", "cache", "--ttl", "30s"], 0);
    expect(
        &ns,
        &["rwmutex", "lock", "cache", "--read", "--holder", "a"],
        0,
    );
    expect(
        &ns,
        &["rwmutex", "try-lock", "cache", "--read", "--holder", "b"],
        0,
    );
    let busy = expect(
        &ns,
        &["rwmutex", "try-lock", "cache", "--write", "--holder", "w"],
        67,
    );
    assert!(stderr(&busy).contains("rwmutex"), "{}", stderr(&busy));
    expect(
        &ns,
        &[
            "rwmutex",
            "run",
            "cache",
            "--write",
            "--timeout",
            "300ms",
            "--",
            "true",
        ],
        69,
    );
    expect(&ns, &["rwmutex", "run", "cache", "--", "true"], 64);
    expect(
        &ns,
        &[
            "rwmutex", "lock", "cache", "--read", "--write", "--holder", "x",
        ],
        64,
    );
    expect(&ns, &["rwmutex", "unlock", "cache", "--holder", "a"], 0);
    expect(&ns, &["rwmutex", "unlock", "cache", "--holder", "b"], 0);
    expect(
        &ns,
        &["rwmutex", "run", "cache", "--write", "--", "true"],
        0,
    );
    let listed = stdout(&expect(&ns, &["rwmutex", "list"], 0));
    assert!(
        listed.starts_with("NAME") && listed.contains("cache"),
        "{listed}"
    );
}

#[test]
fn stepwise_acquire_renew_and_release_span_invocations() {
    let ns = Namespace::new("cli-steps");
    expect(&ns, &["semaphore", "create", "quota", "--permits", "1"], 0);
    let acquired = expect(
        &ns,
        &[
            "semaphore",
            "acquire",
            "quota",
            "--holder",
            "step",
            "--ttl",
            "30s",
            "-o",
            "json",
        ],
        0,
    );
    let grant: serde_json::Value = serde_json::from_str(&stdout(&acquired)).expect("JSON grant");
    assert_eq!(grant["holder"], "step");
    assert_eq!(grant["ttl"], "30s");
    let token = grant["token"].as_u64().expect("a token").to_string();
    assert_eq!(
        in_use(&ns, "quota"),
        1,
        "the permit outlives the acquiring process"
    );
    expect(
        &ns,
        &["semaphore", "acquire", "quota", "--holder", "step"],
        68,
    );
    expect(
        &ns,
        &[
            "semaphore",
            "acquire",
            "quota",
            "--holder",
            "late",
            "--timeout",
            "0",
        ],
        69,
    );
    let renewed_at = |ns: &Namespace| {
        let status = ns
            .admin()
            .get_semaphore("quota")
            .expect("get")
            .status
            .expect("status");
        status.holders[0].renew_count
    };
    let before = renewed_at(&ns);
    let by = ["--holder", "step", "--token", token.as_str()];
    expect(
        &ns,
        &[&["semaphore", "renew", "quota"][..], &by].concat(),
        0,
    );
    assert_eq!(renewed_at(&ns), before + 1, "the renewal was written");
    expect(
        &ns,
        &[
            "semaphore",
            "renew",
            "quota",
            "--holder",
            "step",
            "--token",
            "999",
        ],
        70,
    );
    expect(
        &ns,
        &[&["semaphore", "release", "quota"][..], &by].concat(),
        0,
    );
    assert_eq!(in_use(&ns, "quota"), 0);
    expect(
        &ns,
        &[&["semaphore", "release", "quota"][..], &by].concat(),
        70,
    );
    expect(
        &ns,
        &[&["semaphore", "renew", "quota"][..], &by].concat(),
        70,
    );
}

#[test]
fn barrier_run_starts_everyone_together() {
    let ns = Namespace::new("cli-barrier");
    expect(&ns, &["barrier", "create", "start", "--expected", "2"], 0);
    let first = konductor(
        &ns,
        &["barrier", "run", "start", "--", "sh", "-c", "exit 3"],
    )
    .spawn()
    .expect("start konductor");
    eventually(LIMIT, "the first arrival", || {
        let barrier = ns.admin().get_barrier("start").expect("barrier");
        barrier.status.is_some_and(|s| s.arrived == 1)
    });
    expect(
        &ns,
        &["barrier", "run", "start", "--", "sh", "-c", "exit 4"],
        4,
    );
    let output = finish(first, "the first barrier run");
    assert_eq!(code(&output), 3, "stderr: {}", stderr(&output));
    expect(&ns, &["barrier", "create", "never", "--expected", "2"], 0);
    expect(&ns, &["barrier", "arrive", "never", "--holder", "a"], 0);
    expect(&ns, &["barrier", "wait", "never", "--timeout", "500ms"], 69);
}

#[test]
fn gate_check_exits_0_when_open_and_1_when_not() {
    let ns = Namespace::new("cli-gate");
    expect(
        &ns,
        &[
            "gate",
            "create",
            "ready",
            "--condition",
            "job/load=Complete",
        ],
        0,
    );
    expect(&ns, &["gate", "check", "ready"], 1);
    expect(&ns, &["gate", "wait", "ready", "--timeout", "300ms"], 69);
    ns.patch_status(
        "gates",
        "ready",
        r#"{"status":{"phase":"Open","conditionStatuses":[{"type":"Job","name":"load","met":true,"message":"Complete"}]}}"#,
    );
    expect(&ns, &["gate", "check", "ready"], 0);
    expect(&ns, &["gate", "wait", "ready", "--timeout", "10s"], 0);
    let conditions = expect(&ns, &["gate", "conditions", "ready", "-o", "json"], 0);
    let conditions: serde_json::Value = serde_json::from_str(&stdout(&conditions)).expect("JSON");
    assert_eq!(conditions[0]["met"], true, "{conditions}");
    expect(&ns, &["gate", "check", "missing"], 65);
    expect(
        &ns,
        &["gate", "create", "broken", "--condition", "job/never"],
        0,
    );
    ns.patch_status(
        "gates",
        "broken",
        r#"{"status":{"phase":"Failed","message":"timed out"}}"#,
    );
    let failed = expect(&ns, &["gate", "wait", "broken"], 71);
    assert!(stderr(&failed).contains("timed out"), "{}", stderr(&failed));
    expect(&ns, &["gate", "check", "broken"], 1);
}

#[test]
fn bad_input_gets_one_error_line_and_its_exit_code() {
    let ns = Namespace::new("cli-errors");
    let cases: [(&[&str], i32, &str); 10] = [
        (
            &["semaphore", "create", "Bad_Name", "--permits", "1"],
            64,
            "\"Bad_Name\"",
        ),
        (
            &["semaphore", "create", "s", "--permits", "0"],
            64,
            "permits",
        ),
        (
            &["semaphore", "create", "s", "--permits", "1", "--ttl", "5y"],
            64,
            "'5y'",
        ),
        (
            &["semaphore", "run", "s", "--bogus", "--", "true"],
            64,
            "--bogus",
        ),
        (
            &["gate", "create", "g", "--condition", "pod/x=Ready"],
            64,
            "\"pod\"",
        ),
        (&["semaphore", "get", "missing"], 65, "missing"),
        (
            &["lease", "release", "missing", "--holder", "h"],
            65,
            "missing",
        ),
        (&["barrier", "arrive", "missing"], 65, "missing"),
        (&["lease", "try", "l", "--timeout", "5s"], 64, "--timeout"),
        (
            &["mutex", "try-lock", "m", "--timeout", "5s"],
            64,
            "--timeout",
        ),
    ];
    for (args, want, names) in cases {
        let output = expect(&ns, args, want);
        let message = stderr(&output);
        assert_eq!(
            message.lines().count(),
            1,
            "one line for {args:?}: {message}"
        );
        assert!(message.starts_with("konductor: "), "{message}");
        assert!(
            message.contains(names),
            "{args:?}: the message names {names}: {message}"
        );
    }
    expect(&ns, &["semaphore", "create", "s", "--permits", "1"], 0);
    expect(&ns, &["semaphore", "create", "s", "--permits", "1"], 66);
    let output = Command::new(env!("CARGO_BIN_EXE_konductor"))
        .args(["--kubeconfig", "/no/such/kubeconfig", "semaphore", "list"])
        .output()
        .expect("run konductor");
    assert_eq!(code(&output), 73, "{}", stderr(&output));
    let help = Command::new(env!("CARGO_BIN_EXE_konductor"))
        .arg("--help")
        .output()
        .expect("run konductor");
    assert!(stdout(&help).contains("Exit codes:"), "{}", stdout(&help));
}

#[test]
fn list_prints_kubectls_columns_and_every_format() {
    let ns = Namespace::new("cli-list");
    expect(&ns, &["semaphore", "create", "b-sem", "--permits", "2"], 0);
    expect(
        &ns,
        &[
            "semaphore",
            "create",
            "a-sem",
            "--permits",
            "3",
            "--ttl",
            "1m",
        ],
        0,
    );
    expect(&ns, &["semaphore", "acquire", "a-sem", "--holder", "h"], 0);
    let ours = stdout(&expect(&ns, &["semaphore", "list"], 0));
    let theirs = kubectl(&[
        "-n",
        &ns.name,
        "get",
        "semaphores",
        "--sort-by=.metadata.name",
    ]);
    let header = |text: &str| text.lines().next().unwrap_or_default().to_owned();
    assert_eq!(
        header(&ours),
        header(&theirs),
        "ours:\n{ours}\nkubectl:\n{theirs}"
    );
    let first_cells = |text: &str| -> Vec<String> {
        let line = text.lines().nth(1).unwrap_or_default();
        line.split_whitespace().take(5).map(str::to_owned).collect()
    };
    assert_eq!(
        first_cells(&ours),
        first_cells(&theirs),
        "ours:\n{ours}\nkubectl:\n{theirs}"
    );

    let json = stdout(&expect(&ns, &["semaphore", "list", "-o", "json"], 0));
    let list: serde_json::Value = serde_json::from_str(&json).expect("JSON list");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["kind"], "Semaphore");
    assert_eq!(list["items"][0]["status"]["inUse"], 1, "{json}");
    let one = stdout(&expect(
        &ns,
        &["semaphore", "get", "a-sem", "-o", "json"],
        0,
    ));
    let one: serde_json::Value = serde_json::from_str(&one).expect("JSON object");
    assert_eq!(one["spec"]["ttl"], "1m0s");
    let yaml = stdout(&expect(
        &ns,
        &["semaphore", "get", "a-sem", "-o", "yaml"],
        0,
    ));
    assert!(
        yaml.contains("kind: Semaphore") && yaml.contains("permits: 3"),
        "{yaml}"
    );
    let names = stdout(&expect(&ns, &["semaphore", "list", "-o", "name"], 0));
    assert_eq!(
        names,
        "semaphore.sync.konductor.io/a-sem\nsemaphore.sync.konductor.io/b-sem\n"
    );
    expect(&ns, &["semaphore", "delete", "b-sem"], 0);
    expect(&ns, &["semaphore", "get", "b-sem"], 65);
    for kind in ["lease", "mutex", "rwmutex", "once", "barrier", "gate"] {
        let empty = expect(&ns, &[kind, "list"], 0);
        assert!(
            stderr(&empty).starts_with("No resources found"),
            "{}",
            stderr(&empty)
        );
    }
}

#[test]
fn completion_and_version_need_no_cluster() {
    for shell in ["bash", "zsh", "fish"] {
        let output = Command::new(env!("CARGO_BIN_EXE_konductor"))
            .args(["completion", shell])
            .output()
            .expect("run konductor");
        assert!(output.status.success(), "completion {shell}");
        assert!(stdout(&output).contains("semaphore"), "completion {shell}");
    }
    let version = Command::new(env!("CARGO_BIN_EXE_konductor"))
        .arg("version")
        .output()
        .expect("run konductor");
    assert_eq!(
        stdout(&version).trim(),
        format!("konductor {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_lost_permit_stops_the_command_and_exits_70() {
    let ns = Namespace::new("cli-lost");
    expect(&ns, &["semaphore", "create", "work", "--permits", "1"], 0);
    let dir = scratch(&ns);
    let started = dir.join("started");
    let got = dir.join("got-term");
    let script = format!(
        "trap 'echo term > {}; exit 143' TERM; echo > {}; while :; do sleep 0.1; done",
        got.display(),
        started.display()
    );
    let args = [
        "semaphore",
        "run",
        "work",
        "--ttl",
        "3s",
        "--",
        "sh",
        "-c",
        &script,
    ];
    let child = konductor(&ns, &args).spawn().expect("start konductor");
    eventually(LIMIT, "the command to start", || started.exists());
    let deleted = Instant::now();
    expect(&ns, &["semaphore", "delete", "work"], 0);
    let output = finish(
        child,
        "konductor semaphore run after its semaphore was deleted",
    );
    assert_eq!(code(&output), 70, "stderr: {}", stderr(&output));
    assert!(got.exists(), "the command received SIGTERM on the loss");
    assert!(
        deleted.elapsed() < Duration::from_secs(10),
        "the loss was noticed by the next renewal: {:?}",
        deleted.elapsed()
    );
    assert!(stderr(&output).contains("deleted"), "{}", stderr(&output));
}

#[test]
fn waitgroup_done_counts_once_per_holder_and_wait_returns_at_zero() {
    let ns = Namespace::new("cli-waitgroup");
    expect(
        &ns,
        &[
            "waitgroup",
            "create",
            "shards",
            "--expected",
            "2",
            "--ttl",
            "1h",
        ],
        0,
    );
    expect(&ns, &["wg", "wait", "shards", "--timeout", "300ms"], 69);
    let waiter = konductor(&ns, &["waitgroup", "wait", "shards", "--timeout", "30s"])
        .spawn()
        .expect("start konductor");
    let first = expect(
        &ns,
        &["waitgroup", "done", "shards", "--holder", "shard-0"],
        0,
    );
    assert_eq!(
        stdout(&first),
        "shard-0 done in waitgroup shards: counter 1\n"
    );
    let again = expect(
        &ns,
        &["waitgroup", "done", "shards", "--holder", "shard-0"],
        0,
    );
    assert_eq!(
        stdout(&again),
        "shard-0 done in waitgroup shards: counter 1\n",
        "a retried done of the same holder counts once"
    );
    expect(
        &ns,
        &["waitgroup", "done", "shards", "--holder", "shard-1"],
        0,
    );
    let output = finish(waiter, "the waitgroup wait");
    assert_eq!(code(&output), 0, "stderr: {}", stderr(&output));
    let below = expect(
        &ns,
        &["waitgroup", "done", "shards", "--holder", "shard-2"],
        75,
    );
    assert!(stderr(&below).contains("below zero"), "{}", stderr(&below));
    let added = expect(&ns, &["waitgroup", "add", "shards", "2", "-o", "json"], 0);
    assert!(
        stdout(&added).contains("\"counter\": 2"),
        "{}",
        stdout(&added)
    );
    expect(&ns, &["waitgroup", "add", "shards", "0"], 64);
    expect(&ns, &["waitgroup", "add", "shards", "10000"], 64);
    let listed = expect(&ns, &["waitgroup", "list"], 0);
    let text = stdout(&listed);
    assert!(
        text.starts_with("NAME") && text.contains("COUNTER") && text.contains("shards"),
        "{text}"
    );
    expect(&ns, &["waitgroup", "done", "missing", "--holder", "a"], 65);
    expect(
        &ns,
        &[
            "gate",
            "create",
            "merge",
            "--condition",
            "waitgroup/shards=Done",
        ],
        0,
    );
    expect(&ns, &["waitgroup", "delete", "shards"], 0);
}
