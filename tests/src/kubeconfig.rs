//! The server, CA and bearer token of a kubeconfig's current context, for tests that build their own connections.

use std::path::Path;

use base64::Engine as _;
use konductor::Config;
use serde_yaml_ng::Value;

use crate::cluster::cluster;

/// How a kubeconfig's current context reaches the API server.
pub struct Access {
    /// API server URL, without a trailing `/`.
    pub server: String,
    /// CA bundle (PEM), if the kubeconfig has one.
    pub ca_pem: Option<Vec<u8>>,
    /// Bearer token (inline or from `tokenFile`), if the user authenticates with one.
    pub token: Option<String>,
}

/// Reads the current context of `kubeconfig`; panics when the file or an entry it names is missing.
pub fn access(kubeconfig: &Path) -> Access {
    let text = std::fs::read_to_string(kubeconfig)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", kubeconfig.display()));
    let doc: Value = serde_yaml_ng::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", kubeconfig.display()));
    let named = |list: &str, name: &Value, field: &str| -> Value {
        doc[list]
            .as_sequence()
            .and_then(|items| items.iter().find(|i| i["name"] == *name))
            .map(|i| i[field].clone())
            .unwrap_or_else(|| {
                panic!(
                    "{list} entry {name:?} not found in {}",
                    kubeconfig.display()
                )
            })
    };
    let context = named("contexts", &doc["current-context"], "context");
    let cluster_entry = named("clusters", &context["cluster"], "cluster");
    let user = named("users", &context["user"], "user");
    let read = |file: &str| {
        let path = kubeconfig.parent().unwrap_or(Path::new(".")).join(file);
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    };
    let ca_pem = match (
        cluster_entry["certificate-authority-data"].as_str(),
        cluster_entry["certificate-authority"].as_str(),
    ) {
        (Some(data), _) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .expect("CA data is base64"),
        ),
        (None, Some(file)) => Some(read(file)),
        (None, None) => None,
    };
    let token = match (user["token"].as_str(), user["tokenFile"].as_str()) {
        (Some(token), _) => Some(token.to_owned()),
        (None, Some(file)) => Some(String::from_utf8_lossy(&read(file)).trim().to_owned()),
        (None, None) => None,
    };
    Access {
        server: cluster_entry["server"]
            .as_str()
            .expect("cluster.server")
            .trim_end_matches('/')
            .to_owned(),
        ca_pem,
        token,
    }
}

/// Reads the admin kubeconfig's current context.
pub fn admin_access() -> Access {
    access(&cluster().admin)
}

/// A client configuration of `namespace` for the API server at `server`
/// (say, one behind a proxy, or a second one on the same etcd) with the
/// admin kubeconfig's CA and bearer token; None when it has no CA and token
/// to reuse.
pub fn admin_config(server: &str, namespace: &str) -> Option<Config> {
    let access = admin_access();
    let config = Config::new(server)
        .expect("server URL")
        .with_ca_pem(access.ca_pem.as_ref()?)
        .with_token(access.token.as_ref()?)
        .with_namespace(namespace);
    Some(config)
}
