//! The operator as a separate process for the operator tests: started from
//! the binary that `cargo test --workspace` builds (the operator package has
//! integration tests, so cargo builds its binary), scoped to one test's
//! namespace, logging to a file, and killed when dropped (also on panic).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use crate::cluster::cluster;
use crate::namespace::Namespace;
use crate::serial::one_at_a_time;

/// How long a replica's leader lease lasts with the flags of [`leader_election`].
pub const LEASE_DURATION: Duration = Duration::from_secs(3);

/// The flags that make a replica elect a leader through a lease in
/// `lease_namespace`, timed for tests: a lease of [`LEASE_DURATION`], a renew
/// deadline of 2 s and a retry every 250 ms.
pub fn leader_election(lease_namespace: &str) -> [&str; 9] {
    [
        "--leader-election",
        "--leader-election-namespace",
        lease_namespace,
        "--lease-duration",
        "3s",
        "--renew-deadline",
        "2s",
        "--retry-period",
        "250ms",
    ]
}

/// Sets up an operator test: waits until no other timing test runs
/// ([`one_at_a_time`]), creates a namespace `kt-<prefix>-…` and starts an
/// operator watching it. Keep the three for the whole test: bound as a tuple
/// they drop in reverse, stopping the operator before its namespace goes.
pub fn operated(prefix: &str) -> (MutexGuard<'static, ()>, Namespace, Operator) {
    let serial = one_at_a_time();
    let ns = Namespace::new(prefix);
    let operator = Operator::start(&ns.name, &[]);
    (serial, ns, operator)
}

/// A running `konductor-operator`.
pub struct Operator {
    child: Child,
    /// `127.0.0.1:<port>` of its metrics endpoint.
    pub metrics_addr: String,
    /// Where its log goes.
    pub log: PathBuf,
}

/// The operator binary next to this test binary (`target/<profile>/`).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test binary");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binary lives in target/<profile>/deps");
    let path = profile_dir.join(format!(
        "konductor-operator{}",
        std::env::consts::EXE_SUFFIX
    ));
    assert!(
        path.exists(),
        "{} is missing; build it with `cargo build -p konductor-operator` \
         (`cargo test --workspace` does)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl Operator {
    /// Starts an operator for `namespace` with extra flags, as the admin user.
    pub fn start(namespace: &str, extra: &[&str]) -> Operator {
        Self::start_with(&cluster().admin, namespace, extra)
    }

    /// Starts an operator for `namespace` authenticating with `kubeconfig`.
    pub fn start_with(kubeconfig: &Path, namespace: &str, extra: &[&str]) -> Operator {
        let metrics_addr = format!("127.0.0.1:{}", free_port());
        let logs = binary().parent().expect("target dir").join("operator-logs");
        std::fs::create_dir_all(&logs).expect("create the operator log directory");
        let log = logs.join(format!(
            "{namespace}-{}.log",
            metrics_addr.rsplit(':').next().unwrap_or("0")
        ));
        let log_file = std::fs::File::create(&log).expect("create the operator log");
        let child = Command::new(binary())
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["--namespaces", namespace])
            .args(["--metrics-addr", &metrics_addr])
            .args(["--log-level", "info,konductor_operator=debug"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("start konductor-operator");
        let operator = Operator {
            child,
            metrics_addr,
            log,
        };
        operator.wait_ready(Duration::from_secs(20));
        operator
    }

    /// Waits until `/readyz` answers 200.
    pub fn wait_ready(&self, limit: Duration) {
        let started = Instant::now();
        while !self
            .get("/readyz")
            .is_some_and(|r| r.starts_with("HTTP/1.1 200"))
        {
            assert!(
                started.elapsed() < limit,
                "operator not ready within {limit:?}; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One HTTP GET of the metrics endpoint; None when it does not answer.
    pub fn get(&self, path: &str) -> Option<String> {
        let mut stream = TcpStream::connect(&self.metrics_addr).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: operator\r\n\r\n").ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        Some(answer)
    }

    /// The value of one metric sample line (`name{labels}`), if exposed.
    pub fn metric(&self, sample: &str) -> Option<f64> {
        let text = self.get("/metrics")?;
        text.lines()
            .find_map(|l| l.strip_prefix(sample)?.trim().parse().ok())
    }

    /// True while this replica holds the leader lease (or runs without election).
    pub fn is_leader(&self) -> bool {
        self.metric("konductor_leader") == Some(1.0)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything it logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills it with SIGKILL (no chance to release anything) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks it to stop with SIGTERM and waits up to `limit` for it to exit.
    pub fn terminate(&mut self, limit: Duration) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.kill();
    }
}
