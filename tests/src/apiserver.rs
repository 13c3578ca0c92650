//! A second kube-apiserver on the local control plane's etcd, that a test kills and starts again like a restart of the API server its clients talk to.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use konductor::Client;

use crate::cluster::{cluster, repo};
use crate::kubeconfig::admin_config;

/// How long a start may take before the test gives up on it.
const READY_WITHIN: Duration = Duration::from_secs(90);

/// The second API server; killed when dropped.
pub struct SecondApiserver {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    port: u16,
    cert_dir: PathBuf,
    log: PathBuf,
    child: Mutex<Child>,
}

impl SecondApiserver {
    /// Starts one on a free loopback port and waits until it serves the
    /// Konductor resources; None unless the tests run on the local control
    /// plane (whose etcd and certificates it shares).
    pub fn start() -> Option<SecondApiserver> {
        cluster().pki.as_ref()?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let dir = repo().join(format!(".cache/cluster/state/apiserver-{port}"));
        let log = repo().join(format!(".cache/cluster/logs/kube-apiserver-{port}.log"));
        let cert_dir = dir.join("certs");
        std::fs::create_dir_all(&cert_dir).expect("the second API server's directory");
        let child = spawn(port, &cert_dir, &log);
        let apiserver = SecondApiserver {
            url: format!("https://127.0.0.1:{port}"),
            port,
            cert_dir,
            log,
            child: Mutex::new(child),
        };
        apiserver.wait_ready();
        Some(apiserver)
    }

    /// An admin client of `namespace` that talks to this API server.
    pub fn client(&self, namespace: &str) -> Client {
        let config = admin_config(&self.url, namespace).expect("the local CA and admin token");
        Client::new(Some(config)).expect("client of the second API server")
    }

    /// Kills the API server (SIGKILL, like a crash) and starts it again on
    /// the same port; returns once it runs, not once it is ready: clients
    /// meet refused connections, then 429/503 while it starts.
    pub fn restart(&self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
        *child = spawn(self.port, &self.cert_dir, &self.log);
    }

    /// Waits until a list of semaphores succeeds; panics after [`READY_WITHIN`].
    pub fn wait_ready(&self) {
        let client = self.client("default");
        let give_up = Instant::now() + READY_WITHIN;
        loop {
            match client.list_semaphores() {
                Ok(_) => return,
                Err(error) if Instant::now() > give_up => panic!(
                    "the second API server on port {} is not ready after {READY_WITHIN:?}: {error} (log: {})",
                    self.port,
                    self.log.display()
                ),
                Err(_) => thread::sleep(Duration::from_millis(200)),
            }
        }
    }
}

impl Drop for SecondApiserver {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Runs `tests/cluster/apiserver` (which execs kube-apiserver), its output
/// appended to `log`.
fn spawn(port: u16, cert_dir: &std::path::Path, log: &std::path::Path) -> Child {
    let output = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("the second API server's log");
    Command::new(repo().join("tests/cluster/apiserver"))
        .arg(port.to_string())
        .arg(cert_dir)
        .stdin(Stdio::null())
        .stdout(output.try_clone().expect("log handle"))
        .stderr(output)
        .spawn()
        .expect("start the second API server")
}
