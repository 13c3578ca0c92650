//! What the core integration tests share: the control plane, a namespace per
//! test, clients for the admin and worker users, and admin-side writes.
#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use konductor::{Client, Config};

/// Where the control plane is and how to administer it.
pub struct Cluster {
    /// Kubeconfig of a user that may do anything.
    pub admin: PathBuf,
    /// Kubeconfig of the `worker` user (no rights of its own); only for the local control plane.
    pub worker: Option<PathBuf>,
    /// kubectl to run admin commands with.
    pub kubectl: String,
    /// The local control plane's certificate directory (CA key included), if this is it.
    pub pki: Option<PathBuf>,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// The control plane: `KONDUCTOR_TEST_KUBECONFIG`, else the local one, started by `tests/cluster/up` if needed.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        if let Some(path) = std::env::var_os("KONDUCTOR_TEST_KUBECONFIG").filter(|p| !p.is_empty())
        {
            return Cluster {
                admin: PathBuf::from(path),
                worker: None,
                kubectl: std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_owned()),
                pki: None,
            };
        }
        let up = repo().join("tests/cluster/up");
        let output = Command::new(&up)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", up.display()));
        assert!(
            output.status.success(),
            "{} failed ({}):\n{}",
            up.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let admin = PathBuf::from(
            stdout
                .lines()
                .last()
                .expect("cluster/up printed the admin kubeconfig path")
                .trim(),
        );
        let cache = admin
            .parent()
            .expect("kubeconfig is in a directory")
            .to_owned();
        let env = std::fs::read_to_string(cache.join("env")).unwrap_or_default();
        let kubectl = env
            .lines()
            .find_map(|l| l.strip_prefix("KUBECTL="))
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_else(|| "kubectl".to_owned());
        let worker = Some(cache.join("worker.kubeconfig")).filter(|p| p.exists());
        let pki = Some(cache.join("state/pki")).filter(|p| p.join("ca.key").exists());
        Cluster {
            admin,
            worker,
            kubectl,
            pki,
        }
    })
}

/// Runs kubectl as admin; panics with its output when it fails.
pub fn kubectl(args: &[&str]) -> String {
    let cluster = cluster();
    let output = Command::new(&cluster.kubectl)
        .arg("--kubeconfig")
        .arg(&cluster.admin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", cluster.kubectl));
    assert!(
        output.status.success(),
        "kubectl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A namespace that exists for one test and is deleted when dropped.
pub struct Namespace {
    pub name: String,
}

impl Namespace {
    /// Creates `kt-<prefix>-<pid>-<n>` as admin.
    pub fn new(prefix: &str) -> Namespace {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let prefix: String = prefix.chars().take(30).collect();
        let name = format!(
            "kt-{prefix}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        kubectl(&["create", "namespace", &name]);
        Namespace { name }
    }

    /// A client of the admin user in this namespace.
    pub fn admin(&self) -> Client {
        client_from(&cluster().admin, &self.name)
    }

    /// Lets the `worker` user use the primitives in this namespace and
    /// returns its client; None when the cluster has no worker user.
    pub fn worker(&self) -> Option<Client> {
        let worker = cluster().worker.as_ref()?;
        kubectl(&[
            "-n",
            &self.name,
            "create",
            "rolebinding",
            "worker-konductor-client",
            "--clusterrole=konductor-client",
            "--user=worker",
        ]);
        Some(client_from(worker, &self.name))
    }

    /// Merge-patches the status of `kind/name` as admin, like the operator would.
    pub fn patch_status(&self, kind: &str, name: &str, patch: &str) {
        kubectl(&[
            "-n",
            &self.name,
            "patch",
            &format!("{kind}.sync.konductor.io"),
            name,
            "--subresource=status",
            "--type=merge",
            "-p",
            patch,
        ]);
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new(&cluster().kubectl)
            .arg("--kubeconfig")
            .arg(&cluster().admin)
            .args(["delete", "namespace", &self.name, "--wait=false"])
            .output();
    }
}

/// A client from `kubeconfig` (its current context) working in `namespace`.
pub fn client_from(kubeconfig: &Path, namespace: &str) -> Client {
    let config = Config::from_kubeconfig(kubeconfig, None)
        .unwrap_or_else(|e| panic!("cannot load {}: {e}", kubeconfig.display()))
        .with_namespace(namespace);
    Client::new(Some(config)).expect("client from the test kubeconfig")
}

/// Polls `condition` every 10 ms until it holds; panics with `what` after `limit`.
pub fn eventually(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < limit,
            "expected {what} within {limit:?}, it did not happen"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    started.elapsed()
}

/// Milliseconds of a duration, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Retries `attempt` every 100 ms until it succeeds; panics with the last error after `limit`.
pub fn eventually_ok<T, E: std::fmt::Debug>(
    limit: Duration,
    mut attempt: impl FnMut() -> Result<T, E>,
) -> T {
    let started = Instant::now();
    loop {
        match attempt() {
            Ok(value) => return value,
            Err(error) if started.elapsed() >= limit => {
                panic!("still failing after {limit:?}: {error:?}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// The pieces of the admin kubeconfig's current context that config tests rebuild kubeconfigs from.
pub struct AdminAccess {
    /// API server URL.
    pub server: String,
    /// CA bundle (PEM), if the kubeconfig has one.
    pub ca_pem: Option<Vec<u8>>,
    /// Bearer token, if the admin user authenticates with one.
    pub token: Option<String>,
}

/// Reads the admin kubeconfig's current context (server, CA, token).
pub fn admin_access() -> AdminAccess {
    use base64::Engine;
    let path = &cluster().admin;
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).expect("admin kubeconfig is YAML");
    let current = doc["current-context"].as_str().expect("current-context");
    let named = |list: &str, name: &str, field: &str| -> serde_yaml_ng::Value {
        doc[list]
            .as_sequence()
            .and_then(|items| items.iter().find(|i| i["name"].as_str() == Some(name)))
            .map(|i| i[field].clone())
            .unwrap_or_else(|| panic!("{list} entry {name:?} not found in {}", path.display()))
    };
    let context = named("contexts", current, "context");
    let cluster_entry = named(
        "clusters",
        context["cluster"].as_str().expect("context.cluster"),
        "cluster",
    );
    let user = named(
        "users",
        context["user"].as_str().expect("context.user"),
        "user",
    );
    let ca_pem = match (
        cluster_entry["certificate-authority-data"].as_str(),
        cluster_entry["certificate-authority"].as_str(),
    ) {
        (Some(data), _) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .expect("CA data is base64"),
        ),
        (None, Some(file)) => {
            let file = path.parent().expect("directory").join(file);
            Some(
                std::fs::read(&file)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display())),
            )
        }
        (None, None) => None,
    };
    AdminAccess {
        server: cluster_entry["server"]
            .as_str()
            .expect("cluster.server")
            .to_owned(),
        ca_pem,
        token: user["token"].as_str().map(str::to_owned),
    }
}

/// The CA bundle of the test cluster, if its kubeconfig names one.
pub fn cluster_ca() -> Option<Vec<u8>> {
    admin_access().ca_pem
}

/// An HTTP CONNECT proxy on loopback that tests can cut: `block` severs every
/// open tunnel and refuses new ones until `unblock`, like a network partition
/// between one client and the API server.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`, for `Config::with_proxy` or `proxy-url`.
    pub url: String,
    tunnels: std::sync::Arc<AtomicU32>,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
    blocked: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Proxy {
    /// Starts the proxy on a free loopback port.
    pub fn start() -> Proxy {
        use std::io::{BufRead, BufReader, Write};
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let proxy = Proxy {
            url: format!("http://{}", listener.local_addr().expect("proxy address")),
            tunnels: Default::default(),
            open: Default::default(),
            blocked: Default::default(),
        };
        let (tunnels, open, blocked) = (
            proxy.tunnels.clone(),
            proxy.open.clone(),
            proxy.blocked.clone(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if blocked.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection close
                }
                let (tunnels, open) = (tunnels.clone(), open.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(client.try_clone().ok()?);
                    let mut request = String::new();
                    reader.read_line(&mut request).ok()?;
                    let target = request
                        .strip_prefix("CONNECT ")?
                        .split_whitespace()
                        .next()?
                        .to_owned();
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).ok()?;
                        if header.trim().is_empty() {
                            break;
                        }
                    }
                    let upstream = TcpStream::connect(&target).ok()?;
                    // Forward each TLS record at once, as a router would.
                    client.set_nodelay(true).ok()?;
                    upstream.set_nodelay(true).ok()?;
                    tunnels.fetch_add(1, Ordering::SeqCst);
                    {
                        let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
                        open.push(client.try_clone().ok()?);
                        open.push(upstream.try_clone().ok()?);
                    }
                    let mut client_out = client.try_clone().ok()?;
                    client_out
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .ok()?;
                    let mut upstream_in = upstream.try_clone().ok()?;
                    std::thread::spawn(move || std::io::copy(&mut upstream_in, &mut client_out));
                    let (mut client_in, mut upstream_out) = (client, upstream);
                    std::io::copy(&mut client_in, &mut upstream_out).ok()
                });
            }
        });
        proxy
    }

    /// Number of tunnels opened so far.
    pub fn tunnels(&self) -> u32 {
        self.tunnels.load(Ordering::SeqCst)
    }

    /// Cuts every open tunnel and refuses new connections.
    pub fn block(&self) {
        self.blocked.store(true, Ordering::SeqCst);
        for stream in self
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Accepts connections again.
    pub fn unblock(&self) {
        self.blocked.store(false, Ordering::SeqCst);
    }
}

/// An admin client of `namespace` whose every request goes through `proxy`.
pub fn client_through(proxy: &Proxy, namespace: &str) -> Option<Client> {
    let access = admin_access();
    let config = Config::new(&access.server)
        .expect("server URL")
        .with_ca_pem(access.ca_pem.as_ref()?)
        .with_token(access.token.as_ref()?)
        .with_proxy(&proxy.url)
        .with_namespace(namespace);
    Some(Client::new(Some(config)).expect("client through the proxy"))
}
