//! Kubeconfig files: reading several, merging them by client-go's rules, and
//! resolving one context into the settings of a connection.
//!
//! Every error names the file and the field (`kubeconfig /x: users[1].user.token …`),
//! and none quotes a token, password or key.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Deserializer};

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::exec::ExecPlugin;
use crate::tls::{Pem, Tls};

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
                    return Err(Error::config(format!("kubeconfig {}: cannot read: {e}", path.display())));
                }
            };
            let data = parse(&text).map_err(|why| Error::config(format!("kubeconfig {}: {why}", path.display())))?;
            merged.merge(path.clone(), data);
        }
        if merged.files.is_empty() {
            return Err(Error::config(match missing.as_slice() {
                [] => "no kubeconfig file given".to_owned(),
                [one] => format!("kubeconfig {one}: cannot read: file does not exist"),
                many => format!("no kubeconfig file found: none of {} exists", many.join(", ")),
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
                    list.push(Entry { name, value, file, index });
                }
            }
        }
        add(&mut self.clusters, file, data.clusters.into_iter().map(|c| (c.name, c.cluster)));
        add(&mut self.users, file, data.users.into_iter().map(|u| (u.name, u.user)));
        add(&mut self.contexts, file, data.contexts.into_iter().map(|c| (c.name, c.context)));
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
            return Err(Error::config(format!("{}: context {name:?} not found", self.label())));
        };
        let ctx_file = &self.files[ctx.file];
        let ctx_origin = format!("kubeconfig {}: contexts[{}].context", ctx_file.display(), ctx.index);

        let Some(cluster_name) = set(&ctx.value.cluster) else {
            return Err(Error::config(format!("{ctx_origin}.cluster is not set")));
        };
        let Some(cluster) = self.clusters.iter().find(|c| c.name == cluster_name) else {
            return Err(Error::config(format!(
                "kubeconfig {}: context {name:?} refers to cluster {cluster_name:?}, which is not defined",
                self.label_files()
            )));
        };
        let cluster = self.resolve_cluster(cluster)?;

        let mut tls = cluster.tls;
        let credentials = match set(&ctx.value.user) {
            None => Credentials::none(),
            Some(user_name) => {
                let Some(user) = self.users.iter().find(|u| u.name == user_name) else {
                    return Err(Error::config(format!(
                        "kubeconfig {}: context {name:?} refers to user {user_name:?}, which is not defined",
                        self.label_files()
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

    /// The merged file names without the `kubeconfig ` prefix.
    fn label_files(&self) -> String {
        self.label()["kubeconfig ".len()..].to_owned()
    }

    fn resolve_cluster(&self, entry: &Entry<Cluster>) -> Result<ResolvedCluster> {
        let file = &self.files[entry.file];
        let item = format!("kubeconfig {}: clusters[{}].cluster", file.display(), entry.index);
        let cluster = &entry.value;
        let Some(server) = set(&cluster.server) else {
            return Err(Error::config(format!("{item}.server is not set")));
        };
        let ca = read_pem(
            file,
            &item,
            (set(&cluster.certificate_authority_data), "certificate-authority-data"),
            (set(&cluster.certificate_authority), "certificate-authority"),
        )?;

        // What an exec plugin with provideClusterInfo gets as spec.cluster.
        let mut exec_info = serde_json::json!({ "server": server });
        if let Some(ca) = &ca {
            exec_info["certificate-authority-data"] = base64::engine::general_purpose::STANDARD.encode(ca.bytes()).into();
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

    fn resolve_user(&self, entry: &Entry<User>, exec_info: &serde_json::Value) -> Result<(Option<(Pem, Pem)>, Credentials)> {
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
            (set(&user.client_certificate_data), "client-certificate-data"),
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
            (Some(_), None) => return Err(Error::config(format!("{item}: a client certificate is set but no client key"))),
            (None, Some(_)) => return Err(Error::config(format!("{item}: a client key is set but no client certificate"))),
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
                    return Err(Error::config(format!("{item}: cannot read tokenFile {}: {e}", path.display())));
                }
            }
            Credentials::token_file(path, token.map(str::to_owned))
        } else if let Some(token) = token {
            Credentials::bearer(token)
        } else if basic {
            Credentials::basic(set(&user.username).unwrap_or_default(), set(&user.password).unwrap_or_default())
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

/// Parses one file; the message says what is wrong without quoting secrets.
fn parse(text: &str) -> std::result::Result<FileData, String> {
    // First a generic parse, so that a file that is not a mapping at all (a
    // token file passed by mistake, say) is not echoed back in the error.
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| format!("is not valid YAML: {e}"))?;
    match value {
        serde_yaml_ng::Value::Null => return Ok(FileData::default()),
        serde_yaml_ng::Value::Mapping(_) => {}
        _ => return Err("is not a kubeconfig: the document is not a YAML mapping".to_owned()),
    }
    serde_yaml_ng::from_str(text).map_err(|e| format!("is not a valid kubeconfig: {e}"))
}

/// PEM from a `*-data` field (base64) or else a file path (relative to the
/// kubeconfig's directory); `None` when neither is set. `item` names the
/// list entry (`kubeconfig /x: users[0].user`), the tuples hold each field's
/// value and name.
fn read_pem(kubeconfig: &Path, item: &str, data: (Option<&str>, &str), path: (Option<&str>, &str)) -> Result<Option<Pem>> {
    if let (Some(data), field) = data {
        let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| Error::config(format!("{item}.{field} is not valid base64")))?;
        return Ok(Some(Pem::new(bytes, format!("{item}.{field}"))));
    }
    let (Some(path), field) = path else { return Ok(None) };
    let path = relative_to(kubeconfig, path);
    let bytes = std::fs::read(&path).map_err(|e| Error::config(format!("{item}: cannot read {field} {}: {e}", path.display())))?;
    Ok(Some(Pem::new(bytes, format!("{item}.{field} {}", path.display()))))
}

/// A path from a kubeconfig, relative paths taken from the file's directory.
fn relative_to(kubeconfig: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    match kubeconfig.parent() {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_owned(),
    }
}

fn exec_plugin(kubeconfig: &Path, exec: &Exec, origin: &str, cluster_info: &serde_json::Value) -> Result<ExecPlugin> {
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
