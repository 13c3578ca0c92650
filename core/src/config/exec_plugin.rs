//! Exec credential plugins (`client.authentication.k8s.io/v1` and `v1beta1`):
//! running one and reading the token it prints.
//!
//! The plugin's output is a credential, so no error built here quotes it.

use std::fmt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::SystemTime;

use serde::Deserialize;

use crate::error::{Error, Result};

/// The API versions of `ExecCredential` that plugins may speak.
const API_VERSIONS: [&str; 2] = [
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
];

/// How much of a failing plugin's stderr goes into the error message.
const STDERR_TAIL: usize = 1000;
/// Longest time an exec credential plugin may run (kubectl gives it no limit,
/// but a hung plugin here would hang every request of the client).
const EXEC_TIMEOUT: std::time::Duration = if cfg!(test) {
    std::time::Duration::from_secs(2)
} else {
    std::time::Duration::from_secs(60)
};
/// Most bytes read from each output stream of a plugin.
const EXEC_OUTPUT: u64 = 1024 * 1024;

/// A configured exec plugin: what to run and how.
#[derive(Clone)]
pub(crate) struct ExecPlugin {
    /// `ExecCredential` API version the plugin speaks (validated on creation).
    api_version: String,
    /// The program, already resolved against the kubeconfig's directory.
    command: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    install_hint: Option<String>,
    /// `spec.cluster` passed to the plugin when `provideClusterInfo` is set.
    cluster: Option<serde_json::Value>,
    /// Where the plugin was configured, e.g. `kubeconfig /x: users[0].user.exec`.
    origin: String,
}

/// What a plugin run produced.
pub(crate) struct ExecToken {
    /// The bearer token.
    pub(crate) token: String,
    /// When the token stops being valid; `None` = until the server rejects it.
    pub(crate) expires: Option<SystemTime>,
}

impl ExecPlugin {
    /// A plugin description; fails for an API version other than v1 / v1beta1.
    pub(crate) fn new(
        api_version: &str,
        command: PathBuf,
        args: Vec<String>,
        env: Vec<(String, String)>,
        install_hint: Option<String>,
        origin: String,
    ) -> Result<ExecPlugin> {
        if !API_VERSIONS.contains(&api_version) {
            return Err(Error::config(format!(
                "{origin}.apiVersion {api_version:?} is not supported; use {} or {}",
                API_VERSIONS[0], API_VERSIONS[1]
            )));
        }
        if command.as_os_str().is_empty() {
            return Err(Error::config(format!("{origin}.command is not set")));
        }
        Ok(ExecPlugin {
            api_version: api_version.to_owned(),
            command,
            args,
            env,
            install_hint,
            cluster: None,
            origin,
        })
    }

    /// Passes this cluster description to the plugin as `spec.cluster`.
    pub(crate) fn with_cluster_info(mut self, cluster: serde_json::Value) -> ExecPlugin {
        self.cluster = Some(cluster);
        self
    }

    /// The `ExecCredential` request given to the plugin in `KUBERNETES_EXEC_INFO`.
    fn exec_info(&self) -> String {
        let mut spec = serde_json::json!({ "interactive": false });
        if let Some(cluster) = &self.cluster {
            spec["cluster"] = cluster.clone();
        }
        serde_json::json!({
            "apiVersion": self.api_version,
            "kind": "ExecCredential",
            "spec": spec,
        })
        .to_string()
    }

    /// Runs the plugin and returns the token it printed. A plugin that does
    /// not finish within [`EXEC_TIMEOUT`] is killed: every request waits for
    /// it, so it must not hang them all.
    pub(crate) fn run(&self) -> Result<ExecToken> {
        let output = self.output().map_err(|e| {
            let hint = match (&self.install_hint, e.kind()) {
                (Some(hint), std::io::ErrorKind::NotFound) => format!("\n{}", hint.trim_end()),
                _ => String::new(),
            };
            let message = format!(
                "{}: cannot run exec plugin {}: {e}{hint}",
                self.origin,
                self.command.display()
            );
            Error::config_with(message, e)
        })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stderr = stderr.trim();
            let start = stderr
                .char_indices()
                .rev()
                .nth(STDERR_TAIL)
                .map_or(0, |(i, _)| i);
            return Err(Error::config(format!(
                "{}: exec plugin {} failed ({}): {}",
                self.origin,
                self.command.display(),
                output.status,
                &stderr[start..]
            )));
        }
        self.parse_output(&output.stdout)
    }

    /// Runs the plugin to its end (or kills it at [`EXEC_TIMEOUT`]) and
    /// collects what it printed, at most [`EXEC_OUTPUT`] bytes of each stream.
    fn output(&self) -> std::io::Result<std::process::Output> {
        use std::io::Read;
        let mut child = Command::new(&self.command)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("KUBERNETES_EXEC_INFO", self.exec_info())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let collect = |stream: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(stream) = stream {
                    let _ = stream.take(EXEC_OUTPUT).read_to_end(&mut bytes);
                }
                bytes
            })
        };
        let stdout = collect(
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let stderr = collect(
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let deadline = std::time::Instant::now() + EXEC_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "it did not finish within {}s and was killed",
                        EXEC_TIMEOUT.as_secs()
                    ),
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        Ok(std::process::Output {
            status,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        })
    }

    /// Reads the `ExecCredential` a plugin printed.
    fn parse_output(&self, stdout: &[u8]) -> Result<ExecToken> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct ExecCredential {
            api_version: Option<String>,
            kind: Option<String>,
            status: Option<Status>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Status {
            token: Option<String>,
            expiration_timestamp: Option<String>,
            client_certificate_data: Option<String>,
        }

        let plugin = format!("{}: exec plugin {}", self.origin, self.command.display());
        let credential: ExecCredential = serde_json::from_slice(stdout).map_err(|e| {
            // serde_json's message may quote the input; give only the position.
            Error::config(format!(
                "{plugin} did not print a valid ExecCredential JSON object (error at line {} column {})",
                e.line(),
                e.column()
            ))
        })?;
        if credential.kind.as_deref() != Some("ExecCredential") {
            return Err(Error::config(format!(
                "{plugin} printed kind {:?}, expected \"ExecCredential\"",
                credential.kind.unwrap_or_default()
            )));
        }
        if credential.api_version.as_deref() != Some(self.api_version.as_str()) {
            return Err(Error::config(format!(
                "{plugin} printed apiVersion {:?}, expected {:?}",
                credential.api_version.unwrap_or_default(),
                self.api_version
            )));
        }
        let Some(status) = credential.status else {
            return Err(Error::config(format!("{plugin} printed no status")));
        };
        let token = match status.token.filter(|t| !t.is_empty()) {
            Some(token) => token,
            None if status.client_certificate_data.is_some() => {
                return Err(Error::config(format!(
                    "{plugin} returned a client certificate; only tokens from exec plugins are supported"
                )))
            }
            None => return Err(Error::config(format!("{plugin} printed no status.token"))),
        };
        let expires = match status.expiration_timestamp.filter(|t| !t.is_empty()) {
            None => None,
            Some(text) => Some(crate::time::parse_rfc3339(&text).ok_or_else(|| {
                Error::config(format!(
                    "{plugin} printed status.expirationTimestamp {text:?}, which is not an RFC 3339 time"
                ))
            })?),
        };
        Ok(ExecToken { token, expires })
    }
}

impl fmt::Debug for ExecPlugin {
    // Arguments and environment can carry secrets; show only the program.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecPlugin")
            .field("api_version", &self.api_version)
            .field("command", &self.command)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;
    use std::time::{Duration, UNIX_EPOCH};

    /// A fresh, empty directory under the system temp dir.
    pub(crate) fn temp_dir(tag: &str) -> PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "konductor-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Writes an executable shell script.
    ///
    /// A child process writes the file: had this process held it open for
    /// writing, a concurrent test's fork could inherit that descriptor and
    /// running the script would fail with "Text file busy" (ETXTBSY).
    #[cfg(unix)]
    pub(crate) fn write_script(path: &Path, body: &str) {
        use std::io::Write;
        let mut child = Command::new("/bin/sh")
            .args(["-c", "cat > \"$1\" && chmod 755 \"$1\"", "sh"])
            .arg(path)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "#!/bin/sh\n{body}").unwrap();
        drop(stdin);
        assert!(
            child.wait().unwrap().success(),
            "cannot write {}",
            path.display()
        );
    }

    fn plugin(command: PathBuf, version: &str) -> ExecPlugin {
        ExecPlugin::new(
            version,
            command,
            vec![],
            vec![],
            None,
            "kubeconfig /k: users[0].user.exec".into(),
        )
        .unwrap()
    }

    fn message(err: Error) -> String {
        match err {
            Error::Config { message, .. } => message,
            other => panic!("expected a Config error, got {other:?}"),
        }
    }

    #[test]
    #[cfg(unix)]
    fn plugin_receives_exec_info_args_and_env() {
        let dir = temp_dir("exec-info");
        let script = dir.join("plugin");
        write_script(
            &script,
            &format!(
                "printf '%s' \"$KUBERNETES_EXEC_INFO\" > {dir}/info\nprintf '%s %s' \"$1\" \"$GREETING\" > {dir}/args\n\
                 echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"tok-1\"}}}}'",
                dir = dir.display()
            ),
        );
        let plugin = ExecPlugin::new(
            "client.authentication.k8s.io/v1",
            script,
            vec!["first-arg".into()],
            vec![("GREETING".into(), "hello".into())],
            None,
            "test".into(),
        )
        .unwrap()
        .with_cluster_info(serde_json::json!({ "server": "https://k:6443" }));
        let token = plugin.run().expect("plugin output must parse");
        assert_eq!(token.token, "tok-1");
        assert!(token.expires.is_none());

        let info: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("info")).unwrap()).unwrap();
        assert_eq!(info["apiVersion"], "client.authentication.k8s.io/v1");
        assert_eq!(info["kind"], "ExecCredential");
        assert_eq!(info["spec"]["interactive"], false);
        assert_eq!(info["spec"]["cluster"]["server"], "https://k:6443");
        assert_eq!(
            std::fs::read_to_string(dir.join("args")).unwrap(),
            "first-arg hello"
        );
    }

    #[test]
    #[cfg(unix)]
    fn a_plugin_that_hangs_is_killed_at_the_timeout_with_a_config_error() {
        let dir = temp_dir("exec-hang");
        let script = dir.join("plugin");
        write_script(&script, "exec sleep 30");
        let started = std::time::Instant::now();
        let Err(error) = plugin(script, "client.authentication.k8s.io/v1").run() else {
            panic!("a plugin that hangs must not give a token");
        };
        let msg = message(error);
        assert!(msg.contains("did not finish within 2s"), "{msg}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn v1beta1_output_with_expiry_is_parsed() {
        let p = plugin("unused".into(), "client.authentication.k8s.io/v1beta1");
        let out = br#"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",
            "status":{"token":"abc","expirationTimestamp":"2030-01-01T00:00:00Z"}}"#;
        let token = p.parse_output(out).unwrap();
        assert_eq!(token.token, "abc");
        assert_eq!(
            token.expires,
            Some(UNIX_EPOCH + Duration::from_secs(1_893_456_000))
        );
    }

    #[test]
    fn unsupported_api_version_is_rejected() {
        let err = ExecPlugin::new(
            "client.authentication.k8s.io/v1alpha1",
            "x".into(),
            vec![],
            vec![],
            None,
            "kubeconfig /k: users[2].user.exec".into(),
        )
        .unwrap_err();
        let msg = message(err);
        assert!(msg.starts_with("kubeconfig /k: users[2].user.exec.apiVersion \"client.authentication.k8s.io/v1alpha1\" is not supported"), "{msg}");
    }

    #[test]
    fn wrong_output_is_a_config_error_that_does_not_quote_it() {
        let p = plugin("p".into(), "client.authentication.k8s.io/v1");
        let cases: [(&[u8], &str); 5] = [
            (b"secret-garbage", "did not print a valid ExecCredential"),
            (br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"Other"}"#, "printed kind \"Other\""),
            (br#"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}"#, "printed apiVersion"),
            (br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}"#, "printed no status.token"),
            (br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"secret-t","expirationTimestamp":"tomorrow"}}"#, "not an RFC 3339 time"),
        ];
        for (out, expected) in cases {
            let msg = message(p.parse_output(out).err().unwrap());
            assert!(msg.contains(expected), "expected {expected:?} in {msg:?}");
            assert!(
                !msg.contains("secret"),
                "error quotes the credential: {msg}"
            );
        }
    }

    #[test]
    fn client_certificate_output_is_reported_as_unsupported() {
        let p = plugin("p".into(), "client.authentication.k8s.io/v1");
        let out = br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"x","clientKeyData":"y"}}"#;
        assert!(message(p.parse_output(out).err().unwrap()).contains("only tokens"));
    }

    #[test]
    #[cfg(unix)]
    fn failing_plugin_reports_status_and_stderr() {
        let dir = temp_dir("exec-fail");
        let script = dir.join("plugin");
        write_script(&script, "echo 'please log in' >&2\nexit 3");
        let msg = message(
            plugin(script, "client.authentication.k8s.io/v1")
                .run()
                .err()
                .unwrap(),
        );
        assert!(msg.contains("exit status: 3"), "{msg}");
        assert!(msg.ends_with("please log in"), "{msg}");
    }

    #[test]
    fn missing_plugin_shows_install_hint() {
        let p = ExecPlugin::new(
            "client.authentication.k8s.io/v1",
            "/nonexistent/konductor-plugin".into(),
            vec![],
            vec![],
            Some("Install it with: brew install thing".into()),
            "kubeconfig /k: users[0].user.exec".into(),
        )
        .unwrap();
        let msg = message(p.run().err().unwrap());
        assert!(msg.starts_with("kubeconfig /k: users[0].user.exec: cannot run exec plugin /nonexistent/konductor-plugin"), "{msg}");
        assert!(
            msg.ends_with("\nInstall it with: brew install thing"),
            "{msg}"
        );
    }
}
