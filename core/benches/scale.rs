//! Scale benchmark (issue 10): one contended Semaphore(permits=2), then one
//! Lease, with N waiting threads spread over P worker processes (this binary
//! re-executed), each looping acquire → hold 20 ms → release → acquire. After
//! a warm-up that lasts until the queue has formed (every thread inside
//! acquire or holding, and the waiters visible on the server), a measured
//! window gives, per grant and next to the smallest N measured in the same
//! run (the baseline, ratio column `xN0`): grants/s, hand-off p50/p99, API
//! requests by verb and resource (the API server's `apiserver_request_total`),
//! API server and etcd CPU (`/proc/<pid>/stat`), bytes put into etcd, etcd
//! db growth, watch events sent and their bytes, and the contended object's
//! size; and checks that no more than `permits` hold at once and that fencing
//! tokens are unique and ordered. A row whose grants stop or whose waiters
//! time out is marked `COLLAPSED`, and the run goes on: every N is bounded
//! (4 minutes at most at the defaults, plus kubectl calls to an overloaded
//! server, each cut at 30 s; workers stop by themselves if the parent dies).
//!
//! Needs a cluster with the CRDs: `tests/cluster/up` (CPU and etcd figures
//! need its pid files and etcd port, under `.cache/cluster/`), or
//! `KONDUCTOR_TEST_KUBECONFIG` (then those figures are `n/a`). Run
//!
//! ```sh
//! cargo bench -p konductor --bench scale
//! KONDUCTOR_SCALE_N=16,64,256 KONDUCTOR_SCALE_KINDS=semaphore cargo bench -p konductor --bench scale
//! ```
//!
//! Settings (environment): `KONDUCTOR_SCALE_N` (waiters, default
//! `16,256,1000`), `KONDUCTOR_SCALE_KINDS` (`semaphore,lease`),
//! `KONDUCTOR_SCALE_PROCS` (worker processes, default 8),
//! `KONDUCTOR_SCALE_WINDOW_S` (30), `KONDUCTOR_SCALE_WARMUP_S` (longest
//! warm-up, 90), `KONDUCTOR_SCALE_HOLD_MS` (20), `KONDUCTOR_SCALE_ARRIVAL_MS`
//! (spacing of the threads' first arrivals, 10), `KONDUCTOR_SCALE_TIMEOUT_S`
//! (acquire timeout, 60), `KONDUCTOR_SCALE_NAMESPACE` (`konductor-scale`,
//! created if missing). Uses only the client's public API, so it measures any
//! protocol behind it; the queue is read from the object's `status.waiters`
//! when the CRD has that field, and from objects of any other kind of the
//! `sync.konductor.io` group in the namespace (say, per-waiter objects).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use konductor::{CancelToken, Client, Config, Error, Options};

/// Set in a worker process: its task (see [`WorkerSpec`]).
const WORKER_ENV: &str = "KONDUCTOR_SCALE_WORKER";
/// Permit and lease TTL, and the objects' default TTL.
const TTL: Duration = Duration::from_secs(60);
/// The API group of Konductor's kinds.
const GROUP: &str = "sync.konductor.io";
/// Kinds of the group that are not waiter objects.
const BASE_KINDS: [&str; 4] = ["semaphores", "leases", "barriers", "gates"];
/// How long stopped workers get to finish before they are killed.
const STOP_GRACE: Duration = Duration::from_secs(20);
/// Longest wait for the API server and etcd to go idle between runs.
const COOL_DOWN: Duration = Duration::from_secs(30);

fn main() {
    if let Ok(spec) = std::env::var(WORKER_ENV) {
        worker(&spec);
        return;
    }
    let settings = Settings::from_env();
    let cluster = Cluster::find();
    let client = Client::new(Some(
        Config::from_kubeconfig(&cluster.kubeconfig, None).expect("kubeconfig"),
    ))
    .expect("client");
    let namespace = cluster
        .ensure_namespace(&settings.namespace)
        .unwrap_or_else(|| client.namespace().to_owned());
    let client = client.in_namespace(&namespace).expect("namespace");
    let waiter_kinds = cluster.waiter_kinds();
    let commit = commit();
    uncontended(&cluster, &client);
    for &kind in &settings.kinds {
        let in_status = cluster.status_has_waiters(kind);
        let rows: Vec<Row> = settings
            .waiters
            .iter()
            .map(|&n| {
                let run = Run {
                    settings: &settings,
                    cluster: &cluster,
                    client: &client,
                    namespace: &namespace,
                    kind,
                    waiters: n,
                    in_status,
                    waiter_kinds: &waiter_kinds,
                };
                run.run()
            })
            .collect();
        print_table(&settings, kind, &commit, &namespace, &rows);
    }
}

// ---------------------------------------------------------------------------
// Settings and the cluster

struct Settings {
    waiters: Vec<usize>,
    kinds: Vec<Kind>,
    procs: usize,
    window: Duration,
    warmup: Duration,
    hold: Duration,
    arrival: Duration,
    timeout: Duration,
    namespace: String,
}

impl Settings {
    fn from_env() -> Settings {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let number = |name: &str, default: u64| -> u64 {
            var(name).map_or(default, |v| {
                v.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}={v}: not a number"))
            })
        };
        let waiters = var("KONDUCTOR_SCALE_N")
            .unwrap_or_else(|| "16,256,1000".to_owned())
            .split(',')
            .map(|n| n.trim().parse().expect("KONDUCTOR_SCALE_N: numbers"))
            .collect();
        let kinds = var("KONDUCTOR_SCALE_KINDS")
            .unwrap_or_else(|| "semaphore,lease".to_owned())
            .split(',')
            .map(|k| Kind::parse(k.trim()).expect("KONDUCTOR_SCALE_KINDS: semaphore, lease"))
            .collect();
        Settings {
            waiters,
            kinds,
            procs: number("KONDUCTOR_SCALE_PROCS", 8).max(1) as usize,
            window: Duration::from_secs(number("KONDUCTOR_SCALE_WINDOW_S", 30)),
            warmup: Duration::from_secs(number("KONDUCTOR_SCALE_WARMUP_S", 90)),
            hold: Duration::from_millis(number("KONDUCTOR_SCALE_HOLD_MS", 20)),
            arrival: Duration::from_millis(number("KONDUCTOR_SCALE_ARRIVAL_MS", 10)),
            timeout: Duration::from_secs(number("KONDUCTOR_SCALE_TIMEOUT_S", 60)),
            namespace: var("KONDUCTOR_SCALE_NAMESPACE")
                .unwrap_or_else(|| "konductor-scale".to_owned()),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Semaphore,
    Lease,
}

impl Kind {
    fn parse(word: &str) -> Option<Kind> {
        match word {
            "semaphore" => Some(Kind::Semaphore),
            "lease" => Some(Kind::Lease),
            _ => None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Kind::Semaphore => "semaphore",
            Kind::Lease => "lease",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Kind::Semaphore => "semaphores",
            Kind::Lease => "leases",
        }
    }

    fn permits(self) -> usize {
        match self {
            Kind::Semaphore => 2,
            Kind::Lease => 1,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Semaphore => "one Semaphore(permits=2)",
            Kind::Lease => "one Lease",
        }
    }
}

/// The control plane: kubeconfig and kubectl, and for `tests/cluster/up`'s
/// cluster the pids of etcd and the API server and etcd's client port.
struct Cluster {
    kubeconfig: PathBuf,
    kubectl: Option<String>,
    etcd_port: Option<u16>,
    apiserver_pid: Option<u32>,
    etcd_pid: Option<u32>,
    clock_ticks: f64,
}

impl Cluster {
    fn find() -> Cluster {
        let cache = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/cluster");
        let external = std::env::var_os("KONDUCTOR_TEST_KUBECONFIG");
        let env_file = std::fs::read_to_string(cache.join("env")).unwrap_or_default();
        let from_env_file = |key: &str| {
            env_file
                .lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(|v| v.trim_matches('\'').to_owned())
        };
        let pid = |name: &str| -> Option<u32> {
            let pid: u32 = std::fs::read_to_string(cache.join(format!("state/{name}.pid")))
                .ok()?
                .trim()
                .parse()
                .ok()?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            String::from_utf8_lossy(&cmdline)
                .contains(name)
                .then_some(pid)
        };
        let local = external.is_none();
        let clock_ticks = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0);
        Cluster {
            kubeconfig: external
                .map(PathBuf::from)
                .unwrap_or_else(|| cache.join("admin.kubeconfig")),
            kubectl: std::env::var("KUBECTL")
                .ok()
                .or_else(|| from_env_file("KUBECTL")),
            etcd_port: local
                .then(|| from_env_file("KONDUCTOR_ETCD_PORT")?.parse().ok())
                .flatten(),
            apiserver_pid: local.then(|| pid("kube-apiserver")).flatten(),
            etcd_pid: local.then(|| pid("etcd")).flatten(),
            clock_ticks,
        }
    }

    /// kubectl's standard output, when it succeeds.
    fn kubectl(&self, args: &[&str]) -> Option<String> {
        let output = Command::new(self.kubectl.as_deref()?)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--request-timeout=30s")
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn ensure_namespace(&self, namespace: &str) -> Option<String> {
        if self.kubectl(&["get", "namespace", namespace]).is_none() {
            self.kubectl(&["create", "namespace", namespace])?;
        }
        Some(namespace.to_owned())
    }

    /// The group's resources other than the four base kinds (say, per-waiter objects).
    fn waiter_kinds(&self) -> Vec<String> {
        let Some(names) = self.kubectl(&["api-resources", "--api-group", GROUP, "-o", "name"])
        else {
            return Vec::new();
        };
        names
            .lines()
            .filter(|r| !BASE_KINDS.contains(&r.split('.').next().unwrap_or("")))
            .map(str::to_owned)
            .collect()
    }

    /// Whether the kind's CRD has `status.waiters` (the queue in the object).
    fn status_has_waiters(&self, kind: Kind) -> bool {
        let path = format!(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{}.{GROUP}",
            kind.plural()
        );
        let Some(crd) = self.kubectl(&["get", "--raw", &path]) else {
            return false;
        };
        let crd: serde_json::Value = serde_json::from_str(&crd).unwrap_or_default();
        crd["spec"]["versions"].as_array().is_some_and(|versions| {
            versions.iter().any(|v| {
                !v["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]["waiters"]
                    .is_null()
            })
        })
    }

    /// Objects of `resources` (`plural.group`, comma-separated) in the namespace.
    fn count(&self, namespace: &str, resources: &str) -> Option<usize> {
        if resources.is_empty() {
            return Some(0);
        }
        let names = self.kubectl(&["get", resources, "-n", namespace, "-o", "name"])?;
        Some(names.lines().filter(|l| !l.trim().is_empty()).count())
    }

    /// The object as the API server serves it (JSON).
    fn object(&self, namespace: &str, kind: Kind, name: &str) -> Option<String> {
        let path = format!(
            "/apis/{GROUP}/v1/namespaces/{namespace}/{}/{name}",
            kind.plural()
        );
        self.kubectl(&["get", "--raw", &path])
    }

    fn cpu_seconds(&self, pid: Option<u32>) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
        let fields: Vec<&str> = stat
            .get(stat.rfind(')')? + 1..)?
            .split_whitespace()
            .collect();
        // After the command name: state is field 3, utime 14, stime 15.
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((utime + stime) / self.clock_ticks)
    }

    fn snapshot(&self) -> Snapshot {
        let keep = |s: &Sample| {
            s.name == "apiserver_request_total"
                || s.name == "apiserver_watch_events_total"
                || s.name == "apiserver_watch_events_sizes_sum"
                || s.name
                    .starts_with("etcd_debugging_mvcc_total_put_size_in_bytes")
                || s.name == "etcd_disk_wal_write_bytes_total"
                || s.name == "etcd_mvcc_db_total_size_in_bytes"
                || s.name == "etcd_mvcc_db_total_size_in_use_in_bytes"
        };
        let started = now_ns();
        let apiserver = self
            .kubectl(&["get", "--raw", "/metrics"])
            .map(|t| parse_metrics(&t).into_iter().filter(keep).collect());
        let etcd = self
            .etcd_port
            .and_then(|port| http_get(port, "/metrics"))
            .map(|t| parse_metrics(&t).into_iter().filter(keep).collect());
        let apiserver_cpu = self.cpu_seconds(self.apiserver_pid);
        let etcd_cpu = self.cpu_seconds(self.etcd_pid);
        Snapshot {
            apiserver,
            etcd,
            apiserver_cpu,
            etcd_cpu,
            at: started / 2 + now_ns() / 2,
        }
    }

    /// Waits (at most [`COOL_DOWN`]) until the API server and etcd use
    /// less than a quarter of a core, so one run's backlog does not bill the next.
    fn cool_down(&self) {
        let started = Instant::now();
        let busy =
            || Some(self.cpu_seconds(self.apiserver_pid)? + self.cpu_seconds(self.etcd_pid)?);
        while started.elapsed() < COOL_DOWN {
            let Some(before) = busy() else { return };
            thread::sleep(Duration::from_secs(2));
            let Some(after) = busy() else { return };
            if (after - before) / 2.0 < 0.25 {
                return;
            }
        }
    }
}

/// A plain HTTP/1.0 GET on loopback (etcd's metrics), body only.
fn http_get(port: u16, path: &str) -> Option<String> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n")?;
    head.lines()
        .next()?
        .contains(" 200 ")
        .then(|| body.to_owned())
}

fn commit() -> String {
    Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "describe",
            "--always",
            "--dirty",
            "--abbrev=7",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

// ---------------------------------------------------------------------------
// Metrics

struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

impl Sample {
    fn label(&self, key: &str) -> &str {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Prometheus text format: `name{label="value",...} value`.
fn parse_metrics(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let Some((series, value)) = line.trim().rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, parse_labels(rest.trim_end_matches('}'))),
            None => (series, Vec::new()),
        };
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        if key.is_empty() || chars.next() != Some('"') {
            return labels;
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.extend(chars.next()),
                '"' => break,
                c => value.push(c),
            }
        }
        labels.push((key.trim_start_matches(',').trim().to_owned(), value));
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
}

struct Snapshot {
    apiserver: Option<Vec<Sample>>,
    etcd: Option<Vec<Sample>>,
    apiserver_cpu: Option<f64>,
    etcd_cpu: Option<f64>,
    /// Wall clock (ns) halfway through the reads: the window's bound.
    at: u64,
}

/// Sums of `after - before` per key, over the samples `key` maps to a key.
fn diff(
    before: &Option<Vec<Sample>>,
    after: &Option<Vec<Sample>>,
    key: impl Fn(&Sample) -> Option<String>,
) -> Option<BTreeMap<String, f64>> {
    let mut sums = BTreeMap::new();
    for (samples, sign) in [(after.as_ref()?, 1.0), (before.as_ref()?, -1.0)] {
        for sample in samples {
            if let Some(key) = key(sample) {
                *sums.entry(key).or_insert(0.0) += sign * sample.value;
            }
        }
    }
    Some(sums)
}

fn total(before: &Option<Vec<Sample>>, after: &Option<Vec<Sample>>, name: &str) -> Option<f64> {
    diff(before, after, |s| (s.name == name).then(String::new))?
        .into_values()
        .next()
}

/// `verb resource[/subresource]` for the group's requests; one key for all others.
fn request_key(sample: &Sample) -> Option<String> {
    if sample.name != "apiserver_request_total" || sample.label("resource").is_empty() {
        return None;
    }
    if sample.label("group") != GROUP {
        return Some("other resources (all verbs)".to_owned());
    }
    let subresource = sample.label("subresource");
    let slash = if subresource.is_empty() { "" } else { "/" };
    Some(format!(
        "{} {}{slash}{subresource}",
        sample.label("verb"),
        sample.label("resource")
    ))
}

// ---------------------------------------------------------------------------
// Uncontended cycles

/// API requests of uncontended acquire+release cycles by one thread on a
/// fresh Semaphore(1): the first cycle on the object, then the steady state
/// (issue 10: at most 3 and 2). Counted by the API server, so it needs a
/// quiet cluster (this runs before the contended runs).
fn uncontended(cluster: &Cluster, client: &Client) {
    const CYCLES: usize = 100;
    let name = format!("scale-uncontended-{}", std::process::id());
    let _ = client.delete_semaphore(&name);
    client
        .create_semaphore(&name, 1, Some(TTL))
        .expect("create semaphore");
    let requests = |before: &Snapshot, after: &Snapshot| {
        diff(&before.apiserver, &after.apiserver, request_key).map(|sums| {
            sums.into_iter()
                .filter(|(_, n)| *n > 0.0)
                .collect::<Vec<_>>()
        })
    };
    let cycle = || {
        let options = Options::new().ttl(TTL).timeout(Duration::ZERO);
        let permit = client
            .acquire_semaphore(&name, &options)
            .expect("uncontended acquire");
        permit.release().expect("release");
    };
    let start = cluster.snapshot();
    cycle();
    let first = cluster.snapshot();
    for _ in 0..CYCLES {
        cycle();
    }
    let steady = cluster.snapshot();
    let _ = client.delete_semaphore(&name);
    let show = |what: &str, counts: Option<Vec<(String, f64)>>, cycles: f64| match counts {
        Some(counts) => {
            let total: f64 = counts.iter().map(|(_, n)| n).sum();
            let by_verb: Vec<String> = counts
                .iter()
                .map(|(key, n)| format!("{key} {}", number(n / cycles)))
                .collect();
            println!(
                "uncontended, {what}: {} requests per cycle ({})",
                number(total / cycles),
                by_verb.join(", ")
            );
        }
        None => println!("uncontended, {what}: n/a (no apiserver metrics)"),
    };
    println!();
    show("first cycle on the object", requests(&start, &first), 1.0);
    show(
        &format!("next {CYCLES} cycles"),
        requests(&first, &steady),
        CYCLES as f64,
    );
}

// ---------------------------------------------------------------------------
// One run: one kind, N waiters

struct Run<'a> {
    settings: &'a Settings,
    cluster: &'a Cluster,
    client: &'a Client,
    namespace: &'a str,
    kind: Kind,
    waiters: usize,
    /// The CRD keeps the queue in `status.waiters`.
    in_status: bool,
    waiter_kinds: &'a [String],
}

/// What the workers reported, and which threads have started.
#[derive(Default)]
struct Reports {
    events: Vec<Event>,
    started: HashSet<usize>,
}

impl Run<'_> {
    fn run(&self) -> Row {
        let (kind, n, settings) = (self.kind, self.waiters, self.settings);
        let permits = kind.permits();
        let name = format!("scale-{}-{n}-{}", kind.word(), std::process::id());
        eprintln!("scale: {} {name}: {n} waiters", kind.word());
        let created = match kind {
            Kind::Semaphore => self
                .client
                .create_semaphore(&name, permits as u32, Some(TTL))
                .map(drop),
            Kind::Lease => self.client.create_lease(&name, Some(TTL), None).map(drop),
        };
        created.expect("create the contended object");
        let others_before = self.other_objects();
        let waiters_before = self.waiter_objects();

        // Workers: thread gi of N runs in process gi % P; first arrivals
        // `arrival` apart, in gi order.
        let procs = settings.procs.min(n);
        let spawned = Instant::now();
        let start_ns = now_ns() + 1_000_000_000;
        let budget = settings.warmup + settings.window + Duration::from_secs(150);
        let reports: Arc<Mutex<Reports>> = Arc::default();
        let mut children: Vec<Child> = Vec::new();
        let mut readers = Vec::new();
        for p in 0..procs {
            let spec = WorkerSpec {
                kind,
                name: name.clone(),
                namespace: self.namespace.to_owned(),
                kubeconfig: self.cluster.kubeconfig.clone(),
                first: p,
                stride: procs,
                waiters: n,
                hold: settings.hold,
                arrival: settings.arrival,
                timeout: settings.timeout,
                start_ns,
                stop_ns: start_ns + budget.as_nanos() as u64,
            };
            let mut child = Command::new(std::env::current_exe().expect("own executable"))
                .env(WORKER_ENV, spec.encode())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start a worker");
            let stdout = child.stdout.take().expect("worker stdout");
            let reports = reports.clone();
            readers.push(thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Some(event) = Event::parse(&line) {
                        let mut reports = reports.lock().unwrap();
                        if let Event::Start { thread, .. } = event {
                            reports.started.insert(thread);
                        }
                        reports.events.push(event);
                    }
                }
            }));
            children.push(child);
        }

        // Warm-up: every thread inside acquire or holding, and (when the
        // server shows the queue) the queue formed on the server.
        let slack = (n / 50).max(1);
        let mut queued = None;
        let formed = loop {
            thread::sleep(Duration::from_secs(1));
            let started = reports.lock().unwrap().started.len();
            if started >= n {
                queued = self.queued(&name, waiters_before);
                let shown = self.in_status || !self.waiter_kinds.is_empty();
                if !shown || queued.is_some_and(|q| q + permits + slack >= n) {
                    break true;
                }
            }
            if spawned.elapsed() >= settings.warmup
                || children
                    .iter_mut()
                    .all(|c| matches!(c.try_wait(), Ok(Some(_))))
            {
                break false;
            }
        };
        let warmed = spawned.elapsed();
        eprintln!(
            "scale: {} N={n}: {} after {:.1} s; measuring {} s",
            kind.word(),
            if formed {
                "queue formed"
            } else {
                "queue NOT formed"
            },
            warmed.as_secs_f64(),
            settings.window.as_secs()
        );

        let before = self.cluster.snapshot();
        thread::sleep(settings.window);
        let after = self.cluster.snapshot();
        let (w0, w1) = (before.at, after.at);
        let load = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split(' ').next()?.parse().ok());
        let object = self.cluster.object(self.namespace, kind, &name);
        let queued_at_end = self.queued_in(object.as_deref(), waiters_before);
        let others = self.other_objects();

        // Stop: a line (or EOF) on stdin cancels the waits; holders release.
        for child in &mut children {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = writeln!(stdin, "stop");
            }
        }
        let stopping = Instant::now();
        let mut killed = 0;
        for child in &mut children {
            while stopping.elapsed() < STOP_GRACE && matches!(child.try_wait(), Ok(None)) {
                thread::sleep(Duration::from_millis(50));
            }
            if matches!(child.try_wait(), Ok(None)) {
                killed += 1;
                let _ = child.kill();
            }
            let _ = child.wait();
        }
        for reader in readers {
            let _ = reader.join();
        }
        let _ = match kind {
            Kind::Semaphore => self.client.delete_semaphore(&name),
            Kind::Lease => self.client.delete_lease(&name),
        };
        self.cluster.cool_down();

        let reports = std::mem::take(&mut *reports.lock().unwrap());
        let analysis = Analysis::of(&reports.events, permits, w0, w1);
        let measured = Measured {
            formed,
            warmed,
            queued,
            queued_at_end,
            load,
            killed,
            object_bytes: object.map(|o| o.len()),
            others: match (others_before, others) {
                (Some(b), Some(a)) => Some(a as f64 - b as f64),
                _ => None,
            },
            before,
            after,
        };
        Row::new(n, permits, &analysis, &measured, w1 - w0)
    }

    /// Waiters the server shows: entries of `status.waiters` (when the CRD has
    /// it) plus objects of the group's other kinds; `None` if neither exists
    /// or they could not be read.
    fn queued(&self, name: &str, baseline: Option<usize>) -> Option<usize> {
        let object = self.cluster.object(self.namespace, self.kind, name);
        self.queued_in(object.as_deref(), baseline)
    }

    fn queued_in(&self, object: Option<&str>, baseline: Option<usize>) -> Option<usize> {
        let in_status = if self.in_status {
            // Not known when the object could not be read.
            let object: serde_json::Value = serde_json::from_str(object?).ok()?;
            Some(object["status"]["waiters"].as_array().map_or(0, Vec::len))
        } else {
            None
        };
        let objects = if self.waiter_kinds.is_empty() {
            None
        } else {
            Some(self.waiter_objects()?.saturating_sub(baseline.unwrap_or(0)))
        };
        match (in_status, objects) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        }
    }

    /// Objects of the group's non-base kinds in the namespace.
    fn waiter_objects(&self) -> Option<usize> {
        self.cluster
            .count(self.namespace, &self.waiter_kinds.join(","))
    }

    /// Objects of every kind of the group in the namespace but the contended one.
    fn other_objects(&self) -> Option<usize> {
        let base = BASE_KINDS
            .iter()
            .filter(|&&k| k != self.kind.plural())
            .map(|k| format!("{k}.{GROUP}"));
        let all: Vec<String> = base.chain(self.waiter_kinds.iter().cloned()).collect();
        self.cluster.count(self.namespace, &all.join(","))
    }
}

// ---------------------------------------------------------------------------
// Workers

/// A worker's task, passed in [`WORKER_ENV`].
struct WorkerSpec {
    kind: Kind,
    name: String,
    namespace: String,
    kubeconfig: PathBuf,
    /// Its threads are `first, first + stride, …` below `waiters`.
    first: usize,
    stride: usize,
    waiters: usize,
    hold: Duration,
    arrival: Duration,
    timeout: Duration,
    /// Wall clock (ns) of thread 0's first arrival.
    start_ns: u64,
    /// Wall clock (ns) at which the worker stops by itself.
    stop_ns: u64,
}

impl WorkerSpec {
    fn encode(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.kind.word(),
            self.name,
            self.namespace,
            self.kubeconfig.display(),
            self.first,
            self.stride,
            self.waiters,
            self.hold.as_millis(),
            self.arrival.as_millis(),
            self.timeout.as_millis(),
            self.start_ns,
            self.stop_ns
        )
    }

    fn decode(text: &str) -> WorkerSpec {
        let f: Vec<&str> = text.split('\t').collect();
        let number = |i: usize| -> u64 { f[i].parse().expect("worker spec") };
        WorkerSpec {
            kind: Kind::parse(f[0]).expect("worker spec"),
            name: f[1].to_owned(),
            namespace: f[2].to_owned(),
            kubeconfig: PathBuf::from(f[3]),
            first: number(4) as usize,
            stride: number(5) as usize,
            waiters: number(6) as usize,
            hold: Duration::from_millis(number(7)),
            arrival: Duration::from_millis(number(8)),
            timeout: Duration::from_millis(number(9)),
            start_ns: number(10),
            stop_ns: number(11),
        }
    }
}

/// A held permit or lease.
enum Slot {
    Permit(konductor::Permit),
    Lease(konductor::Lease),
}

impl Slot {
    fn acquire(
        client: &Client,
        kind: Kind,
        name: &str,
        options: &Options,
    ) -> konductor::Result<Slot> {
        match kind {
            Kind::Semaphore => client.acquire_semaphore(name, options).map(Slot::Permit),
            Kind::Lease => client.acquire_lease(name, options).map(Slot::Lease),
        }
    }

    fn token(&self) -> u64 {
        match self {
            Slot::Permit(p) => p.token(),
            Slot::Lease(l) => l.token(),
        }
    }

    fn is_lost(&self) -> bool {
        match self {
            Slot::Permit(p) => p.is_lost(),
            Slot::Lease(l) => l.is_lost(),
        }
    }

    fn release(&self) -> konductor::Result<()> {
        match self {
            Slot::Permit(p) => p.release(),
            Slot::Lease(l) => l.release(),
        }
    }
}

/// Runs a worker's threads until a line or EOF on stdin, or its stop time;
/// reports one line per event on stdout (see [`Event`]).
fn worker(spec: &str) {
    let spec = Arc::new(WorkerSpec::decode(spec));
    let config = Config::from_kubeconfig(&spec.kubeconfig, None).expect("kubeconfig");
    let client = Client::new(Some(config))
        .and_then(|c| c.in_namespace(&spec.namespace))
        .expect("client");
    let stop = CancelToken::new();
    {
        let stop = stop.clone();
        thread::spawn(move || {
            let _ = std::io::stdin().read_line(&mut String::new());
            stop.cancel();
        });
    }
    let until = |ns: u64| Duration::from_nanos(ns.saturating_sub(now_ns()));
    let threads: Vec<_> = (spec.first..spec.waiters)
        .step_by(spec.stride)
        .map(|gi| {
            let (client, stop, spec) = (client.clone(), stop.clone(), spec.clone());
            thread::spawn(move || {
                let arrival = spec.start_ns + gi as u64 * spec.arrival.as_nanos() as u64;
                if stop.wait(Some(until(arrival))) {
                    return;
                }
                let options = Options::new().ttl(TTL).timeout(spec.timeout).cancel(&stop);
                waiter(&client, &spec, gi, &options, &stop);
            })
        })
        .collect();
    // Stop at the stop time even if the parent is gone, and never linger.
    stop.wait(Some(until(spec.stop_ns)));
    stop.cancel();
    let stopped = Instant::now();
    while stopped.elapsed() < STOP_GRACE / 2 && threads.iter().any(|t| !t.is_finished()) {
        thread::sleep(Duration::from_millis(20));
    }
    let _ = std::io::stdout().flush();
    std::process::exit(0);
}

fn waiter(client: &Client, spec: &WorkerSpec, gi: usize, options: &Options, stop: &CancelToken) {
    let report = |line: String| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    };
    // Each acquisition its own holder identity, as a fresh pod or call
    // would have: an entry left behind by a failed call is not this one.
    for cycle in 0.. {
        if stop.is_cancelled() {
            break;
        }
        let options = options.clone().holder(format!("scale-{gi}-{cycle}"));
        let start = now_ns();
        report(format!("A {gi} {start}"));
        match Slot::acquire(client, spec.kind, &spec.name, &options) {
            Ok(slot) => {
                let got = now_ns();
                let token = slot.token();
                report(format!("G {gi} {token} {start} {got}"));
                thread::sleep(spec.hold);
                let lost = slot.is_lost();
                let releasing = now_ns();
                let released = slot.release();
                let done = now_ns();
                report(format!(
                    "R {gi} {token} {releasing} {done} {} {}",
                    u8::from(released.is_ok()),
                    u8::from(lost)
                ));
            }
            Err(Error::Cancelled { .. }) => break,
            Err(Error::Timeout { .. }) => report(format!("T {gi} {start} {}", now_ns())),
            Err(error) => {
                // The variant's name first, for the counts per kind of error.
                let variant: String = format!("{error:?}")
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect();
                let message = error.chain().replace(['\n', '\r'], " ");
                let message = format!("{variant}: {message}");
                report(format!("X {gi} {} {message}", now_ns()));
                stop.wait(Some(Duration::from_millis(200)));
            }
        }
    }
}

/// One line of a worker's report; times are wall clock, ns since the epoch.
enum Event {
    /// `A thread at`: an acquire call starts.
    Start { thread: usize, at: u64 },
    /// `G thread token start at`: an acquire call returned a grant.
    Grant {
        thread: usize,
        token: u64,
        start: u64,
        at: u64,
    },
    /// `R thread token start at ok lost`: a release call returned.
    Release {
        thread: usize,
        start: u64,
        at: u64,
        ok: bool,
        lost: bool,
    },
    /// `T thread start at`: an acquire call timed out.
    Timeout { thread: usize, start: u64, at: u64 },
    /// `X thread at message`: an acquire call failed otherwise.
    Failure {
        thread: usize,
        at: u64,
        message: String,
    },
}

impl Event {
    fn parse(line: &str) -> Option<Event> {
        let mut f = line.splitn(4, ' ');
        let tag = f.next()?;
        let thread: usize = f.next()?.parse().ok()?;
        if tag == "X" {
            let at = f.next()?.parse().ok()?;
            let message = f.next().unwrap_or("").to_owned();
            return Some(Event::Failure {
                thread,
                at,
                message,
            });
        }
        let n: Vec<u64> = line
            .split(' ')
            .skip(2)
            .map(|v| v.parse().ok())
            .collect::<Option<_>>()?;
        Some(match (tag, n.as_slice()) {
            ("A", [at]) => Event::Start { thread, at: *at },
            ("G", [token, start, at]) => Event::Grant {
                thread,
                token: *token,
                start: *start,
                at: *at,
            },
            ("R", [_token, start, at, ok, lost]) => Event::Release {
                thread,
                start: *start,
                at: *at,
                ok: *ok == 1,
                lost: *lost == 1,
            },
            ("T", [start, at]) => Event::Timeout {
                thread,
                start: *start,
                at: *at,
            },
            _ => return None,
        })
    }
}

// ---------------------------------------------------------------------------
// Analysis of the reports

#[derive(Default)]
struct Analysis {
    grants: usize,
    /// Hand-off times (ns, signed) of grants in the window.
    handoffs: Vec<i64>,
    max_holders: usize,
    duplicate_tokens: usize,
    misordered_tokens: usize,
    timeouts: usize,
    failures: usize,
    release_errors: usize,
    lost: usize,
    first_failure: Option<String>,
    /// Acquire errors in the window by variant.
    failure_kinds: BTreeMap<String, usize>,
    waits: Vec<u64>,
    longest_pending: u64,
    /// The longest acquire call (ns) that ended in a timeout in the window.
    longest_timeout: u64,
    /// Durations (ns) of release calls that returned in the window.
    release_calls: Vec<u64>,
}

impl Analysis {
    /// Figures of the window `[w0, w1]`; the checks cover the whole run.
    fn of(events: &[Event], permits: usize, w0: u64, w1: u64) -> Analysis {
        let inside = |t: u64| (w0..=w1).contains(&t);
        let mut a = Analysis::default();
        let mut grants: Vec<(u64, u64, u64)> = Vec::new(); // (token, start, at)
        let mut releases: Vec<u64> = Vec::new();
        let mut holds: Vec<(u64, i32)> = Vec::new();
        // Per thread, the grant not released (yet): a worker stopped mid-release.
        let mut open: HashMap<usize, u64> = HashMap::new();
        // Per thread, the start of an acquire not finished by w1.
        let mut pending: HashMap<usize, u64> = HashMap::new();
        for event in events {
            match *event {
                Event::Start { thread, at } => {
                    if at <= w1 {
                        pending.insert(thread, at);
                    }
                }
                Event::Grant {
                    thread,
                    token,
                    start,
                    at,
                } => {
                    grants.push((token, start, at));
                    holds.push((at, 1));
                    open.insert(thread, at);
                    if at <= w1 {
                        pending.remove(&thread);
                    }
                    if inside(at) {
                        a.grants += 1;
                        a.waits.push(at - start);
                    }
                }
                Event::Release {
                    thread,
                    start,
                    at,
                    ok,
                    lost,
                } => {
                    holds.push((start, -1));
                    open.remove(&thread);
                    if ok && !lost {
                        releases.push(at);
                    }
                    if inside(at) {
                        a.release_calls.push(at.saturating_sub(start));
                        a.release_errors += usize::from(!ok);
                        a.lost += usize::from(lost);
                    }
                }
                Event::Timeout { thread, start, at } => {
                    if at <= w1 {
                        pending.remove(&thread);
                    }
                    if inside(at) {
                        a.timeouts += 1;
                        a.longest_timeout = a.longest_timeout.max(at.saturating_sub(start));
                    }
                }
                Event::Failure {
                    thread,
                    at,
                    ref message,
                } => {
                    if at <= w1 {
                        pending.remove(&thread);
                    }
                    if inside(at) {
                        a.failures += 1;
                        a.first_failure.get_or_insert_with(|| message.clone());
                        let variant = message.split(':').next().unwrap_or("");
                        *a.failure_kinds.entry(variant.to_owned()).or_default() += 1;
                    }
                }
            }
        }
        // A thread's acquire started before w1 and not finished by then.
        a.longest_pending = pending
            .values()
            .map(|s| w1.saturating_sub(*s))
            .max()
            .unwrap_or(0);

        // Holders at once: a hold runs from the acquire's return to the
        // release call's start; ends sort before starts at the same time.
        // A hold whose release never reported has no known end: left out.
        let unended: HashSet<u64> = open.values().copied().collect();
        holds.retain(|(t, delta)| *delta < 0 || !unended.contains(t));
        holds.sort();
        let mut holding = 0i64;
        for (_, delta) in &holds {
            holding += i64::from(*delta);
            a.max_holders = a.max_holders.max(holding.max(0) as usize);
        }

        // Tokens: unique, and above every token returned before the acquire began.
        let mut tokens: Vec<u64> = grants.iter().map(|g| g.0).collect();
        tokens.sort_unstable();
        a.duplicate_tokens = tokens.windows(2).filter(|w| w[0] == w[1]).count();
        let mut by_return = grants.clone();
        by_return.sort_by_key(|g| g.2);
        let mut highest = Vec::with_capacity(by_return.len());
        for g in &by_return {
            highest.push(highest.last().copied().unwrap_or(0).max(g.0));
        }
        a.misordered_tokens = grants
            .iter()
            .filter(|(token, start, _)| {
                let before = by_return.partition_point(|g| g.2 < *start);
                before > 0 && highest[before - 1] >= *token
            })
            .count();

        // Hand-off: the k-th release to return (wall clock) freed the slot of
        // the (k + permits)-th grant in fencing-token order.
        releases.sort_unstable();
        let mut by_token = grants;
        by_token.sort_by_key(|g| g.0);
        for (release, grant) in releases.iter().zip(by_token.iter().skip(permits)) {
            if inside(grant.2) {
                a.handoffs.push(grant.2 as i64 - *release as i64);
            }
        }
        a.handoffs.sort_unstable();
        a.release_calls.sort_unstable();
        a
    }

    fn handoff_ms(&self, p: f64) -> Option<f64> {
        let h = &self.handoffs;
        (!h.is_empty()).then(|| h[((h.len() - 1) as f64 * p).round() as usize] as f64 / 1e6)
    }
}

// ---------------------------------------------------------------------------
// Rows and the table

/// What was measured outside the workers' reports.
struct Measured {
    formed: bool,
    warmed: Duration,
    queued: Option<usize>,
    queued_at_end: Option<usize>,
    /// The machine's 1-minute load average at the window's end.
    load: Option<f64>,
    killed: usize,
    object_bytes: Option<usize>,
    others: Option<f64>,
    before: Snapshot,
    after: Snapshot,
}

struct Row {
    waiters: usize,
    collapsed: bool,
    note: String,
    /// (label, value, whether a ratio to the baseline is meaningful)
    figures: Vec<(String, Option<f64>, bool)>,
}

impl Row {
    fn new(n: usize, permits: usize, a: &Analysis, m: &Measured, window_ns: u64) -> Row {
        let seconds = window_ns as f64 / 1e9;
        let grants = a.grants as f64;
        let per = |v: Option<f64>| v.filter(|_| grants > 0.0).map(|v| v / grants);
        let rate = grants / seconds;
        let (b, f) = (&m.before, &m.after);
        let cpu = |x: Option<f64>, y: Option<f64>| per(Some(y? - x?)).map(|s| s * 1e3);
        let watch = |name: &str| {
            diff(&b.apiserver, &f.apiserver, |s| {
                (s.name == name && s.label("group") == GROUP).then(String::new)
            })
            .map(|d| d.values().sum::<f64>())
        };
        let mut figures = vec![
            ("grants/s".to_owned(), Some(rate), true),
            ("hand-off p50 (ms)".to_owned(), a.handoff_ms(0.5), true),
            ("hand-off p99 (ms)".to_owned(), a.handoff_ms(0.99), true),
            (
                "release call p50 (ms)".to_owned(),
                (!a.release_calls.is_empty())
                    .then(|| a.release_calls[a.release_calls.len() / 2] as f64 / 1e6),
                true,
            ),
            (
                "apiserver CPU per grant (ms)".to_owned(),
                cpu(b.apiserver_cpu, f.apiserver_cpu),
                true,
            ),
            (
                "etcd CPU per grant (ms)".to_owned(),
                cpu(b.etcd_cpu, f.etcd_cpu),
                true,
            ),
            (
                "etcd put bytes per grant (KB)".to_owned(),
                per(total(
                    &b.etcd,
                    &f.etcd,
                    "etcd_debugging_mvcc_total_put_size_in_bytes",
                ))
                .map(|v| v / 1e3),
                true,
            ),
            (
                "etcd WAL bytes per grant (KB)".to_owned(),
                per(total(&b.etcd, &f.etcd, "etcd_disk_wal_write_bytes_total")).map(|v| v / 1e3),
                true,
            ),
            (
                "etcd db growth in window (MB)".to_owned(),
                total(&b.etcd, &f.etcd, "etcd_mvcc_db_total_size_in_bytes").map(|v| v / 1e6),
                true,
            ),
            (
                "etcd db in use growth in window (MB)".to_owned(),
                total(&b.etcd, &f.etcd, "etcd_mvcc_db_total_size_in_use_in_bytes").map(|v| v / 1e6),
                true,
            ),
            (
                "watch events sent per grant".to_owned(),
                per(watch("apiserver_watch_events_total")),
                true,
            ),
            (
                "watch bytes sent per grant (KB)".to_owned(),
                per(watch("apiserver_watch_events_sizes_sum")).map(|v| v / 1e3),
                true,
            ),
            (
                "contended object at end (bytes)".to_owned(),
                m.object_bytes.map(|v| v as f64),
                true,
            ),
            (
                "waiters seen on server at end".to_owned(),
                m.queued_at_end.map(|v| v as f64),
                true,
            ),
            (
                "other konductor objects (added)".to_owned(),
                m.others,
                false,
            ),
        ];
        let requests = diff(&b.apiserver, &f.apiserver, request_key);
        let codes = |pick: fn(&str) -> bool| {
            per(diff(&b.apiserver, &f.apiserver, |s| {
                (s.name == "apiserver_request_total"
                    && s.label("group") == GROUP
                    && pick(s.label("code")))
                .then(String::new)
            })
            .map(|d| d.values().sum()))
        };
        let all: Option<f64> = requests.as_ref().map(|r| {
            r.iter()
                .filter(|(k, _)| !k.starts_with("other"))
                .map(|(_, v)| v)
                .sum()
        });
        figures.push((
            "API requests per grant, konductor".to_owned(),
            per(all),
            true,
        ));
        for (key, count) in requests.iter().flatten().filter(|(_, c)| **c != 0.0) {
            figures.push((format!("  {key}"), per(Some(*count)), true));
        }
        figures.push((
            "  of which 409 Conflict".to_owned(),
            codes(|c| c == "409"),
            true,
        ));
        figures.push((
            "  of which 5xx".to_owned(),
            codes(|c| c.starts_with('5')),
            true,
        ));
        let waits = &a.waits;
        let mean_wait = (!waits.is_empty())
            .then(|| waits.iter().sum::<u64>() as f64 / waits.len() as f64 / 1e9);
        let max_wait = waits
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .max(a.longest_pending);
        figures.extend([
            ("mean wait of grants (s)".to_owned(), mean_wait, true),
            (
                "max wait, incl. still waiting (s)".to_owned(),
                Some(max_wait as f64 / 1e9),
                true,
            ),
            ("grants in window".to_owned(), Some(grants), false),
            (
                "load average (1 min) at window end".to_owned(),
                m.load,
                false,
            ),
            (
                format!("max holders at once (limit {permits})"),
                Some(a.max_holders as f64),
                false,
            ),
            (
                "duplicate / misordered tokens".to_owned(),
                Some((a.duplicate_tokens + a.misordered_tokens) as f64),
                false,
            ),
            (
                "acquire timeouts in window".to_owned(),
                Some(a.timeouts as f64),
                false,
            ),
            (
                "longest timed-out acquire call (s)".to_owned(),
                (a.timeouts > 0).then(|| a.longest_timeout as f64 / 1e9),
                false,
            ),
            (
                "other acquire errors in window".to_owned(),
                Some(a.failures as f64),
                false,
            ),
            (
                "release errors / lost at release".to_owned(),
                Some((a.release_errors + a.lost) as f64),
                false,
            ),
        ]);

        let mut problems = Vec::new();
        if rate < 1.0 {
            problems.push(format!("{rate:.2} grants/s"));
        }
        if a.timeouts > 0 {
            problems.push(format!("{} acquire timeouts", a.timeouts));
        }
        let collapsed = !problems.is_empty();
        if !m.formed {
            let queued = m.queued.map_or("n/a".to_owned(), |q| q.to_string());
            problems.push(format!(
                "queue not formed after {:.0} s ({queued} of {n} queued on the server)",
                m.warmed.as_secs_f64()
            ));
        }
        if a.max_holders > permits {
            problems.push(format!("OVER-GRANT: {} holders at once", a.max_holders));
        }
        if a.duplicate_tokens + a.misordered_tokens > 0 {
            problems.push(format!(
                "TOKENS: {} duplicate, {} misordered",
                a.duplicate_tokens, a.misordered_tokens
            ));
        }
        if let Some(failure) = &a.first_failure {
            let kinds: Vec<String> = a
                .failure_kinds
                .iter()
                .map(|(kind, count)| format!("{count} {kind}"))
                .collect();
            problems.push(format!(
                "acquire errors: {}; first: {failure}",
                kinds.join(", ")
            ));
        }
        if m.killed > 0 {
            problems.push(format!("{} workers killed after the stop grace", m.killed));
        }
        let note = if problems.is_empty() {
            format!("ok (queue formed after {:.0} s)", m.warmed.as_secs_f64())
        } else {
            problems.join("; ")
        };
        Row {
            waiters: n,
            collapsed,
            note,
            figures,
        }
    }
}

fn number(v: f64) -> String {
    let v = v + 0.0; // no "-0"
    let a = v.abs();
    if a >= 100.0 || (v == v.trunc() && a < 1e15) {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn print_table(settings: &Settings, kind: Kind, commit: &str, namespace: &str, rows: &[Row]) {
    let Some(base) = rows.first() else { return };
    println!();
    println!(
        "scale: {}, waiters over {} worker processes, hold {} ms, window {} s, \
         arrivals {} ms apart, acquire timeout {} s, TTL {} s (commit {commit}, namespace {namespace})",
        kind.title(),
        settings.procs,
        settings.hold.as_millis(),
        settings.window.as_secs(),
        settings.arrival.as_millis(),
        settings.timeout.as_secs(),
        TTL.as_secs()
    );
    // Every row's labels, a label missing so far going after its predecessor in that row.
    let mut labels: Vec<(&str, bool)> = Vec::new();
    for row in rows {
        let mut next = 0;
        for (label, _, ratio) in &row.figures {
            match labels.iter().position(|(l, _)| l == label) {
                Some(i) => next = i + 1,
                None => {
                    labels.insert(next, (label, *ratio));
                    next += 1;
                }
            }
        }
    }
    let width = labels.iter().map(|(l, _)| l.len()).max().unwrap_or(0) + 2;
    let mut header = format!("{:<width$}", "N");
    for (i, row) in rows.iter().enumerate() {
        header.push_str(&format!("{:>11}", row.waiters));
        if i > 0 {
            header.push_str(&format!("{:>9}", format!("x{}", base.waiters)));
        }
    }
    println!("{header}");
    let mut status = format!("{:<width$}", "status");
    for (i, row) in rows.iter().enumerate() {
        status.push_str(&format!(
            "{:>11}",
            if row.collapsed { "COLLAPSED" } else { "ok" }
        ));
        if i > 0 {
            status.push_str(&format!("{:>9}", ""));
        }
    }
    println!("{status}");
    let value = |row: &Row, label: &str| {
        row.figures
            .iter()
            .find(|(l, _, _)| l == label)
            .and_then(|(_, v, _)| *v)
    };
    for (label, ratio) in &labels {
        let mut line = format!("{label:<width$}");
        let base_value = value(base, label);
        for (i, row) in rows.iter().enumerate() {
            let v = value(row, label);
            line.push_str(&format!("{:>11}", v.map_or("n/a".to_owned(), number)));
            if i > 0 {
                let r = match (v, base_value) {
                    (Some(v), Some(b)) if *ratio && b != 0.0 => format!("{:.2}x", v / b),
                    _ => String::new(),
                };
                line.push_str(&format!("{r:>9}"));
            }
        }
        println!("{line}");
    }
    for row in rows {
        println!("N={}: {}", row.waiters, row.note);
    }
    let permits = kind.permits();
    println!(
        "COLLAPSED: under 1 grant/s, or an acquire timed out, in the window.\n\
         hand-off: the k-th release call to return (all processes, wall clock SystemTime ns)\n  \
         is paired with the grant of the (k+{permits})-th lowest fencing token (each release frees\n  \
         one slot; the first {permits} grants took free ones); value = that acquire's return minus\n  \
         the release's return (negative: the acquire returned first).\n\
         holders at once: holds run from an acquire's return to its release call's start.\n\
         tokens: unique, and above every token returned before the acquire began.\n\
         etcd put bytes: etcd_debugging_mvcc_total_put_size_in_bytes (keys+values put); WAL:\n  \
         etcd_disk_wal_write_bytes_total; db: etcd_mvcc_db_total_size[_in_use]_in_bytes.\n\
         watch: apiserver_watch_events_total and apiserver_watch_events_sizes_sum, group {GROUP}.\n\
         CPU: utime+stime of the pids in .cache/cluster/state. Priority is not used: see the waits."
    );
}
