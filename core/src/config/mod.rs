//! Where the API server is and how to reach it: loaded from kubeconfig, from
//! the in-cluster service account, or set explicitly, and turned into a
//! ureq agent.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod credentials;
mod exec_plugin;
mod in_cluster;
mod kubeconfig;
mod proxy;
mod tls;

pub(crate) use credentials::Credentials;
use kubeconfig::Kubeconfig;
use proxy::redact_userinfo;
use tls::{Pem, Tls};

use crate::error::{Error, Result};

/// Where Kubernetes mounts the service account of a pod.
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Namespace used when no configuration source names one.
const DEFAULT_NAMESPACE: &str = "default";

/// Time allowed for DNS, TCP, proxy negotiation and the TLS handshake.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle keep-alive connections kept per host; many threads share one agent.
const MAX_IDLE_PER_HOST: usize = 64;

/// How long an idle keep-alive connection is kept (Go's `IdleConnTimeout`).
const MAX_IDLE_AGE: Duration = Duration::from_secs(90);

/// The `User-Agent` of every request.
const USER_AGENT: &str = concat!("konductor/", env!("CARGO_PKG_VERSION"));

/// Reads one environment variable; tests pass their own.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, ignoring empty and non-UTF-8 values.
fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// How to reach and authenticate to one Kubernetes API server.
///
/// Build it with [`Config::infer`] (what client-go does), from a kubeconfig,
/// for the in-cluster service account, or from an explicit server URL with the
/// `with_*` setters. Cloning is cheap and clones share cached credentials.
/// `Debug` output never contains a token, password or private key.
#[derive(Clone)]
pub struct Config {
    /// Base URL without a trailing slash.
    server: String,
    namespace: String,
    tls: Tls,
    /// Explicit proxy (kubeconfig `proxy-url` or [`Config::with_proxy`]);
    /// `None` means the proxy environment variables decide.
    proxy: Option<String>,
    credentials: Credentials,
    /// Where this configuration came from, for `Debug`.
    origin: String,
}

impl Config {
    /// client-go's order: in-cluster when KUBERNETES_SERVICE_HOST/PORT are set and the SA token file exists, else kubeconfig from KUBECONFIG or ~/.kube/config.
    ///
    /// Fails when neither source is available or the chosen one is invalid.
    pub fn infer() -> Result<Config> {
        Config::infer_with(&process_env, Path::new(SERVICE_ACCOUNT_DIR))
    }

    /// KUBECONFIG (several paths joined by ':' merged with client-go's rules: first file that sets a map key wins, current-context from the first file that has one) or ~/.kube/config; `context` None = current-context.
    ///
    /// Fails when no file exists, a file is invalid, or the context is not found.
    pub fn from_kubeconfig_env(context: Option<&str>) -> Result<Config> {
        Config::from_kubeconfig_env_with(&process_env, context)
    }

    /// Loads one kubeconfig file and the named context (`None` = current-context).
    ///
    /// Fails when the file is missing or invalid, or the context is not found.
    pub fn from_kubeconfig(path: impl AsRef<Path>, context: Option<&str>) -> Result<Config> {
        let kubeconfig = Kubeconfig::load(&[path.as_ref().to_owned()], false)?;
        Config::from_loaded(&kubeconfig, context, &process_env)
    }

    /// Merges several kubeconfig files like `KUBECONFIG` does (missing files
    /// are skipped, the first definition of a name wins) and loads a context.
    ///
    /// Fails when none of the files exists, one is invalid, or the context is not found.
    pub fn from_kubeconfig_paths(paths: &[PathBuf], context: Option<&str>) -> Result<Config> {
        let kubeconfig = Kubeconfig::load(paths, true)?;
        Config::from_loaded(&kubeconfig, context, &process_env)
    }

    /// Service account: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (bracket IPv6), CA /var/run/secrets/kubernetes.io/serviceaccount/ca.crt, token file re-read when it changes (rotation), namespace file.
    ///
    /// Fails outside a pod (variables unset) or when the token or CA cannot be read.
    pub fn in_cluster() -> Result<Config> {
        Config::in_cluster_with(&process_env, Path::new(SERVICE_ACCOUNT_DIR))
    }

    /// The one rule every binding follows: the kubeconfig file at `path`
    /// when given; else, when a `context` is named, the kubeconfig from
    /// `KUBECONFIG` or `~/.kube/config`; else [`Config::infer`] (in-cluster
    /// first). `context` `None` means the kubeconfig's current-context.
    ///
    /// Fails as the chosen source does.
    pub fn load(path: Option<&Path>, context: Option<&str>) -> Result<Config> {
        match (path, context) {
            (Some(path), context) => Config::from_kubeconfig(path, context),
            (None, Some(context)) => Config::from_kubeconfig_env(Some(context)),
            (None, None) => Config::infer(),
        }
    }

    /// Explicit server URL ("https://127.0.0.1:6443"); no auth, system roots.
    ///
    /// Fails when `server` is not an http(s) URL with a host.
    pub fn new(server: &str) -> Result<Config> {
        Ok(Config {
            server: normalize_server(server, "server URL")?,
            namespace: fallback_namespace(&process_env),
            tls: Tls::default(),
            proxy: None,
            credentials: Credentials::none(),
            origin: "explicit".to_owned(),
        })
    }

    /// Sets the default namespace for namespaced calls.
    pub fn with_namespace(mut self, ns: &str) -> Self {
        self.namespace = ns.to_owned();
        self
    }

    /// Authenticates with this bearer token (replaces any other credential).
    pub fn with_token(mut self, token: &str) -> Self {
        self.credentials = Credentials::bearer(token);
        self
    }

    /// Authenticates with the bearer token in this file, re-read when it
    /// changes (replaces any other credential).
    pub fn with_token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.credentials = Credentials::token_file(path.into(), None);
        self
    }

    /// Trusts only the CA certificates in this PEM bundle; a bad bundle is
    /// reported when the client connects.
    pub fn with_ca_pem(mut self, pem: &[u8]) -> Self {
        self.tls.ca = Some(Pem::new(pem, "CA given to Config::with_ca_pem"));
        self
    }

    /// Authenticates with this client certificate chain and private key (both
    /// PEM); a bad or mismatched pair is reported when the client connects.
    pub fn with_client_cert_pem(mut self, cert: &[u8], key: &[u8]) -> Self {
        self.tls.client = Some((
            Pem::new(
                cert,
                "client certificate given to Config::with_client_cert_pem",
            ),
            Pem::new(key, "client key given to Config::with_client_cert_pem"),
        ));
        self
    }

    /// Turns server certificate verification off (`true`) or on; dangerous.
    pub fn with_insecure_skip_tls_verify(mut self, yes: bool) -> Self {
        self.tls.insecure = yes;
        self
    }

    /// Sends every request through this HTTP(S) proxy, ignoring the proxy
    /// environment variables.
    pub fn with_proxy(mut self, url: &str) -> Self {
        self.proxy = Some(url.to_owned());
        self
    }

    /// The API server's base URL, without a trailing slash.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The default namespace: set explicitly, else from the kubeconfig context
    /// or service account, else `POD_NAMESPACE`, else `"default"`.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// A ureq agent for this server: TLS and client certificate as configured,
    /// the configured or environment proxy, 4xx/5xx returned as responses, a
    /// connect timeout, no overall timeout, and a keep-alive pool sized for
    /// many threads.
    pub(crate) fn agent(&self) -> Result<ureq::Agent> {
        let tls = self.tls.to_ureq()?;
        let proxy = self.proxy(&process_env)?;
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .proxy(proxy)
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .max_idle_connections(4 * MAX_IDLE_PER_HOST)
            .max_idle_connections_per_host(MAX_IDLE_PER_HOST)
            .max_idle_age(MAX_IDLE_AGE)
            .user_agent(USER_AGENT)
            .build();
        Ok(ureq::Agent::new_with_config(config))
    }

    /// The source of the `Authorization` header; clones share its cache.
    pub(crate) fn credentials(&self) -> Credentials {
        self.credentials.clone()
    }

    fn infer_with(env: Env, sa_dir: &Path) -> Result<Config> {
        let in_pod =
            env("KUBERNETES_SERVICE_HOST").is_some() && env("KUBERNETES_SERVICE_PORT").is_some();
        if in_pod && sa_dir.join("token").is_file() {
            return Config::in_cluster_with(env, sa_dir);
        }
        let paths = kubeconfig_paths(env)?;
        if !paths.iter().any(|p| p.exists()) {
            let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            return Err(Error::config(format!(
                "no configuration found: not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset or no service account token) and no kubeconfig at {}",
                paths.join(":")
            )));
        }
        Config::from_loaded(&Kubeconfig::load(&paths, true)?, None, env)
    }

    fn from_kubeconfig_env_with(env: Env, context: Option<&str>) -> Result<Config> {
        let kubeconfig = Kubeconfig::load(&kubeconfig_paths(env)?, true)?;
        Config::from_loaded(&kubeconfig, context, env)
    }

    fn from_loaded(kubeconfig: &Kubeconfig, context: Option<&str>, env: Env) -> Result<Config> {
        let resolved = kubeconfig.resolve(context)?;
        Ok(Config {
            server: normalize_server(&resolved.server, &resolved.server_origin)?,
            namespace: resolved
                .namespace
                .unwrap_or_else(|| fallback_namespace(env)),
            tls: resolved.tls,
            proxy: resolved.proxy_url,
            credentials: resolved.credentials,
            origin: resolved.origin,
        })
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("server", &self.server)
            .field("namespace", &self.namespace)
            .field("origin", &self.origin)
            .field("tls", &self.tls)
            .field("proxy", &self.proxy.as_deref().map(redact_userinfo))
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// The files named by `KUBECONFIG`, else `~/.kube/config`.
fn kubeconfig_paths(env: Env) -> Result<Vec<PathBuf>> {
    if let Some(list) = env("KUBECONFIG") {
        return Ok(std::env::split_paths(&OsString::from(list)).collect());
    }
    let home = ["HOME", "USERPROFILE"]
        .iter()
        .find_map(|var| env(var))
        .ok_or_else(|| {
            Error::config("cannot find the kubeconfig: neither KUBECONFIG nor HOME is set")
        })?;
    Ok(vec![Path::new(&home).join(".kube").join("config")])
}

/// `POD_NAMESPACE` (set through the downward API), else `default`.
pub(super) fn fallback_namespace(env: Env) -> String {
    env("POD_NAMESPACE").unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned())
}

/// Checks a server URL and removes trailing slashes; a URL without a scheme
/// gets `https://`, as in client-go. `what` names its source in errors.
pub(super) fn normalize_server(raw: &str, what: &str) -> Result<String> {
    let raw = raw.trim();
    let url = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    };
    let invalid = |why: &str| Error::config(format!("{what} {raw:?} {why}"));
    let uri: ureq::http::Uri = url.parse().map_err(|_| invalid("is not a valid URL"))?;
    if !matches!(uri.scheme_str(), Some("https" | "http")) {
        return Err(invalid("must start with https:// or http://"));
    }
    if uri.host().map_or(true, str::is_empty) {
        return Err(invalid("has no host"));
    }
    if uri.query().is_some() {
        return Err(invalid("must not have a query"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::exec_plugin::tests::temp_dir;
    use std::collections::HashMap;

    pub(crate) const CA: &[u8] = include_bytes!("../../tests/fixtures/ca.crt");
    const CLIENT_CERT: &[u8] = include_bytes!("../../tests/fixtures/client.crt");
    const CLIENT_KEY: &[u8] = include_bytes!("../../tests/fixtures/client.key");

    /// An environment made of exactly these variables.
    pub(crate) fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    pub(crate) fn message(result: Result<impl fmt::Debug>) -> String {
        match result {
            Err(Error::Config { message, .. }) => message,
            other => panic!("expected a Config error, got {other:?}"),
        }
    }

    /// A service account directory like the one Kubernetes mounts.
    pub(crate) fn service_account(namespace: Option<&str>) -> PathBuf {
        let dir = temp_dir("service-account");
        std::fs::write(dir.join("token"), "sa-token-1\n").unwrap();
        std::fs::write(dir.join("ca.crt"), CA).unwrap();
        if let Some(ns) = namespace {
            std::fs::write(dir.join("namespace"), ns).unwrap();
        }
        dir
    }

    const SIMPLE_KUBECONFIG: &str =
        "current-context: x\nclusters:\n- name: c\n  cluster: {server: \"https://k:6443/\"}\n\
                                     users:\n- name: u\n  user: {token: kubeconfig-token}\n\
                                     contexts:\n- name: x\n  context: {cluster: c, user: u}\n";

    #[test]
    fn infer_prefers_in_cluster_when_the_token_exists() {
        let sa = service_account(None);
        let home = temp_dir("infer-home");
        std::fs::create_dir(home.join(".kube")).unwrap();
        std::fs::write(home.join(".kube/config"), SIMPLE_KUBECONFIG).unwrap();
        let home_str = home.to_str().unwrap();
        let in_pod = env(&[
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
            ("HOME", home_str),
        ]);
        assert_eq!(
            Config::infer_with(&in_pod, &sa).unwrap().server(),
            "https://10.0.0.1:443"
        );

        let no_token_dir = temp_dir("infer-no-sa");
        assert_eq!(
            Config::infer_with(&in_pod, &no_token_dir).unwrap().server(),
            "https://k:6443",
            "without a service account token the kubeconfig must be used"
        );
        let outside = env(&[("HOME", home_str)]);
        assert_eq!(
            Config::infer_with(&outside, &sa).unwrap().server(),
            "https://k:6443"
        );
    }

    #[test]
    fn infer_without_any_source_says_so() {
        let empty_home = temp_dir("infer-empty-home");
        let env = env(&[("HOME", empty_home.to_str().unwrap())]);
        let msg = message(Config::infer_with(&env, &temp_dir("infer-no-sa")));
        assert!(
            msg.starts_with("no configuration found: not running in a cluster"),
            "{msg}"
        );
        assert!(
            msg.ends_with(&format!(
                "no kubeconfig at {}",
                empty_home.join(".kube/config").display()
            )),
            "{msg}"
        );
    }

    #[test]
    fn kubeconfig_env_merges_the_listed_files() {
        let dir = temp_dir("kubeconfig-env");
        let a = dir.join("a");
        let b = dir.join("b");
        std::fs::write(
            &a,
            "contexts:\n- name: x\n  context: {cluster: c, namespace: from-a}\n",
        )
        .unwrap();
        std::fs::write(&b, SIMPLE_KUBECONFIG).unwrap();
        let list = std::env::join_paths([&a, &dir.join("missing"), &b]).unwrap();
        let env = env(&[
            ("KUBECONFIG", list.to_str().unwrap()),
            ("HOME", "/nonexistent"),
        ]);
        let config = Config::from_kubeconfig_env_with(&env, None).unwrap();
        assert_eq!(config.server(), "https://k:6443");
        assert_eq!(
            config.namespace(),
            "from-a",
            "the first file's context must win"
        );
        assert_eq!(
            config.credentials().authorization().unwrap(),
            None,
            "context x in file a names no user"
        );
    }

    #[test]
    fn kubeconfig_env_falls_back_to_home() {
        let home = temp_dir("kubeconfig-home");
        std::fs::create_dir(home.join(".kube")).unwrap();
        std::fs::write(home.join(".kube/config"), SIMPLE_KUBECONFIG).unwrap();
        let env = env(&[
            ("HOME", home.to_str().unwrap()),
            ("POD_NAMESPACE", "pod-ns"),
        ]);
        let config = Config::from_kubeconfig_env_with(&env, Some("x")).unwrap();
        assert_eq!(
            config.namespace(),
            "pod-ns",
            "no context namespace: POD_NAMESPACE applies"
        );
        assert_eq!(
            config.credentials().authorization().unwrap().as_deref(),
            Some("Bearer kubeconfig-token")
        );
        let msg = message(Config::from_kubeconfig_env_with(&env, Some("nope")));
        assert!(msg.ends_with("context \"nope\" not found"), "{msg}");
    }

    #[test]
    fn from_kubeconfig_requires_the_file() {
        let dir = temp_dir("kubeconfig-required");
        let msg = message(Config::from_kubeconfig(dir.join("absent"), None));
        assert!(
            msg.starts_with(&format!(
                "kubeconfig {}: cannot read",
                dir.join("absent").display()
            )),
            "{msg}"
        );
        std::fs::write(dir.join("present"), SIMPLE_KUBECONFIG).unwrap();
        let config = Config::from_kubeconfig(dir.join("present"), None).unwrap();
        assert_eq!(config.server(), "https://k:6443");
        let paths = [dir.join("absent"), dir.join("present")];
        assert_eq!(
            Config::from_kubeconfig_paths(&paths, Some("x"))
                .unwrap()
                .server(),
            "https://k:6443"
        );
    }

    #[test]
    fn explicit_settings_override_loaded_ones() {
        let dir = temp_dir("kubeconfig-override");
        std::fs::write(
            dir.join("config"),
            SIMPLE_KUBECONFIG.replace("user: u}", "user: u, namespace: ctx-ns}"),
        )
        .unwrap();
        let config = Config::from_kubeconfig(dir.join("config"), None).unwrap();
        assert_eq!(config.namespace(), "ctx-ns");
        let config = config
            .with_namespace("explicit")
            .with_token("explicit-token");
        assert_eq!(config.namespace(), "explicit");
        assert_eq!(
            config.credentials().authorization().unwrap().as_deref(),
            Some("Bearer explicit-token")
        );
    }

    #[test]
    fn server_urls_are_checked_and_normalized() {
        for (given, normalized) in [
            ("https://127.0.0.1:6443/", "https://127.0.0.1:6443"),
            ("https://h/prefix/", "https://h/prefix"),
            ("k8s.local:6443", "https://k8s.local:6443"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ] {
            assert_eq!(Config::new(given).unwrap().server(), normalized, "{given}");
        }
        for bad in [
            "",
            "ftp://host",
            "https://",
            "https://h/?x=1",
            "https://bad host",
        ] {
            assert!(Config::new(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn new_has_no_auth_and_system_roots() {
        let config = Config::new("https://127.0.0.1:6443").unwrap();
        assert_eq!(config.credentials().authorization().unwrap(), None);
        let agent = config.agent().unwrap();
        assert!(matches!(
            agent.config().tls_config().root_certs(),
            ureq::tls::RootCerts::WebPki
        ));
        assert!(!agent.config().tls_config().disable_verification());
    }

    #[test]
    fn agent_is_configured_for_the_api_server() {
        let config = Config::new("https://127.0.0.1:6443")
            .unwrap()
            .with_ca_pem(CA)
            .with_client_cert_pem(CLIENT_CERT, CLIENT_KEY);
        let agent = config.agent().expect("valid PEM must give an agent");
        let c = agent.config();
        assert!(
            !c.http_status_as_error(),
            "4xx/5xx bodies must reach the caller"
        );
        assert!(c.max_idle_connections_per_host() >= 64);
        assert!(c.max_idle_connections() >= c.max_idle_connections_per_host());
        assert_eq!(c.timeouts().connect, Some(CONNECT_TIMEOUT));
        assert_eq!(c.timeouts().global, None, "watches are long-lived");
        assert!(c.proxy().is_none(), "loopback is never proxied");
        assert!(
            matches!(c.tls_config().root_certs(), ureq::tls::RootCerts::Specific(roots) if roots.len() == 1)
        );
        assert!(c.tls_config().client_cert().is_some());
    }

    #[test]
    fn agent_reports_bad_pem_given_to_the_builder() {
        let config = Config::new("https://127.0.0.1:6443")
            .unwrap()
            .with_ca_pem(b"garbage");
        assert_eq!(
            message(config.agent()),
            "CA given to Config::with_ca_pem: contains no PEM certificate"
        );
        let config = Config::new("https://127.0.0.1:6443")
            .unwrap()
            .with_ca_pem(CA)
            .with_insecure_skip_tls_verify(true);
        assert!(message(config.agent()).contains("insecure-skip-tls-verify"));
        let insecure = Config::new("https://127.0.0.1:6443")
            .unwrap()
            .with_insecure_skip_tls_verify(true);
        assert!(insecure
            .agent()
            .unwrap()
            .config()
            .tls_config()
            .disable_verification());
    }

    #[test]
    fn debug_redacts_every_secret() {
        let basic_dir = temp_dir("debug-basic");
        std::fs::write(
            basic_dir.join("config"),
            "current-context: x\nclusters:\n- name: c\n  cluster: {server: \"https://k\"}\n\
             users:\n- name: u\n  user:\n    username: admin\n    password: hunter2-password\n\
             - name: e\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: plugin\n      \
             args: [--secret-arg]\n      env: [{name: SECRET_ENV, value: env-secret-value}]\n\
             contexts:\n- name: x\n  context: {cluster: c, user: u}\n- name: y\n  context: {cluster: c, user: e}\n",
        )
        .unwrap();
        let configs = [
            Config::new("https://k")
                .unwrap()
                .with_token("token-secret-value")
                .with_client_cert_pem(CLIENT_CERT, CLIENT_KEY)
                .with_proxy("http://user:proxy-secret@proxy:3128"),
            Config::from_kubeconfig(basic_dir.join("config"), None).unwrap(),
            Config::from_kubeconfig(basic_dir.join("config"), Some("y")).unwrap(),
        ];
        for config in configs {
            let debug = format!("{config:?} {config:#?}");
            for secret in [
                "token-secret",
                "hunter2",
                "aHVudGVy",
                "PRIVATE",
                "proxy-secret",
                "secret-arg",
                "env-secret",
            ] {
                assert!(!debug.contains(secret), "Debug shows {secret:?}: {debug}");
            }
            assert!(debug.contains("https://k"), "{debug}");
        }
    }

    #[test]
    fn config_is_send_sync_and_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<Config>();
        assert_traits::<Credentials>();
    }

    #[test]
    fn load_takes_the_named_file_first() {
        let dir = temp_dir("load");
        let path = dir.join("config");
        std::fs::write(&path, SIMPLE_KUBECONFIG).unwrap();
        let config = Config::load(Some(&path), None).unwrap();
        assert_eq!(config.server(), "https://k:6443");
        let missing = dir.join("missing");
        let text = message(Config::load(Some(&missing), Some("x")));
        assert!(text.contains("missing"), "{text}");
    }
}
