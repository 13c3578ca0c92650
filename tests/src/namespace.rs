//! A namespace of its own for each test, so that tests run in parallel.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use konductor::{Client, Config};

use crate::cluster::{cluster, kubectl, kubectl_as};

/// A namespace that exists for one test and is deleted when dropped.
pub struct Namespace {
    /// Its name, `kt-<prefix>-<pid>-<n>`.
    pub name: String,
}

impl Namespace {
    /// Creates `kt-<prefix>-<pid>-<n>` as admin; panics when kubectl fails.
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

    /// The reasons of the events in this namespace, space-separated, as kubectl prints them.
    pub fn event_reasons(&self) -> String {
        kubectl(&[
            "-n",
            &self.name,
            "get",
            "events",
            "-o",
            "jsonpath={.items[*].reason}",
        ])
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // Best effort: a test that failed still tries to clean up, and a
        // namespace left behind only costs the control plane a little.
        let _ = kubectl_as(
            &cluster().admin,
            &["delete", "namespace", &self.name, "--wait=false"],
        );
    }
}

/// A client from `kubeconfig` (its current context) working in `namespace`; panics when it cannot be loaded.
pub fn client_from(kubeconfig: &Path, namespace: &str) -> Client {
    let config = Config::from_kubeconfig(kubeconfig, None)
        .unwrap_or_else(|e| panic!("cannot load {}: {e}", kubeconfig.display()))
        .with_namespace(namespace);
    Client::new(Some(config)).expect("client from the test kubeconfig")
}
