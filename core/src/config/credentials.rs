//! The value of the `Authorization` header, kept fresh: static tokens, token
//! files that are rotated underneath us, and exec plugins whose tokens expire.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;

use crate::config::exec_plugin::ExecPlugin;
use crate::error::{Error, Result};

/// A token file is re-read at least this often even if it looks unchanged
/// (client-go's cachingTokenSource uses the same period).
const TOKEN_FILE_MAX_AGE: Duration = Duration::from_secs(60);

/// An exec credential this close to its expiry is refreshed before use.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);

/// Where the `Authorization` header comes from; cheap to clone, shared cache.
#[derive(Clone)]
pub(crate) struct Credentials {
    inner: Arc<Inner>,
}

struct Inner {
    source: Source,
    cache: Mutex<Cache>,
}

enum Source {
    None,
    /// A complete header value (`Bearer …` or `Basic …`).
    Static(String),
    /// A bearer token read from a file; `fallback` is used while the file
    /// cannot be read (kubeconfig `token` next to `tokenFile`).
    TokenFile {
        path: PathBuf,
        fallback: Option<String>,
    },
    Exec(ExecPlugin),
}

#[derive(Default)]
struct Cache {
    header: Option<String>,
    /// Exec credentials: when the cached token expires.
    expires: Option<SystemTime>,
    /// Token files: modification time and length at the last read, and when
    /// that read happened.
    file_stamp: Option<(Option<SystemTime>, u64)>,
    read_at: Option<Instant>,
}

impl Credentials {
    fn from_source(source: Source) -> Credentials {
        Credentials {
            inner: Arc::new(Inner {
                source,
                cache: Mutex::new(Cache::default()),
            }),
        }
    }

    /// No `Authorization` header.
    pub(crate) fn none() -> Credentials {
        Credentials::from_source(Source::None)
    }

    /// A fixed bearer token.
    pub(crate) fn bearer(token: &str) -> Credentials {
        Credentials::from_source(Source::Static(format!("Bearer {}", token.trim())))
    }

    /// HTTP basic authentication.
    pub(crate) fn basic(username: &str, password: &str) -> Credentials {
        let pair =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        Credentials::from_source(Source::Static(format!("Basic {pair}")))
    }

    /// A bearer token read from `path`, re-read when the file changes.
    pub(crate) fn token_file(path: PathBuf, fallback: Option<String>) -> Credentials {
        Credentials::from_source(Source::TokenFile { path, fallback })
    }

    /// A bearer token obtained by running an exec plugin, refreshed on expiry.
    pub(crate) fn exec(plugin: ExecPlugin) -> Credentials {
        Credentials::from_source(Source::Exec(plugin))
    }

    /// The value for the Authorization header, if any ("Bearer …" or "Basic …").
    ///
    /// Fails when a token file cannot be read (and nothing was read before)
    /// or an exec plugin fails.
    pub(crate) fn authorization(&self) -> Result<Option<String>> {
        match &self.inner.source {
            Source::None => Ok(None),
            Source::Static(header) => Ok(Some(header.clone())),
            Source::TokenFile { path, fallback } => {
                self.read_token_file(path, fallback.as_deref()).map(Some)
            }
            Source::Exec(plugin) => self.run_exec(plugin).map(Some),
        }
    }

    /// Called after a 401: drop cached exec/token-file credentials so the next call refreshes.
    pub(crate) fn invalidate(&self) {
        *self.cache() = Cache::default();
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        // The cache holds no invariant a panicking holder could break.
        self.inner
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read_token_file(&self, path: &std::path::Path, fallback: Option<&str>) -> Result<String> {
        let mut cache = self.cache();
        // Service account tokens are rotated by swapping a symlink, so the
        // metadata of the path (followed) changes when the token does.
        let stamp = std::fs::metadata(path)
            .ok()
            .map(|m| (m.modified().ok(), m.len()));
        if let (Some(header), Some(read_at)) = (&cache.header, cache.read_at) {
            if stamp.is_some()
                && stamp == cache.file_stamp
                && read_at.elapsed() < TOKEN_FILE_MAX_AGE
            {
                return Ok(header.clone());
            }
        }
        let read = std::fs::read_to_string(path)
            .map_err(|e| {
                let message = format!("cannot read token file {}: {e}", path.display());
                Error::config_with(message, e)
            })
            .and_then(|text| match text.trim() {
                "" => Err(Error::config(format!(
                    "token file {} is empty",
                    path.display()
                ))),
                token => Ok(format!("Bearer {token}")),
            });
        match read {
            Ok(header) => {
                *cache = Cache {
                    header: Some(header.clone()),
                    expires: None,
                    file_stamp: stamp,
                    read_at: Some(Instant::now()),
                };
                Ok(header)
            }
            // A token that was good a moment ago beats no token while the
            // file is being replaced; the server will say if it is not.
            Err(err) => match (&cache.header, fallback) {
                (Some(header), _) => Ok(header.clone()),
                (None, Some(token)) => Ok(format!("Bearer {}", token.trim())),
                (None, None) => Err(err),
            },
        }
    }

    fn run_exec(&self, plugin: &ExecPlugin) -> Result<String> {
        // Holding the lock while the plugin runs makes concurrent callers
        // wait for one run instead of starting one each.
        let mut cache = self.cache();
        if let Some(header) = &cache.header {
            let fresh = cache
                .expires
                .map_or(true, |expires| SystemTime::now() + EXPIRY_MARGIN < expires);
            if fresh {
                return Ok(header.clone());
            }
        }
        let token = plugin.run()?;
        let header = format!("Bearer {}", token.token.trim());
        *cache = Cache {
            header: Some(header.clone()),
            expires: token.expires,
            ..Cache::default()
        };
        Ok(header)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.source {
            Source::None => f.write_str("None"),
            Source::Static(header) => {
                let scheme = header.split(' ').next().unwrap_or_default();
                write!(f, "{scheme} <redacted>")
            }
            Source::TokenFile { path, .. } => f.debug_tuple("TokenFile").field(path).finish(),
            Source::Exec(plugin) => plugin.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::exec_plugin::tests::temp_dir;

    fn set_mtime(path: &std::path::Path, secs: u64) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
            .unwrap();
    }

    #[test]
    fn static_token_and_basic_auth_headers() {
        assert_eq!(Credentials::none().authorization().unwrap(), None);
        assert_eq!(
            Credentials::bearer("abc\n")
                .authorization()
                .unwrap()
                .as_deref(),
            Some("Bearer abc")
        );
        assert_eq!(
            Credentials::basic("admin", "s3cret")
                .authorization()
                .unwrap()
                .as_deref(),
            Some("Basic YWRtaW46czNjcmV0")
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let token = format!("{:?}", Credentials::bearer("very-secret-token"));
        let basic = format!("{:?}", Credentials::basic("admin", "very-secret-password"));
        assert_eq!(token, "Bearer <redacted>");
        assert_eq!(basic, "Basic <redacted>");
    }

    #[test]
    fn token_file_is_reread_after_rewrite() {
        let dir = temp_dir("token-file");
        let path = dir.join("token");
        std::fs::write(&path, "first\n").unwrap();
        set_mtime(&path, 1_000);
        let creds = Credentials::token_file(path.clone(), None);
        assert_eq!(
            creds.authorization().unwrap().as_deref(),
            Some("Bearer first")
        );

        std::fs::write(&path, "second").unwrap();
        set_mtime(&path, 2_000);
        assert_eq!(
            creds.authorization().unwrap().as_deref(),
            Some("Bearer second"),
            "a rewritten token file must be picked up on the next call"
        );
    }

    #[test]
    fn token_file_unchanged_is_served_from_cache() {
        let dir = temp_dir("token-cache");
        let path = dir.join("token");
        std::fs::write(&path, "aaaa").unwrap();
        set_mtime(&path, 1_000);
        let creds = Credentials::token_file(path.clone(), None);
        assert_eq!(
            creds.authorization().unwrap().as_deref(),
            Some("Bearer aaaa")
        );
        // Same length and mtime: looks unchanged, so the cached token is used
        // until the cache is invalidated.
        std::fs::write(&path, "bbbb").unwrap();
        set_mtime(&path, 1_000);
        assert_eq!(
            creds.authorization().unwrap().as_deref(),
            Some("Bearer aaaa")
        );
        creds.invalidate();
        assert_eq!(
            creds.authorization().unwrap().as_deref(),
            Some("Bearer bbbb")
        );
    }

    #[test]
    fn missing_token_file_is_an_error_unless_something_was_read() {
        let dir = temp_dir("token-missing");
        let path = dir.join("token");
        let err = Credentials::token_file(path.clone(), None)
            .authorization()
            .unwrap_err();
        assert!(err.to_string().contains("cannot read token file"), "{err}");

        let with_fallback = Credentials::token_file(path.clone(), Some("static".into()));
        assert_eq!(
            with_fallback.authorization().unwrap().as_deref(),
            Some("Bearer static")
        );

        std::fs::write(&path, "from-file").unwrap();
        let creds = Credentials::token_file(path.clone(), None);
        assert_eq!(
            creds.authorization().unwrap().as_deref(),
            Some("Bearer from-file")
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            creds.authorization().unwrap().as_deref(),
            Some("Bearer from-file")
        );
    }

    #[test]
    fn empty_token_file_is_an_error() {
        let dir = temp_dir("token-empty");
        let path = dir.join("token");
        std::fs::write(&path, "\n").unwrap();
        let err = Credentials::token_file(path, None)
            .authorization()
            .unwrap_err();
        assert!(err.to_string().contains("is empty"), "{err}");
    }

    #[cfg(unix)]
    mod exec {
        use super::*;
        use crate::config::exec_plugin::tests::write_script;

        /// A plugin that counts its runs in `dir/count` and returns a token
        /// `tok-<n>` expiring `expiry` (an RFC 3339 time, or "" for none).
        fn counting_plugin(dir: &std::path::Path, expiry: &str) -> Credentials {
            let script = dir.join("plugin");
            let count = dir.join("count");
            let expiry_field = if expiry.is_empty() {
                String::new()
            } else {
                format!(",\"expirationTimestamp\":\"{expiry}\"")
            };
            let body = format!(
                "n=$(cat {count} 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > {count}\n\
                 printf '{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\
                 \"status\":{{\"token\":\"tok-%s\"{expiry_field}}}}}' \"$n\"",
                count = count.display(),
            );
            write_script(&script, &body);
            let plugin = ExecPlugin::new(
                "client.authentication.k8s.io/v1beta1",
                script,
                vec![],
                vec![],
                None,
                "test".into(),
            )
            .unwrap();
            Credentials::exec(plugin)
        }

        fn runs(dir: &std::path::Path) -> u32 {
            std::fs::read_to_string(dir.join("count"))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        }

        #[test]
        fn unexpired_exec_token_is_reused() {
            let dir = temp_dir("exec-reuse");
            let creds = counting_plugin(&dir, "2999-01-01T00:00:00Z");
            assert_eq!(
                creds.authorization().unwrap().as_deref(),
                Some("Bearer tok-1")
            );
            assert_eq!(
                creds.clone().authorization().unwrap().as_deref(),
                Some("Bearer tok-1")
            );
            assert_eq!(
                runs(&dir),
                1,
                "a token valid for centuries must not be refreshed"
            );
        }

        #[test]
        fn exec_token_near_expiry_is_refreshed() {
            let dir = temp_dir("exec-expiry");
            // Expires in 5 s: inside the 10 s margin, so every call refreshes.
            let soon = crate::time::format_rfc3339(SystemTime::now() + Duration::from_secs(5));
            let creds = counting_plugin(&dir, &soon);
            assert_eq!(
                creds.authorization().unwrap().as_deref(),
                Some("Bearer tok-1")
            );
            assert_eq!(
                creds.authorization().unwrap().as_deref(),
                Some("Bearer tok-2")
            );
            assert_eq!(runs(&dir), 2, "a token about to expire must be refreshed");
        }

        #[test]
        fn exec_token_without_expiry_is_refreshed_only_after_invalidate() {
            let dir = temp_dir("exec-invalidate");
            let creds = counting_plugin(&dir, "");
            assert_eq!(
                creds.authorization().unwrap().as_deref(),
                Some("Bearer tok-1")
            );
            assert_eq!(
                creds.authorization().unwrap().as_deref(),
                Some("Bearer tok-1")
            );
            creds.invalidate();
            assert_eq!(
                creds.authorization().unwrap().as_deref(),
                Some("Bearer tok-2")
            );
            assert_eq!(runs(&dir), 2);
        }

        #[test]
        fn concurrent_callers_share_one_plugin_run() {
            let dir = temp_dir("exec-concurrent");
            let creds = counting_plugin(&dir, "");
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    let creds = creds.clone();
                    std::thread::spawn(move || creds.authorization().unwrap())
                })
                .collect();
            for t in threads {
                assert_eq!(t.join().unwrap().as_deref(), Some("Bearer tok-1"));
            }
            assert_eq!(runs(&dir), 1);
        }
    }
}
