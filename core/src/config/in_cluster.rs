//! In-cluster configuration: the pod's service account token, CA and namespace.

use std::path::Path;

use super::credentials::Credentials;
use super::tls::{Pem, Tls};
use super::{fallback_namespace, normalize_server, Config, Env};
use crate::error::{Error, Result};

impl Config {
    /// In-cluster configuration with the service account files under `sa_dir`.
    pub(crate) fn in_cluster_with(env: Env, sa_dir: &Path) -> Result<Config> {
        let (Some(host), Some(port)) = (
            env("KUBERNETES_SERVICE_HOST"),
            env("KUBERNETES_SERVICE_PORT"),
        ) else {
            return Err(Error::config(
                "in-cluster config: not running in a cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set)",
            ));
        };
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host
        };
        let server = normalize_server(
            &format!("https://{host}:{port}"),
            "in-cluster config: KUBERNETES_SERVICE_HOST/PORT",
        )?;

        let token = sa_dir.join("token");
        std::fs::read(&token).map_err(|e| {
            Error::config_with(
                format!(
                    "in-cluster config: cannot read service account token {}: {e}",
                    token.display()
                ),
                e,
            )
        })?;
        let ca = sa_dir.join("ca.crt");
        let ca_pem = std::fs::read(&ca).map_err(|e| {
            Error::config_with(
                format!("in-cluster config: cannot read {}: {e}", ca.display()),
                e,
            )
        })?;
        let tls = Tls {
            ca: Some(Pem::new(
                ca_pem,
                format!("in-cluster config: {}", ca.display()),
            )),
            ..Tls::default()
        };
        tls.check()?;
        let namespace = std::fs::read_to_string(sa_dir.join("namespace"))
            .ok()
            .map(|ns| ns.trim().to_owned())
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| fallback_namespace(env));
        Ok(Config {
            server,
            namespace,
            tls,
            proxy: None,
            credentials: Credentials::token_file(token, None),
            origin: format!("in-cluster service account {}", sa_dir.display()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{env, message, service_account, CA};

    /// The environment of a pod whose API server is at `host:port`.
    fn pod_env(host: &str, port: &str) -> impl Fn(&str) -> Option<String> {
        env(&[
            ("KUBERNETES_SERVICE_HOST", host),
            ("KUBERNETES_SERVICE_PORT", port),
        ])
    }

    #[test]
    fn in_cluster_reads_env_and_service_account_files() {
        let dir = service_account(Some("team-b\n"));
        let env = pod_env("10.96.0.1", "443");
        let config = Config::in_cluster_with(&env, &dir).unwrap();
        assert_eq!(config.server(), "https://10.96.0.1:443");
        assert_eq!(config.namespace(), "team-b");
        assert_eq!(config.tls.ca.as_ref().unwrap().bytes(), CA);
        assert_eq!(
            config.credentials().authorization().unwrap().as_deref(),
            Some("Bearer sa-token-1")
        );
    }

    #[test]
    fn in_cluster_picks_up_a_rotated_token() {
        let dir = service_account(None);
        let env = pod_env("10.96.0.1", "443");
        let credentials = Config::in_cluster_with(&env, &dir).unwrap().credentials();
        assert_eq!(
            credentials.authorization().unwrap().as_deref(),
            Some("Bearer sa-token-1")
        );
        // The kubelet swaps in a new file; its size and mtime differ.
        std::fs::write(dir.join("token.new"), "sa-token-rotated").unwrap();
        std::fs::rename(dir.join("token.new"), dir.join("token")).unwrap();
        assert_eq!(
            credentials.authorization().unwrap().as_deref(),
            Some("Bearer sa-token-rotated")
        );
    }

    #[test]
    fn in_cluster_brackets_ipv6_hosts() {
        let dir = service_account(None);
        let env = pod_env("fd00::1", "6443");
        assert_eq!(
            Config::in_cluster_with(&env, &dir).unwrap().server(),
            "https://[fd00::1]:6443"
        );
    }

    #[test]
    fn in_cluster_namespace_falls_back_to_pod_namespace_then_default() {
        let dir = service_account(None);
        let base = [
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
        ];
        let with_pod_ns = env(&[base[0], base[1], ("POD_NAMESPACE", "from-env")]);
        assert_eq!(
            Config::in_cluster_with(&with_pod_ns, &dir)
                .unwrap()
                .namespace(),
            "from-env"
        );
        assert_eq!(
            Config::in_cluster_with(&env(&base), &dir)
                .unwrap()
                .namespace(),
            "default"
        );
        let dir = service_account(Some("from-file"));
        assert_eq!(
            Config::in_cluster_with(&with_pod_ns, &dir)
                .unwrap()
                .namespace(),
            "from-file"
        );
    }

    #[test]
    fn in_cluster_errors_name_what_is_missing() {
        let dir = service_account(None);
        let msg = message(Config::in_cluster_with(&env(&[]), &dir));
        assert!(
            msg.contains("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set"),
            "{msg}"
        );

        let env = pod_env("10.0.0.1", "443");
        std::fs::remove_file(dir.join("ca.crt")).unwrap();
        let msg = message(Config::in_cluster_with(&env, &dir));
        assert!(
            msg.starts_with(&format!(
                "in-cluster config: cannot read {}",
                dir.join("ca.crt").display()
            )),
            "{msg}"
        );
        std::fs::remove_file(dir.join("token")).unwrap();
        let msg = message(Config::in_cluster_with(&env, &dir));
        assert!(msg.contains("cannot read service account token"), "{msg}");
    }
}
