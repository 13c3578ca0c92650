//! Kubeconfig files: reading several, merging them by client-go's rules, and
//! resolving one context into the settings of a connection.
//!
//! Every error names the file and the field (`kubeconfig /x: users[1].user.token …`),
//! and none quotes a token, password or key.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Deserializer};

use crate::config::credentials::Credentials;
use crate::config::exec_plugin::ExecPlugin;
use crate::config::tls::{Pem, Tls};
use crate::error::{Error, Result};

/// Several kubeconfig files merged: the first file that defines a cluster,
/// user or context name wins, and so does the first `current-context`.
pub(crate) struct Kubeconfig {
    files: Vec<PathBuf>,
    clusters: Vec<Entry<Cluster>>,
    users: Vec<Entry<User>>,
    contexts: Vec<Entry<Context>>,
    current_context: Option<String>,
}

/// One named item and where it was defined.
struct Entry<T> {
    name: String,
    value: T,
    /// Index into `Kubeconfig::files`.
    file: usize,
    /// Position in that file's list, for messages like `users[1]`.
    index: usize,
}

/// What a context resolves to: everything a connection needs.
pub(crate) struct Resolved {
    /// The cluster's server URL as written (not yet normalized).
    pub(crate) server: String,
    /// Where `server` was read from, for error messages.
    pub(crate) server_origin: String,
    pub(crate) namespace: Option<String>,
    pub(crate) tls: Tls,
    pub(crate) proxy_url: Option<String>,
    pub(crate) credentials: Credentials,
    /// E.g. `kubeconfig /home/me/.kube/config, context "kind-kind"`.
    pub(crate) origin: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct FileData {
    #[serde(default, deserialize_with = "nullable")]
    clusters: Vec<NamedCluster>,
    #[serde(default, deserialize_with = "nullable")]
    users: Vec<NamedUser>,
    #[serde(default, deserialize_with = "nullable")]
    contexts: Vec<NamedContext>,
    current_context: Option<String>,
}

#[derive(Deserialize)]
struct NamedCluster {
    name: String,
    #[serde(default, deserialize_with = "nullable")]
    cluster: Cluster,
}

#[derive(Deserialize)]
struct NamedUser {
    name: String,
    #[serde(default, deserialize_with = "nullable")]
    user: User,
}

#[derive(Deserialize)]
struct NamedContext {
    name: String,
    #[serde(default, deserialize_with = "nullable")]
    context: Context,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Cluster {
    server: Option<String>,
    certificate_authority: Option<String>,
    certificate_authority_data: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    insecure_skip_tls_verify: bool,
    proxy_url: Option<String>,
    tls_server_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct User {
    #[serde(default, deserialize_with = "secret")]
    token: Option<String>,
    #[serde(rename = "tokenFile")]
    token_file: Option<String>,
    client_certificate: Option<String>,
    client_certificate_data: Option<String>,
    client_key: Option<String>,
    #[serde(default, deserialize_with = "secret")]
    client_key_data: Option<String>,
    username: Option<String>,
    #[serde(default, deserialize_with = "secret")]
    password: Option<String>,
    exec: Option<Exec>,
    auth_provider: Option<AuthProvider>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Exec {
    api_version: Option<String>,
    command: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    args: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    env: Vec<ExecEnv>,
    install_hint: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    provide_cluster_info: bool,
}

#[derive(Deserialize)]
struct ExecEnv {
    name: String,
    #[serde(default, deserialize_with = "secret")]
    value: Option<String>,
}

#[derive(Deserialize)]
struct AuthProvider {
    name: Option<String>,
}

#[derive(Deserialize, Default)]
struct Context {
    cluster: Option<String>,
    user: Option<String>,
    namespace: Option<String>,
}

/// `null` reads as the type's default, as in Go.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A string that must never show up in an error: any scalar is accepted as
/// text, and a wrong type is reported without its value.
fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Secret;
    impl<'de> serde::de::Visitor<'de> for Secret {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(Secret)
}

/// Go treats an empty string like an absent field.
fn set(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|s| !s.is_empty())
}

impl Kubeconfig {
    /// Reads and merges `paths` in order. Missing files are skipped when
    /// `skip_missing` (as client-go does for `KUBECONFIG`), but at least one
    /// must exist; a file that exists but cannot be parsed is always an error.
    pub(crate) fn load(paths: &[PathBuf], skip_missing: bool) -> Result<Kubeconfig> {
        let mut merged = Kubeconfig {
            files: Vec::new(),
            clusters: Vec::new(),
            users: Vec::new(),
            contexts: Vec::new(),
            current_context: None,
        };
        let mut missing = Vec::new();
        for path in paths {
            if path.as_os_str().is_empty() || merged.files.contains(path) {
                continue;
            }
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) if skip_missing && e.kind() == std::io::ErrorKind::NotFound => {
                    missing.push(path.display().to_string());
                    continue;
                }
                Err(e) => {
                    let message = format!("kubeconfig {}: cannot read: {e}", path.display());
                    return Err(Error::config_with(message, e));
                }
            };
            let data = parse(&text, &format!("kubeconfig {}", path.display()))?;
            merged.merge(path.clone(), data);
        }
        if merged.files.is_empty() {
            return Err(Error::config(match missing.as_slice() {
                [] => "no kubeconfig file given".to_owned(),
                [one] => format!("kubeconfig {one}: cannot read: file does not exist"),
                many => format!(
                    "no kubeconfig file found: none of {} exists",
                    many.join(", ")
                ),
            }));
        }
        Ok(merged)
    }

    fn merge(&mut self, path: PathBuf, data: FileData) {
        let file = self.files.len();
        self.files.push(path);
        fn add<T>(list: &mut Vec<Entry<T>>, file: usize, items: impl Iterator<Item = (String, T)>) {
            for (index, (name, value)) in items.enumerate() {
                if !list.iter().any(|e| e.name == name) {
                    list.push(Entry {
                        name,
                        value,
                        file,
                        index,
                    });
                }
            }
        }
        add(
            &mut self.clusters,
            file,
            data.clusters.into_iter().map(|c| (c.name, c.cluster)),
        );
        add(
            &mut self.users,
            file,
            data.users.into_iter().map(|u| (u.name, u.user)),
        );
        add(
            &mut self.contexts,
            file,
            data.contexts.into_iter().map(|c| (c.name, c.context)),
        );
        if self.current_context.is_none() {
            self.current_context = set(&data.current_context).map(str::to_owned);
        }
    }

    /// `kubeconfig /a:/b`, naming every merged file.
    fn label(&self) -> String {
        let files: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        format!("kubeconfig {}", files.join(":"))
    }

    /// Resolves `context` (the current context when `None`) into connection settings.
    pub(crate) fn resolve(&self, context: Option<&str>) -> Result<Resolved> {
        let name = match context.or(self.current_context.as_deref()) {
            Some(name) => name,
            None => {
                return Err(Error::config(format!(
                    "{}: current-context is not set and no context was named",
                    self.label()
                )))
            }
        };
        let Some(ctx) = self.contexts.iter().find(|c| c.name == name) else {
            return Err(Error::config(format!(
                "{}: context {name:?} not found",
                self.label()
            )));
        };
        let ctx_file = &self.files[ctx.file];
        let ctx_origin = format!(
            "kubeconfig {}: contexts[{}].context",
            ctx_file.display(),
            ctx.index
        );

        let Some(cluster_name) = set(&ctx.value.cluster) else {
            return Err(Error::config(format!("{ctx_origin}.cluster is not set")));
        };
        let Some(cluster) = self.clusters.iter().find(|c| c.name == cluster_name) else {
            return Err(Error::config(format!(
                "{}: context {name:?} refers to cluster {cluster_name:?}, which is not defined",
                self.label()
            )));
        };
        let cluster = self.resolve_cluster(cluster)?;

        let mut tls = cluster.tls;
        let credentials = match set(&ctx.value.user) {
            None => Credentials::none(),
            Some(user_name) => {
                let Some(user) = self.users.iter().find(|u| u.name == user_name) else {
                    return Err(Error::config(format!(
                        "{}: context {name:?} refers to user {user_name:?}, which is not defined",
                        self.label()
                    )));
                };
                let (client, credentials) = self.resolve_user(user, &cluster.exec_info)?;
                tls.client = client;
                credentials
            }
        };
        tls.check()?;
        Ok(Resolved {
            server: cluster.server,
            server_origin: cluster.server_origin,
            namespace: set(&ctx.value.namespace).map(str::to_owned),
            tls,
            proxy_url: cluster.proxy_url,
            credentials,
            origin: format!("kubeconfig {}, context {name:?}", ctx_file.display()),
        })
    }

    fn resolve_cluster(&self, entry: &Entry<Cluster>) -> Result<ResolvedCluster> {
        let file = &self.files[entry.file];
        let item = format!(
            "kubeconfig {}: clusters[{}].cluster",
            file.display(),
            entry.index
        );
        let cluster = &entry.value;
        let Some(server) = set(&cluster.server) else {
            return Err(Error::config(format!("{item}.server is not set")));
        };
        let ca = read_pem(
            file,
            &item,
            (
                set(&cluster.certificate_authority_data),
                "certificate-authority-data",
            ),
            (set(&cluster.certificate_authority), "certificate-authority"),
        )?;

        // What an exec plugin with provideClusterInfo gets as spec.cluster.
        let mut exec_info = serde_json::json!({ "server": server });
        if let Some(ca) = &ca {
            exec_info["certificate-authority-data"] = base64::engine::general_purpose::STANDARD
                .encode(ca.bytes())
                .into();
        }
        if cluster.insecure_skip_tls_verify {
            exec_info["insecure-skip-tls-verify"] = true.into();
        }
        if let Some(proxy) = set(&cluster.proxy_url) {
            exec_info["proxy-url"] = proxy.into();
        }
        if let Some(name) = set(&cluster.tls_server_name) {
            exec_info["tls-server-name"] = name.into();
        }

        Ok(ResolvedCluster {
            server: server.to_owned(),
            server_origin: format!("{item}.server"),
            tls: Tls {
                ca,
                client: None,
                insecure: cluster.insecure_skip_tls_verify,
            },
            proxy_url: set(&cluster.proxy_url).map(str::to_owned),
            exec_info,
        })
    }

    fn resolve_user(
        &self,
        entry: &Entry<User>,
        exec_info: &serde_json::Value,
    ) -> Result<(Option<(Pem, Pem)>, Credentials)> {
        let file = &self.files[entry.file];
        let item = format!("kubeconfig {}: users[{}].user", file.display(), entry.index);
        let user = &entry.value;

        if let Some(provider) = &user.auth_provider {
            return Err(Error::config(format!(
                "{item}.auth-provider ({}) is not supported; configure an exec credential plugin instead",
                provider.name.as_deref().unwrap_or("unnamed")
            )));
        }

        let cert = read_pem(
            file,
            &item,
            (
                set(&user.client_certificate_data),
                "client-certificate-data",
            ),
            (set(&user.client_certificate), "client-certificate"),
        )?;
        let key = read_pem(
            file,
            &item,
            (set(&user.client_key_data), "client-key-data"),
            (set(&user.client_key), "client-key"),
        )?;
        let client = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(Error::config(format!(
                    "{item}: a client certificate is set but no client key"
                )))
            }
            (None, Some(_)) => {
                return Err(Error::config(format!(
                    "{item}: a client key is set but no client certificate"
                )))
            }
        };

        let token = set(&user.token);
        let token_file = set(&user.token_file).map(|p| relative_to(file, p));
        let basic = set(&user.username).is_some() || set(&user.password).is_some();
        if basic && (token.is_some() || token_file.is_some()) {
            return Err(Error::config(format!(
                "{item}: both a token and username/password are set; only one is allowed"
            )));
        }
        if basic && user.exec.is_some() {
            return Err(Error::config(format!(
                "{item}: both an exec plugin and username/password are set; only one is allowed"
            )));
        }

        // client-go's order: a token (file first, the inline token as its
        // fallback) wins over exec, which only runs when nothing else is set.
        let credentials = if let Some(path) = token_file {
            if token.is_none() {
                if let Err(e) = std::fs::read(&path) {
                    let message = format!("{item}: cannot read tokenFile {}: {e}", path.display());
                    return Err(Error::config_with(message, e));
                }
            }
            Credentials::token_file(path, token.map(str::to_owned))
        } else if let Some(token) = token {
            Credentials::bearer(token)
        } else if basic {
            Credentials::basic(
                set(&user.username).unwrap_or_default(),
                set(&user.password).unwrap_or_default(),
            )
        } else if let Some(exec) = &user.exec {
            Credentials::exec(exec_plugin(file, exec, &format!("{item}.exec"), exec_info)?)
        } else {
            Credentials::none()
        };
        Ok((client, credentials))
    }
}

struct ResolvedCluster {
    server: String,
    server_origin: String,
    tls: Tls,
    proxy_url: Option<String>,
    exec_info: serde_json::Value,
}

/// Parses one file (`label` names it); the error says what is wrong without
/// quoting secrets.
fn parse(text: &str, label: &str) -> Result<FileData> {
    // First a generic parse, so that a file that is not a mapping at all (a
    // token file passed by mistake, say) is not echoed back in the error.
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text)
        .map_err(|e| Error::config_with(format!("{label}: is not valid YAML: {e}"), e))?;
    match value {
        serde_yaml_ng::Value::Null => return Ok(FileData::default()),
        serde_yaml_ng::Value::Mapping(_) => {}
        _ => {
            return Err(Error::config(format!(
                "{label}: is not a kubeconfig: the document is not a YAML mapping"
            )))
        }
    }
    serde_yaml_ng::from_str(text)
        .map_err(|e| Error::config_with(format!("{label}: is not a valid kubeconfig: {e}"), e))
}

/// PEM from a `*-data` field (base64) or else a file path (relative to the
/// kubeconfig's directory); `None` when neither is set. `item` names the
/// list entry (`kubeconfig /x: users[0].user`), the tuples hold each field's
/// value and name.
fn read_pem(
    kubeconfig: &Path,
    item: &str,
    data: (Option<&str>, &str),
    path: (Option<&str>, &str),
) -> Result<Option<Pem>> {
    if let (Some(data), field) = data {
        let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| Error::config(format!("{item}.{field} is not valid base64")))?;
        return Ok(Some(Pem::new(bytes, format!("{item}.{field}"))));
    }
    let (Some(path), field) = path else {
        return Ok(None);
    };
    let path = relative_to(kubeconfig, path);
    let bytes = std::fs::read(&path).map_err(|e| {
        let message = format!("{item}: cannot read {field} {}: {e}", path.display());
        Error::config_with(message, e)
    })?;
    Ok(Some(Pem::new(
        bytes,
        format!("{item}.{field} {}", path.display()),
    )))
}

/// A path from a kubeconfig, relative paths taken from the file's directory.
fn relative_to(kubeconfig: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    match kubeconfig.parent() {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_owned(),
    }
}

fn exec_plugin(
    kubeconfig: &Path,
    exec: &Exec,
    origin: &str,
    cluster_info: &serde_json::Value,
) -> Result<ExecPlugin> {
    let Some(api_version) = set(&exec.api_version) else {
        return Err(Error::config(format!("{origin}.apiVersion is not set")));
    };
    let Some(command) = set(&exec.command) else {
        return Err(Error::config(format!("{origin}.command is not set")));
    };
    // Like client-go: a bare name is looked up on PATH, a relative path with
    // a separator is taken from the kubeconfig's directory.
    let command = if command.contains('/') || command.contains(std::path::MAIN_SEPARATOR) {
        relative_to(kubeconfig, command)
    } else {
        PathBuf::from(command)
    };
    let env = exec
        .env
        .iter()
        .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default()))
        .collect();
    let plugin = ExecPlugin::new(
        api_version,
        command,
        exec.args.clone(),
        env,
        exec.install_hint.clone(),
        origin.to_owned(),
    )?;
    Ok(if exec.provide_cluster_info {
        plugin.with_cluster_info(cluster_info.clone())
    } else {
        plugin
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::exec_plugin::tests::temp_dir;

    const CA: &[u8] = include_bytes!("../../tests/fixtures/ca.crt");
    const CLIENT_CERT: &[u8] = include_bytes!("../../tests/fixtures/client.crt");
    const CLIENT_KEY: &[u8] = include_bytes!("../../tests/fixtures/client.key");

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Writes `text` as `name` in a fresh directory and returns its path.
    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn load_one(path: &Path) -> Result<Kubeconfig> {
        Kubeconfig::load(&[path.to_owned()], false)
    }

    fn resolve(text: &str, context: Option<&str>) -> Result<Resolved> {
        let dir = temp_dir("kubeconfig");
        load_one(&write(&dir, "config", text))?.resolve(context)
    }

    fn auth(resolved: &Resolved) -> Option<String> {
        resolved.credentials.authorization().unwrap()
    }

    fn message(result: Result<impl Sized>) -> String {
        match result {
            Err(Error::Config { message, .. }) => message,
            Err(other) => panic!("expected a Config error, got {other:?}"),
            Ok(_) => panic!("expected a Config error, got success"),
        }
    }

    const TOKEN_CONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example.com:6443/
    insecure-skip-tls-verify: true
- name: prod-cluster
  cluster:
    server: https://prod.example.com
    proxy-url: http://proxy.example.com:3128
users:
- name: dev-user
  user:
    token: dev-token
- name: prod-user
  user:
    username: admin
    password: s3cret
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
    namespace: team-a
- name: prod
  context:
    cluster: prod-cluster
    user: prod-user
- name: anonymous
  context:
    cluster: prod-cluster
preferences: {}
"#;

    #[test]
    fn current_context_with_token_and_namespace() {
        let r = resolve(TOKEN_CONFIG, None).unwrap();
        assert_eq!(r.server, "https://dev.example.com:6443/");
        assert_eq!(r.namespace.as_deref(), Some("team-a"));
        assert!(r.tls.insecure);
        assert!(r.tls.ca.is_none());
        assert_eq!(auth(&r).as_deref(), Some("Bearer dev-token"));
        assert!(r.origin.ends_with("context \"dev\""), "{}", r.origin);
    }

    #[test]
    fn named_context_with_basic_auth_and_proxy() {
        let r = resolve(TOKEN_CONFIG, Some("prod")).unwrap();
        assert_eq!(r.server, "https://prod.example.com");
        assert_eq!(r.namespace, None);
        assert!(
            !r.tls.insecure,
            "verification must stay on unless the file says otherwise"
        );
        assert_eq!(
            r.proxy_url.as_deref(),
            Some("http://proxy.example.com:3128")
        );
        assert_eq!(auth(&r).as_deref(), Some("Basic YWRtaW46czNjcmV0"));
    }

    #[test]
    fn context_without_user_has_no_credentials() {
        let r = resolve(TOKEN_CONFIG, Some("anonymous")).unwrap();
        assert_eq!(auth(&r), None);
    }

    #[test]
    fn missing_context_is_named() {
        let dir = temp_dir("kubeconfig-missing-context");
        let path = write(&dir, "config", TOKEN_CONFIG);
        let msg = message(load_one(&path).unwrap().resolve(Some("staging")));
        assert_eq!(
            msg,
            format!(
                "kubeconfig {}: context \"staging\" not found",
                path.display()
            )
        );
    }

    #[test]
    fn missing_current_context_is_reported() {
        let msg = message(resolve("clusters: []\n", None));
        assert!(
            msg.ends_with(": current-context is not set and no context was named"),
            "{msg}"
        );
    }

    #[test]
    fn context_referring_to_undefined_cluster_or_user_is_reported() {
        let text = r#"
current-context: broken
clusters:
- name: c
  cluster: {server: "https://k"}
contexts:
- name: broken
  context: {cluster: nope, user: u}
- name: no-user
  context: {cluster: c, user: ghost}
- name: no-cluster
  context: {user: ghost}
"#;
        let msg = message(resolve(text, None));
        assert!(
            msg.ends_with("context \"broken\" refers to cluster \"nope\", which is not defined"),
            "{msg}"
        );
        let msg = message(resolve(text, Some("no-user")));
        assert!(
            msg.ends_with("context \"no-user\" refers to user \"ghost\", which is not defined"),
            "{msg}"
        );
        let msg = message(resolve(text, Some("no-cluster")));
        assert!(
            msg.ends_with(": contexts[2].context.cluster is not set"),
            "{msg}"
        );
    }

    #[test]
    fn cluster_without_server_is_reported() {
        let text = "current-context: x\nclusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: x\n  context: {cluster: c}\n";
        let msg = message(resolve(text, None));
        assert!(
            msg.ends_with(": clusters[0].cluster.server is not set"),
            "{msg}"
        );
    }

    #[test]
    fn inline_ca_and_client_certificate_data() {
        let text = format!(
            r#"
current-context: x
clusters:
- name: c
  cluster:
    server: https://k:6443
    certificate-authority-data: {}
users:
- name: u
  user:
    client-certificate-data: {}
    client-key-data: {}
contexts:
- name: x
  context: {{cluster: c, user: u}}
"#,
            b64(CA),
            b64(CLIENT_CERT),
            b64(CLIENT_KEY)
        );
        let r = resolve(&text, None).unwrap();
        assert_eq!(r.tls.ca.as_ref().unwrap().bytes(), CA);
        let (cert, key) = r.tls.client.as_ref().unwrap();
        assert_eq!((cert.bytes(), key.bytes()), (CLIENT_CERT, CLIENT_KEY));
        assert_eq!(auth(&r), None);
    }

    #[test]
    fn file_references_are_relative_to_the_kubeconfig() {
        let dir = temp_dir("kubeconfig-relative");
        std::fs::create_dir(dir.join("pki")).unwrap();
        std::fs::write(dir.join("pki/ca.crt"), CA).unwrap();
        std::fs::write(dir.join("pki/client.crt"), CLIENT_CERT).unwrap();
        std::fs::write(dir.join("pki/client.key"), CLIENT_KEY).unwrap();
        std::fs::write(dir.join("pki/token"), "file-token\n").unwrap();
        let text = r#"
current-context: x
clusters:
- name: c
  cluster: {server: "https://k:6443", certificate-authority: pki/ca.crt}
users:
- name: u
  user:
    client-certificate: pki/client.crt
    client-key: pki/client.key
    tokenFile: pki/token
contexts:
- name: x
  context: {cluster: c, user: u}
"#;
        let path = write(&dir, "config", text);
        // Load through a path with a different working directory in mind.
        let r = load_one(&path).unwrap().resolve(None).unwrap();
        assert_eq!(r.tls.ca.as_ref().unwrap().bytes(), CA);
        assert!(r.tls.client.is_some());
        assert_eq!(auth(&r).as_deref(), Some("Bearer file-token"));
    }

    #[test]
    fn missing_certificate_authority_file_names_kubeconfig_field_and_path() {
        let dir = temp_dir("kubeconfig-missing-ca");
        let text = "current-context: x\nclusters:\n- name: c\n  cluster: {server: \"https://k\", certificate-authority: nope/ca.crt}\n\
                    contexts:\n- name: x\n  context: {cluster: c}\n";
        let path = write(&dir, "config", text);
        let msg = message(load_one(&path).unwrap().resolve(None));
        let expected = format!(
            "kubeconfig {}: clusters[0].cluster: cannot read certificate-authority {}: No such file",
            path.display(),
            dir.join("nope/ca.crt").display()
        );
        assert!(
            msg.starts_with(&expected),
            "expected {expected:?}, got {msg:?}"
        );
    }

    #[test]
    fn missing_token_file_is_reported_unless_a_token_is_inline() {
        let text = "current-context: x\nclusters:\n- name: c\n  cluster: {server: \"https://k\"}\n\
                    users:\n- name: u\n  user: {tokenFile: /nonexistent/token}\n\
                    - name: v\n  user: {tokenFile: /nonexistent/token, token: inline}\n\
                    contexts:\n- name: x\n  context: {cluster: c, user: u}\n- name: y\n  context: {cluster: c, user: v}\n";
        let msg = message(resolve(text, None));
        assert!(
            msg.contains(": users[0].user: cannot read tokenFile /nonexistent/token"),
            "{msg}"
        );
        let r = resolve(text, Some("y")).unwrap();
        assert_eq!(auth(&r).as_deref(), Some("Bearer inline"));
    }

    #[test]
    fn bad_base64_names_the_field_without_quoting_it() {
        let text = format!(
            "current-context: x\nclusters:\n- name: c\n  cluster: {{server: \"https://k\"}}\n\
             users:\n- name: first\n  user: {{token: t}}\n- name: u\n  user:\n    client-certificate-data: {}\n    client-key-data: '@@secret-key@@'\n\
             contexts:\n- name: x\n  context: {{cluster: c, user: u}}\n",
            b64(CLIENT_CERT)
        );
        let msg = message(resolve(&text, None));
        assert!(
            msg.ends_with(": users[1].user.client-key-data is not valid base64"),
            "{msg}"
        );
        assert!(!msg.contains("secret"), "{msg}");
    }

    #[test]
    fn bad_pem_is_a_config_error_naming_the_field() {
        let text = format!(
            "current-context: x\nclusters:\n- name: c\n  cluster: {{server: \"https://k\", certificate-authority-data: {}}}\n\
             contexts:\n- name: x\n  context: {{cluster: c}}\n",
            b64(b"hello")
        );
        let msg = message(resolve(&text, None));
        assert!(
            msg.ends_with(
                ": clusters[0].cluster.certificate-authority-data: contains no PEM certificate"
            ),
            "{msg}"
        );
    }

    #[test]
    fn client_certificate_without_key_is_rejected() {
        let text = format!(
            "current-context: x\nclusters:\n- name: c\n  cluster: {{server: \"https://k\"}}\n\
             users:\n- name: u\n  user: {{client-certificate-data: {}}}\n\
             contexts:\n- name: x\n  context: {{cluster: c, user: u}}\n",
            b64(CLIENT_CERT)
        );
        let msg = message(resolve(&text, None));
        assert!(
            msg.ends_with(": users[0].user: a client certificate is set but no client key"),
            "{msg}"
        );
    }

    #[test]
    fn token_together_with_basic_auth_is_rejected() {
        let text = "current-context: x\nclusters:\n- name: c\n  cluster: {server: \"https://k\"}\n\
                    users:\n- name: u\n  user: {token: t, username: a, password: b}\n\
                    contexts:\n- name: x\n  context: {cluster: c, user: u}\n";
        let msg = message(resolve(text, None));
        assert!(
            msg.ends_with(
                ": users[0].user: both a token and username/password are set; only one is allowed"
            ),
            "{msg}"
        );
    }

    #[test]
    fn auth_provider_is_reported_as_unsupported() {
        let text = "current-context: x\nclusters:\n- name: c\n  cluster: {server: \"https://k\"}\n\
                    users:\n- name: u\n  user:\n    auth-provider:\n      name: gcp\n      config: {access-token: secret-value}\n\
                    contexts:\n- name: x\n  context: {cluster: c, user: u}\n";
        let msg = message(resolve(text, None));
        assert!(msg.ends_with(": users[0].user.auth-provider (gcp) is not supported; configure an exec credential plugin instead"), "{msg}");
        assert!(!msg.contains("secret-value"), "{msg}");
    }

    #[test]
    fn exec_settings_are_parsed_and_command_resolved_against_the_kubeconfig() {
        let dir = temp_dir("kubeconfig-exec");
        let text = r#"
current-context: x
clusters:
- name: c
  cluster: {server: "https://k"}
users:
- name: relative
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin
      args: [get-token, --cluster, c]
      env: [{name: A, value: b}]
      installHint: install it
      interactiveMode: Never
- name: on-path
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws}
- name: no-version
  user:
    exec: {command: aws}
contexts:
- name: x
  context: {cluster: c, user: relative}
- name: y
  context: {cluster: c, user: on-path}
- name: z
  context: {cluster: c, user: no-version}
"#;
        let kubeconfig = load_one(&write(&dir, "config", text)).unwrap();
        let relative = format!("{:?}", kubeconfig.resolve(None).unwrap().credentials);
        let expected = format!("command: {:?}", dir.join("./bin/plugin"));
        assert!(
            relative.contains(&expected),
            "expected {expected} in {relative}"
        );
        let on_path = format!("{:?}", kubeconfig.resolve(Some("y")).unwrap().credentials);
        assert!(on_path.contains("command: \"aws\""), "{on_path}");
        let msg = message(kubeconfig.resolve(Some("z")));
        assert!(
            msg.ends_with(": users[2].user.exec.apiVersion is not set"),
            "{msg}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn exec_plugin_runs_with_cluster_info_when_asked() {
        let dir = temp_dir("kubeconfig-exec-run");
        std::fs::create_dir(dir.join("bin")).unwrap();
        crate::config::exec_plugin::tests::write_script(
            &dir.join("bin/plugin"),
            &format!(
                "printf '%s' \"$KUBERNETES_EXEC_INFO\" > {}/info\n\
                 echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"from-plugin\"}}}}'",
                dir.display()
            ),
        );
        let text = format!(
            r#"
current-context: x
clusters:
- name: c
  cluster: {{server: "https://k:6443", certificate-authority-data: {}}}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: bin/plugin
      provideClusterInfo: true
      interactiveMode: IfAvailable
contexts:
- name: x
  context: {{cluster: c, user: u}}
"#,
            b64(CA)
        );
        let r = load_one(&write(&dir, "config", &text))
            .unwrap()
            .resolve(None)
            .unwrap();
        assert_eq!(auth(&r).as_deref(), Some("Bearer from-plugin"));
        let info: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("info")).unwrap()).unwrap();
        assert_eq!(info["spec"]["interactive"], false);
        assert_eq!(info["spec"]["cluster"]["server"], "https://k:6443");
        assert_eq!(
            info["spec"]["cluster"]["certificate-authority-data"],
            b64(CA)
        );
    }

    #[test]
    fn garbled_yaml_names_the_file() {
        let dir = temp_dir("kubeconfig-garbled");
        let path = write(&dir, "config", "clusters: [\n  - name: {\n");
        let msg = message(load_one(&path));
        assert!(
            msg.starts_with(&format!("kubeconfig {}: is not valid YAML", path.display())),
            "{msg}"
        );
    }

    #[test]
    fn non_mapping_file_is_rejected_without_echoing_it() {
        let dir = temp_dir("kubeconfig-token-by-mistake");
        let path = write(&dir, "config", "eyJhbGciOiJSUzI1NiJ9.secret-token\n");
        let msg = message(load_one(&path));
        assert_eq!(
            msg,
            format!(
                "kubeconfig {}: is not a kubeconfig: the document is not a YAML mapping",
                path.display()
            )
        );
    }

    #[test]
    fn wrong_type_in_a_secret_field_does_not_echo_it() {
        let msg = message(resolve(
            "users:\n- name: u\n  user:\n    password: {nested: secret-value}\n",
            None,
        ));
        assert!(msg.contains("users[0].user.password"), "{msg}");
        assert!(!msg.contains("secret-value"), "{msg}");
    }

    #[test]
    fn wrong_type_in_a_plain_field_names_it() {
        let msg = message(resolve(
            "clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: maybe\n",
            None,
        ));
        assert!(
            msg.contains("clusters[0].cluster.insecure-skip-tls-verify"),
            "{msg}"
        );
    }

    #[test]
    fn empty_file_and_null_lists_are_an_empty_config() {
        let dir = temp_dir("kubeconfig-empty");
        let empty = write(&dir, "empty", "");
        let nulls = write(&dir, "nulls", "clusters: null\nusers:\ncontexts: ~\n");
        let msg = message(
            Kubeconfig::load(&[empty, nulls], false)
                .unwrap()
                .resolve(Some("x")),
        );
        assert!(msg.ends_with("context \"x\" not found"), "{msg}");
    }

    #[test]
    fn merged_files_first_definition_and_first_current_context_win() {
        let dir = temp_dir("kubeconfig-merge");
        let first = write(
            &dir,
            "first",
            "clusters:\n- name: shared\n  cluster: {server: \"https://first\"}\n\
             users:\n- name: shared\n  user: {token: first-token}\n\
             contexts:\n- name: shared\n  context: {cluster: shared, user: shared, namespace: first-ns}\n",
        );
        let second = write(
            &dir,
            "second",
            "current-context: shared\n\
             clusters:\n- name: shared\n  cluster: {server: \"https://second\"}\n- name: only-second\n  cluster: {server: \"https://only-second\"}\n\
             users:\n- name: shared\n  user: {token: second-token}\n\
             contexts:\n- name: shared\n  context: {cluster: only-second}\n- name: other\n  context: {cluster: only-second, user: shared}\n",
        );
        let third = write(&dir, "third", "current-context: other\n");
        let missing = dir.join("does-not-exist");
        let merged =
            Kubeconfig::load(&[missing, first.clone(), second.clone(), third], true).unwrap();

        let r = merged.resolve(None).unwrap();
        assert_eq!(
            r.server, "https://first",
            "the first file's cluster must win"
        );
        assert_eq!(
            r.namespace.as_deref(),
            Some("first-ns"),
            "the first file's context must win"
        );
        assert_eq!(auth(&r).as_deref(), Some("Bearer first-token"));

        let r = merged.resolve(Some("other")).unwrap();
        assert_eq!(r.server, "https://only-second");
        assert_eq!(
            auth(&r).as_deref(),
            Some("Bearer first-token"),
            "users merge by name too"
        );

        let msg = message(merged.resolve(Some("nope")));
        let files = format!(
            "{}:{}:{}",
            first.display(),
            second.display(),
            dir.join("third").display()
        );
        assert_eq!(
            msg,
            format!("kubeconfig {files}: context \"nope\" not found")
        );
    }

    #[test]
    fn missing_files_are_errors_when_nothing_is_left() {
        let dir = temp_dir("kubeconfig-none");
        let (a, b) = (dir.join("a"), dir.join("b"));
        let msg = message(Kubeconfig::load(std::slice::from_ref(&a), false));
        assert!(
            msg.starts_with(&format!("kubeconfig {}: cannot read: ", a.display())),
            "{msg}"
        );
        let msg = message(Kubeconfig::load(std::slice::from_ref(&a), true));
        assert_eq!(
            msg,
            format!(
                "kubeconfig {}: cannot read: file does not exist",
                a.display()
            )
        );
        let msg = message(Kubeconfig::load(&[a.clone(), b.clone()], true));
        assert_eq!(
            msg,
            format!(
                "no kubeconfig file found: none of {}, {} exists",
                a.display(),
                b.display()
            )
        );
    }
}
