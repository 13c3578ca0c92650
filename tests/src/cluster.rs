//! The control plane the tests run against, and kubectl as its admin.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

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

/// The root of the repository.
pub fn repo() -> PathBuf {
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

/// Runs kubectl with `kubeconfig`; returns whether it succeeded, its stdout and its stderr.
pub fn kubectl_as(kubeconfig: &Path, args: &[&str]) -> (bool, String, String) {
    let kubectl = &cluster().kubectl;
    let output = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {kubectl}: {e}"));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs kubectl as admin and returns its stdout; panics with its stderr when it fails.
pub fn kubectl(args: &[&str]) -> String {
    let (ok, stdout, stderr) = kubectl_as(&cluster().admin, args);
    assert!(ok, "kubectl {} failed: {stderr}", args.join(" "));
    stdout
}
