//! Where the API server is and how to reach it: loaded from kubeconfig, from
//! the in-cluster service account, or set explicitly, and turned into a
//! ureq agent.

use std::ffi::OsString;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::kubeconfig::Kubeconfig;
use crate::tls::{Pem, Tls};

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
type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

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

    /// The proxy for requests to this server: the explicit one, else the
    /// environment's (Go's rules: `HTTPS_PROXY` or `HTTP_PROXY` by scheme,
    /// `NO_PROXY`, never for localhost or loopback addresses).
    fn proxy(&self, env: Env) -> Result<Option<ureq::Proxy>> {
        let (url, origin) = match &self.proxy {
            Some(url) => (url.clone(), "proxy-url".to_owned()),
            None => match env_proxy(&self.server, env) {
                Some((var, url)) => (url, var.to_owned()),
                None => return Ok(None),
            },
        };
        let invalid =
            |why: &str| Error::config(format!("{origin} {}: {why}", redact_userinfo(&url)));
        let proxy = ureq::Proxy::new(&url).map_err(|_| invalid("not a valid proxy URL"))?;
        if !matches!(
            proxy.protocol(),
            ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https
        ) {
            return Err(invalid("only http:// and https:// proxies are supported"));
        }
        Ok(Some(proxy))
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
fn fallback_namespace(env: Env) -> String {
    env("POD_NAMESPACE").unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned())
}

/// Checks a server URL and removes trailing slashes; a URL without a scheme
/// gets `https://`, as in client-go. `what` names its source in errors.
fn normalize_server(raw: &str, what: &str) -> Result<String> {
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

/// The proxy variable and URL that apply to `server`, if any.
fn env_proxy(server: &str, env: Env) -> Option<(&'static str, String)> {
    let uri: ureq::http::Uri = server.parse().ok()?;
    let https = uri.scheme_str() == Some("https");
    let vars: [&'static str; 2] = if https {
        ["HTTPS_PROXY", "https_proxy"]
    } else {
        ["HTTP_PROXY", "http_proxy"]
    };
    let (var, url) = vars
        .iter()
        .find_map(|var| env(var).map(|url| (*var, url)))?;
    let host = uri
        .host()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let no_proxy = env("NO_PROXY")
        .or_else(|| env("no_proxy"))
        .unwrap_or_default();
    if bypasses_proxy(&host, port, &no_proxy) {
        return None;
    }
    Some((var, url))
}

/// Go's `NO_PROXY` rules (golang.org/x/net/http/httpproxy): localhost and
/// loopback are never proxied; entries are `*`, IPs, CIDRs, `host`, `.host`,
/// `*.host`, each optionally with `:port`; `host` also covers subdomains.
fn bypasses_proxy(host: &str, port: u16, no_proxy: &str) -> bool {
    let ip: Option<IpAddr> = host.parse().ok();
    if host == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
        return true;
    }
    no_proxy
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .any(|entry| {
            if entry.is_empty() {
                return false;
            }
            if entry == "*" {
                return true;
            }
            if let Some((net, bits)) = entry.split_once('/') {
                return match (net.parse::<IpAddr>(), bits.parse::<u32>(), ip) {
                    (Ok(net), Ok(bits), Some(ip)) => cidr_contains(net, bits, ip),
                    _ => false,
                };
            }
            let (entry_host, entry_port) = split_host_port(&entry);
            if entry_port.is_some_and(|p| p != port) {
                return false;
            }
            if let (Ok(entry_ip), Some(ip)) = (entry_host.parse::<IpAddr>(), ip) {
                return entry_ip == ip;
            }
            let suffix = entry_host.strip_prefix('*').unwrap_or(entry_host);
            match suffix.strip_prefix('.') {
                Some(_) => host.ends_with(suffix),
                None => host == suffix || host.ends_with(&format!(".{suffix}")),
            }
        })
}

/// `host:port`, `[v6]:port`, or a bare host / IPv6 address.
fn split_host_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((host, tail)) = rest.split_once(']') {
            return (host, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn cidr_contains(net: IpAddr, bits: u32, ip: IpAddr) -> bool {
    fn prefix_eq(a: &[u8], b: &[u8], bits: u32) -> bool {
        let total = 8 * a.len() as u32;
        if bits > total {
            return false;
        }
        let (whole, rest) = ((bits / 8) as usize, bits % 8);
        a[..whole] == b[..whole] && (rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0)
    }
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => prefix_eq(&n.octets(), &i.octets(), bits),
        (IpAddr::V6(n), IpAddr::V6(i)) => prefix_eq(&n.octets(), &i.octets(), bits),
        _ => false,
    }
}

/// A URL with any `user:password@` replaced by `<redacted>@`.
fn redact_userinfo(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..].find('/').map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => format!("{}<redacted>{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::tests::temp_dir;
    use std::collections::HashMap;

    const CA: &[u8] = include_bytes!("../tests/fixtures/ca.crt");
    const CLIENT_CERT: &[u8] = include_bytes!("../tests/fixtures/client.crt");
    const CLIENT_KEY: &[u8] = include_bytes!("../tests/fixtures/client.key");

    /// An environment made of exactly these variables.
    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    fn message(result: Result<impl fmt::Debug>) -> String {
        match result {
            Err(Error::Config { message, .. }) => message,
            other => panic!("expected a Config error, got {other:?}"),
        }
    }

    /// A service account directory like the one Kubernetes mounts.
    fn service_account(namespace: Option<&str>) -> PathBuf {
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
    fn in_cluster_reads_env_and_service_account_files() {
        let dir = service_account(Some("team-b\n"));
        let env = env(&[
            ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
        ]);
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
        let env = env(&[
            ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
        ]);
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
        let env = env(&[
            ("KUBERNETES_SERVICE_HOST", "fd00::1"),
            ("KUBERNETES_SERVICE_PORT", "6443"),
        ]);
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

        let env = env(&[
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
        ]);
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
        assert_eq!(
            Config::new("https://127.0.0.1:6443/").unwrap().server(),
            "https://127.0.0.1:6443"
        );
        assert_eq!(
            Config::new("https://h/prefix/").unwrap().server(),
            "https://h/prefix"
        );
        assert_eq!(
            Config::new("k8s.local:6443").unwrap().server(),
            "https://k8s.local:6443"
        );
        assert_eq!(
            Config::new("http://[::1]:8080").unwrap().server(),
            "http://[::1]:8080"
        );
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
    fn explicit_proxy_is_used_and_checked() {
        let config = Config::new("https://127.0.0.1:6443")
            .unwrap()
            .with_proxy("http://proxy.corp:3128");
        let proxy = config
            .proxy(&env(&[]))
            .unwrap()
            .expect("an explicit proxy applies even to loopback");
        assert_eq!((proxy.host(), proxy.port()), ("proxy.corp", 3128));

        let socks = Config::new("https://k")
            .unwrap()
            .with_proxy("socks5://user:pw@proxy:1080");
        let msg = message(socks.proxy(&env(&[])));
        assert!(msg.contains("only http:// and https:// proxies"), "{msg}");
        assert!(!msg.contains("pw"), "proxy password leaked: {msg}");
    }

    #[test]
    fn environment_proxy_follows_go_rules() {
        let https = Config::new("https://api.corp.example:6443").unwrap();
        let vars = env(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("HTTP_PROXY", "http://wrong:1"),
        ]);
        assert_eq!(https.proxy(&vars).unwrap().unwrap().host(), "proxy");
        let lower = env(&[("https_proxy", "proxy2:8080")]);
        assert_eq!(https.proxy(&lower).unwrap().unwrap().port(), 8080);
        let only_http = env(&[("HTTP_PROXY", "http://proxy:3128")]);
        assert!(
            https.proxy(&only_http).unwrap().is_none(),
            "HTTP_PROXY must not apply to https"
        );
        let excluded = env(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("NO_PROXY", "foo, .example"),
        ]);
        assert!(https.proxy(&excluded).unwrap().is_none());
    }

    #[test]
    fn no_proxy_matching() {
        let cases = [
            ("k.example.com", 443, "example.com", true),
            ("example.com", 443, "example.com", true),
            ("example.com", 443, ".example.com", false),
            ("k.example.com", 443, "*.example.com", true),
            ("notexample.com", 443, "example.com", false),
            ("k.example.com", 6443, "example.com:443", false),
            ("k.example.com", 6443, "example.com:6443", true),
            ("10.1.2.3", 443, "10.0.0.0/8", true),
            ("11.1.2.3", 443, "10.0.0.0/8", false),
            ("10.96.0.1", 443, "10.96.0.1", true),
            ("fd00::1", 443, "fd00::/64", true),
            ("fd00::1", 443, "[fd00::1]:443", true),
            ("anything", 443, "*", true),
            ("anything", 443, "", false),
            ("localhost", 443, "", true),
            ("127.0.0.5", 443, "", true),
            ("::1", 443, "", true),
        ];
        for (host, port, no_proxy, expected) in cases {
            assert_eq!(
                bypasses_proxy(host, port, no_proxy),
                expected,
                "host {host}:{port} with NO_PROXY={no_proxy:?}"
            );
        }
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
}
