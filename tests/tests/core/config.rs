//! Config loading against the real API server: kubeconfigs with a token, a
//! token file, an exec plugin, client certificates, merged paths and named
//! contexts, TLS verification, and Config errors that name the file and field.
//! Each kubeconfig is written to a temporary directory from the pieces of the
//! admin kubeconfig (server, CA, token).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use base64::Engine;
use konductor::{Client, Config, Error};
use konductor_tests::cluster::cluster;
use konductor_tests::kubeconfig::{admin_access, Access};
use konductor_tests::namespace::Namespace;
use konductor_tests::proxy::Proxy;

/// Serializes the tests that change process environment variables.
static ENV: Mutex<()> = Mutex::new(());

/// A directory for one test's files, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("core-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    fn executable(&self, name: &str, script: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.write(name, script);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The admin pieces, or None (with a note) when the cluster is not token-authenticated with a CA.
fn access(test: &str) -> Option<(Access, String, String)> {
    let access = admin_access();
    let (Some(ca), Some(token)) = (access.ca_pem.clone(), access.token.clone()) else {
        println!("skipped {test}: the test kubeconfig has no CA data and bearer token to derive kubeconfigs from");
        return None;
    };
    let ca_data = base64::engine::general_purpose::STANDARD.encode(ca);
    Some((access, ca_data, token))
}

/// A one-cluster, one-context kubeconfig; `user` is the YAML of the user entry's body.
fn kubeconfig(server: &str, cluster_extra: &str, user: &str, namespace: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: test\nclusters:\n- name: c\n  cluster:\n    server: {server}\n{cluster_extra}\
         users:\n- name: u\n  user:\n{user}contexts:\n- name: test\n  context: {{cluster: c, user: u, namespace: {namespace}}}\n"
    )
}

fn ca_line(ca_data: &str) -> String {
    format!("    certificate-authority-data: {ca_data}\n")
}

/// Proves the config works: a semaphore in `ns` is visible, and the namespace came from the context.
fn works(config: Config, ns: &Namespace) {
    assert_eq!(config.namespace(), ns.name, "namespace from the context");
    let client = Client::new(Some(config)).expect("client");
    let names: Vec<String> = client
        .list_semaphores()
        .expect("list with this config")
        .iter()
        .map(|s| s.name().to_owned())
        .collect();
    assert_eq!(names, ["probe"]);
}

fn namespace_with_probe(prefix: &str) -> Namespace {
    let ns = Namespace::new(prefix);
    ns.admin()
        .create_semaphore("probe", 1, None)
        .expect("create probe");
    ns
}

#[track_caller]
fn expect_config_error<T: std::fmt::Debug>(result: Result<T, Error>, needles: &[&str]) -> String {
    match result {
        Err(error @ Error::Config { .. }) => {
            let message = error.to_string();
            for needle in needles {
                assert!(
                    message.contains(needle),
                    "expected the Config error to mention {needle:?}: {message}"
                );
            }
            println!("Config error: {message}");
            message
        }
        other => panic!("expected a Config error mentioning {needles:?}, got {other:?}"),
    }
}

#[test]
fn a_kubeconfig_with_an_inline_token_reaches_the_cluster() {
    let Some((access, ca_data, token)) = access("inline token") else {
        return;
    };
    let ns = namespace_with_probe("cfg-token");
    let dir = Scratch::new("token");
    let path = dir.write(
        "config",
        &kubeconfig(
            &access.server,
            &ca_line(&ca_data),
            &format!("    token: {token}\n"),
            &ns.name,
        ),
    );
    works(Config::from_kubeconfig(&path, None).expect("load"), &ns);
    let debug = format!("{:?}", Config::from_kubeconfig(&path, None).expect("load"));
    assert!(
        !debug.contains(&token),
        "Debug output must not show the token: {debug}"
    );
}

#[test]
fn a_token_file_is_read_and_reread_when_it_changes() {
    let Some((access, ca_data, token)) = access("token file") else {
        return;
    };
    let ns = namespace_with_probe("cfg-tokenfile");
    let dir = Scratch::new("tokenfile");
    dir.write("token", &format!("{token}\n"));
    // A relative tokenFile is taken from the kubeconfig's directory.
    let path = dir.write(
        "config",
        &kubeconfig(
            &access.server,
            &ca_line(&ca_data),
            "    tokenFile: token\n",
            &ns.name,
        ),
    );
    let client =
        Client::new(Some(Config::from_kubeconfig(&path, None).expect("load"))).expect("client");
    client
        .get_semaphore("probe")
        .expect("token from the file works");

    dir.write("token", "a-rotated-token-that-is-not-valid\n");
    match client.get_semaphore("probe") {
        Err(Error::Unauthorized(_)) => {}
        other => panic!("expected Unauthorized after the file got a bad token, got {other:?}"),
    }
    dir.write("token", &format!("{token}\n"));
    client
        .get_semaphore("probe")
        .expect("the good token is read again");

    std::fs::remove_file(dir.0.join("token")).expect("remove token file");
    expect_config_error(
        Config::from_kubeconfig(&path, None),
        &[
            "users[0].user",
            "tokenFile",
            &dir.0.join("token").display().to_string(),
        ],
    );
}

#[test]
fn an_exec_plugin_supplies_the_token_and_is_rerun_only_near_expiry() {
    let Some((access, ca_data, token)) = access("exec plugin") else {
        return;
    };
    let ns = namespace_with_probe("cfg-exec");
    let dir = Scratch::new("exec");
    // Counts its runs, checks what it was given, and prints an ExecCredential.
    let plugin = dir.executable(
        "plugin.sh",
        "#!/bin/sh\nset -e\necho run >> \"$1\"\ncase \"$KUBERNETES_EXEC_INFO\" in *ExecCredential*) ;; *) echo 'no exec info' >&2; exit 3;; esac\n\
         printf '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"%s}}' \"$API_VERSION\" \"$PLUGIN_TOKEN\" \"$EXPIRY\"\n",
    );
    let runs = |name: &str| {
        std::fs::read_to_string(dir.0.join(name))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let exec_user = |api: &str, counter: &str, expiry: &str| {
        format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/{api}\n      command: ./plugin.sh\n      args: [{counter}]\n      \
             interactiveMode: Never\n      env:\n      - {{name: PLUGIN_TOKEN, value: {token}}}\n      \
             - {{name: API_VERSION, value: client.authentication.k8s.io/{api}}}\n      - {{name: EXPIRY, value: '{expiry}'}}\n",
            counter = dir.0.join(counter).display()
        )
    };
    assert!(plugin.exists());

    // v1 without expiry: one run serves every request.
    let path = dir.write(
        "v1",
        &kubeconfig(
            &access.server,
            &ca_line(&ca_data),
            &exec_user("v1", "v1.runs", ""),
            &ns.name,
        ),
    );
    let client =
        Client::new(Some(Config::from_kubeconfig(&path, None).expect("load v1"))).expect("client");
    for _ in 0..3 {
        client
            .get_semaphore("probe")
            .expect("request with the plugin's token");
    }
    assert_eq!(
        runs("v1.runs"),
        1,
        "expected one plugin run for 3 requests with a token that does not expire"
    );

    // v1beta1 with a token expiring within the refresh margin: run again before every request.
    let soon = ",\"expirationTimestamp\":\"2000-01-01T00:00:00Z\"";
    let path = dir.write(
        "v1beta1",
        &kubeconfig(
            &access.server,
            &ca_line(&ca_data),
            &exec_user("v1beta1", "beta.runs", soon),
            &ns.name,
        ),
    );
    let client = Client::new(Some(
        Config::from_kubeconfig(&path, None).expect("load v1beta1"),
    ))
    .expect("client");
    for _ in 0..3 {
        client
            .get_semaphore("probe")
            .expect("request with the plugin's token");
    }
    assert_eq!(
        runs("beta.runs"),
        3,
        "expected a fresh plugin run for each request while the token is expired"
    );

    // A token far in the future is cached.
    let later = ",\"expirationTimestamp\":\"2999-01-01T00:00:00Z\"";
    let path = dir.write(
        "later",
        &kubeconfig(
            &access.server,
            &ca_line(&ca_data),
            &exec_user("v1", "later.runs", later),
            &ns.name,
        ),
    );
    let client =
        Client::new(Some(Config::from_kubeconfig(&path, None).expect("load"))).expect("client");
    client.get_semaphore("probe").expect("first");
    client.get_semaphore("probe").expect("second");
    assert_eq!(runs("later.runs"), 1);

    // A plugin that fails or prints the wrong apiVersion is a Config error naming the plugin.
    dir.executable("fail.sh", "#!/bin/sh\necho 'login required' >&2\nexit 7\n");
    let user = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./fail.sh\n      interactiveMode: Never\n";
    let path = dir.write(
        "failing",
        &kubeconfig(&access.server, &ca_line(&ca_data), user, &ns.name),
    );
    let client =
        Client::new(Some(Config::from_kubeconfig(&path, None).expect("load"))).expect("client");
    expect_config_error(
        client.get_semaphore("probe"),
        &[
            "users[0].user.exec",
            "fail.sh",
            "exit status: 7",
            "login required",
        ],
    );
    let path = dir.write(
        "mismatch",
        &kubeconfig(
            &access.server,
            &ca_line(&ca_data),
            &exec_user("v1", "m.runs", "").replace(
                "value: client.authentication.k8s.io/v1}",
                "value: client.authentication.k8s.io/v1beta1}",
            ),
            &ns.name,
        ),
    );
    let client =
        Client::new(Some(Config::from_kubeconfig(&path, None).expect("load"))).expect("client");
    expect_config_error(client.get_semaphore("probe"), &["apiVersion", "plugin.sh"]);
}

#[test]
fn merged_kubeconfig_paths_take_the_first_definition_of_each_name() {
    let Some((access, ca_data, token)) = access("merged paths") else {
        return;
    };
    let ns = namespace_with_probe("cfg-merge");
    let dir = Scratch::new("merge");
    // `first` has the current context and the good user; `second` the cluster and a bad user of the same name.
    let first = dir.write(
        "first",
        &format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: ctx\ncontexts:\n- name: ctx\n  context: {{cluster: c, user: u, namespace: {}}}\n\
             users:\n- name: u\n  user:\n    token: {token}\n",
            ns.name
        ),
    );
    let second = dir.write(
        "second",
        &format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: elsewhere\nclusters:\n- name: c\n  cluster:\n    server: {}\n{}\
             users:\n- name: u\n  user:\n    token: not-the-right-token\ncontexts:\n- name: elsewhere\n  context: {{cluster: c, user: u, namespace: {}}}\n",
            access.server,
            ca_line(&ca_data),
            ns.name
        ),
    );
    let missing = dir.0.join("does-not-exist");
    works(
        Config::from_kubeconfig_paths(&[missing.clone(), first.clone(), second.clone()], None)
            .expect("merge"),
        &ns,
    );

    let reversed = Config::from_kubeconfig_paths(&[second.clone(), first.clone()], None)
        .expect("merge reversed");
    let client = Client::new(Some(reversed)).expect("client");
    match client.list_semaphores() {
        Err(Error::Unauthorized(_)) => {}
        other => panic!(
            "expected the second file's user (bad token) to win when it comes first, got {other:?}"
        ),
    }
    // `ctx` is defined only in `first`, but user `u` comes from `second`, which is listed first.
    let named = Config::from_kubeconfig_paths(&[second.clone(), first.clone()], Some("ctx"))
        .expect("named context");
    assert_eq!(
        named.namespace(),
        ns.name,
        "namespace of ctx from the file that defines it"
    );
    match Client::new(Some(named)).expect("client").list_semaphores() {
        Err(Error::Unauthorized(_)) => {}
        other => panic!("expected Unauthorized with the first-listed file's user, got {other:?}"),
    }

    // KUBECONFIG with several paths, as `Config::from_kubeconfig_env` and `Config::infer` read it.
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let joined = std::env::join_paths([&missing, &first, &second]).expect("join paths");
    let saved = std::env::var_os("KUBECONFIG");
    std::env::set_var("KUBECONFIG", &joined);
    let from_env = Config::from_kubeconfig_env(None);
    let inferred = if std::env::var_os("KUBERNETES_SERVICE_HOST").is_none() {
        Some(Config::infer())
    } else {
        None
    };
    match saved {
        Some(value) => std::env::set_var("KUBECONFIG", value),
        None => std::env::remove_var("KUBECONFIG"),
    }
    works(from_env.expect("KUBECONFIG with three paths"), &ns);
    if let Some(inferred) = inferred {
        works(
            inferred.expect("infer falls back to KUBECONFIG outside a cluster"),
            &ns,
        );
    }
}

#[test]
fn a_named_context_selects_its_user_and_namespace() {
    let Some((access, ca_data, token)) = access("named context") else {
        return;
    };
    let ns = namespace_with_probe("cfg-context");
    let dir = Scratch::new("context");
    let path = dir.write(
        "config",
        &format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: broken\nclusters:\n- name: c\n  cluster:\n    server: {}\n{}\
             users:\n- name: good\n  user: {{token: {token}}}\n- name: bad\n  user: {{token: nope}}\n\
             contexts:\n- name: broken\n  context: {{cluster: c, user: bad, namespace: default}}\n\
             - name: right\n  context: {{cluster: c, user: good, namespace: {}}}\n",
            access.server,
            ca_line(&ca_data),
            ns.name
        ),
    );
    works(
        Config::from_kubeconfig(&path, Some("right")).expect("named context"),
        &ns,
    );
    let current = Config::from_kubeconfig(&path, None).expect("current context");
    assert_eq!(current.namespace(), "default");
    expect_config_error(
        Config::from_kubeconfig(&path, Some("absent")),
        &["\"absent\"", &path.display().to_string()],
    );
    // with_namespace overrides the context's namespace.
    let other = Config::from_kubeconfig(&path, Some("right"))
        .expect("load")
        .with_namespace("elsewhere");
    assert_eq!(other.namespace(), "elsewhere");
}

#[test]
fn missing_and_garbled_kubeconfigs_are_config_errors_naming_the_file_and_field() {
    let dir = Scratch::new("garbled");
    let missing = dir.0.join("missing.yaml");
    let shown = missing.display().to_string();
    expect_config_error(Config::from_kubeconfig(&missing, None), &[&shown]);
    expect_config_error(
        Config::from_kubeconfig_paths(std::slice::from_ref(&missing), None),
        &[&shown],
    );

    let garbled = dir.write("garbled.yaml", "clusters: [\n  - name: : :\n\t{{{\n");
    expect_config_error(
        Config::from_kubeconfig(&garbled, None),
        &[&garbled.display().to_string(), "YAML"],
    );
    let scalar = dir.write("scalar.yaml", "eyJhbGciOiJSUzI1NiJ9.just-a-token\n");
    let message = expect_config_error(
        Config::from_kubeconfig(&scalar, None),
        &[&scalar.display().to_string()],
    );
    assert!(
        !message.contains("eyJhbGciOiJSUzI1NiJ9"),
        "the file's content is not echoed: {message}"
    );
    // A garbled file among merged paths is an error too, not skipped.
    let good = dir.write(
        "good.yaml",
        &kubeconfig("https://127.0.0.1:1", "", "    token: t\n", "default"),
    );
    expect_config_error(
        Config::from_kubeconfig_paths(&[good.clone(), garbled.clone()], None),
        &[&garbled.display().to_string()],
    );

    let no_server = dir.write(
        "no-server.yaml",
        &kubeconfig("''", "", "    token: t\n", "default"),
    );
    expect_config_error(
        Config::from_kubeconfig(&no_server, None),
        &[
            &no_server.display().to_string(),
            "clusters[0].cluster.server",
        ],
    );
    let bad_ca = dir.write(
        "bad-ca.yaml",
        &kubeconfig(
            "https://127.0.0.1:1",
            "    certificate-authority-data: '%%% not base64'\n",
            "    token: t\n",
            "default",
        ),
    );
    expect_config_error(
        Config::from_kubeconfig(&bad_ca, None),
        &[&bad_ca.display().to_string(), "certificate-authority-data"],
    );
    let missing_ca = dir.write(
        "missing-ca.yaml",
        &kubeconfig(
            "https://127.0.0.1:1",
            "    certificate-authority: nowhere/ca.crt\n",
            "    token: t\n",
            "default",
        ),
    );
    expect_config_error(
        Config::from_kubeconfig(&missing_ca, None),
        &[
            &missing_ca.display().to_string(),
            "certificate-authority",
            "nowhere/ca.crt",
        ],
    );
    let dangling = dir.write(
        "dangling.yaml",
        &kubeconfig("https://127.0.0.1:1", "", "    token: t\n", "default")
            .replace("cluster: c,", "cluster: nowhere,"),
    );
    expect_config_error(
        Config::from_kubeconfig(&dangling, None),
        &[&dangling.display().to_string(), "\"nowhere\""],
    );
}

#[test]
fn tls_verification_is_on_unless_the_kubeconfig_turns_it_off() {
    let Some((access, _, token)) = access("TLS verification") else {
        return;
    };
    let ns = namespace_with_probe("cfg-tls");
    let dir = Scratch::new("tls");
    let user = format!("    token: {token}\n");
    let no_ca = dir.write("no-ca", &kubeconfig(&access.server, "", &user, &ns.name));
    let client =
        Client::new(Some(Config::from_kubeconfig(&no_ca, None).expect("load"))).expect("client");
    match client.list_semaphores() {
        Err(Error::Transport { .. }) => {}
        other => panic!("expected a TLS failure against the system roots, got {other:?}"),
    }
    let other_ca =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/ca.crt"))
            .expect("fixture CA");
    let wrong = ca_line(&base64::engine::general_purpose::STANDARD.encode(other_ca));
    let wrong_ca = dir.write(
        "wrong-ca",
        &kubeconfig(&access.server, &wrong, &user, &ns.name),
    );
    let client = Client::new(Some(
        Config::from_kubeconfig(&wrong_ca, None).expect("load"),
    ))
    .expect("client");
    match client.list_semaphores() {
        Err(Error::Transport { .. }) => {}
        other => panic!("expected a TLS failure with another CA, got {other:?}"),
    }
    let insecure = dir.write(
        "insecure",
        &kubeconfig(
            &access.server,
            "    insecure-skip-tls-verify: true\n",
            &user,
            &ns.name,
        ),
    );
    works(Config::from_kubeconfig(&insecure, None).expect("load"), &ns);
}

#[test]
fn an_explicit_config_needs_no_kubeconfig() {
    let Some((access, _, token)) = access("explicit config") else {
        return;
    };
    let ns = namespace_with_probe("cfg-explicit");
    let ca = access.ca_pem.clone().expect("CA");
    let config = Config::new(&access.server)
        .expect("URL")
        .with_ca_pem(&ca)
        .with_token(&token)
        .with_namespace(&ns.name);
    assert_eq!(config.server(), access.server.trim_end_matches('/'));
    works(config, &ns);
    let dir = Scratch::new("explicit");
    let file = dir.write("token", &token);
    works(
        Config::new(&access.server)
            .expect("URL")
            .with_ca_pem(&ca)
            .with_token_file(file)
            .with_namespace(&ns.name),
        &ns,
    );
    expect_config_error(Config::new("ftp://example.com"), &["ftp://example.com"]);
}

/// Signs a client certificate for `user` in `group` with the local control plane's CA.
/// With `v3` the certificate carries extensions (X.509 v3); without, it is a
/// v1 certificate, which Go's TLS stack (kubectl, the API server) accepts too.
fn issue_client_certificate(
    dir: &Scratch,
    pki: &Path,
    user: &str,
    group: &str,
    v3: bool,
) -> Option<(PathBuf, PathBuf)> {
    let key = dir.0.join("client.key");
    let csr = dir.0.join("client.csr");
    let crt = dir.0.join("client.crt");
    let extensions = dir.write(
        "client.ext",
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
    );
    let mut steps: [Vec<String>; 3] = [
        vec![
            "genpkey".into(),
            "-algorithm".into(),
            "EC".into(),
            "-pkeyopt".into(),
            "ec_paramgen_curve:P-256".into(),
            "-out".into(),
            key.display().to_string(),
        ],
        vec![
            "req".into(),
            "-new".into(),
            "-key".into(),
            key.display().to_string(),
            "-subj".into(),
            format!("/O={group}/CN={user}"),
            "-out".into(),
            csr.display().to_string(),
        ],
        vec![
            "x509".into(),
            "-req".into(),
            "-in".into(),
            csr.display().to_string(),
            "-CA".into(),
            pki.join("ca.crt").display().to_string(),
            "-CAkey".into(),
            pki.join("ca.key").display().to_string(),
            "-CAcreateserial".into(),
            "-CAserial".into(),
            dir.0.join("ca.srl").display().to_string(),
            "-extfile".into(),
            extensions.display().to_string(),
            "-days".into(),
            "1".into(),
            "-out".into(),
            crt.display().to_string(),
        ],
    ];
    if !v3 {
        let at = steps[2]
            .iter()
            .position(|a| a == "-extfile")
            .expect("-extfile");
        steps[2].drain(at..at + 2);
    }
    for args in steps {
        let output = Command::new("openssl").args(&args).output().ok()?;
        if !output.status.success() {
            println!(
                "openssl {} failed: {}",
                args[0],
                String::from_utf8_lossy(&output.stderr)
            );
            return None;
        }
    }
    Some((crt, key))
}

#[test]
fn client_certificates_authenticate_as_data_or_files() {
    let Some(pki) = cluster().pki.clone() else {
        println!("skipped: client certificates need the local control plane's CA key (not available with KONDUCTOR_TEST_KUBECONFIG)");
        return;
    };
    let Some((access, ca_data, _)) = access("client certificates") else {
        return;
    };
    let ns = namespace_with_probe("cfg-cert");
    let dir = Scratch::new("cert");
    let Some((crt, key)) =
        issue_client_certificate(&dir, &pki, "konductor-cert-user", "system:masters", true)
    else {
        println!("skipped: openssl could not issue a client certificate");
        return;
    };
    let b64 = |p: &Path| {
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(p).expect("read PEM"))
    };
    let as_data = format!(
        "    client-certificate-data: {}\n    client-key-data: {}\n",
        b64(&crt),
        b64(&key)
    );
    let path = dir.write(
        "data",
        &kubeconfig(&access.server, &ca_line(&ca_data), &as_data, &ns.name),
    );
    works(
        Config::from_kubeconfig(&path, None).expect("load certificate data"),
        &ns,
    );
    let as_files = "    client-certificate: client.crt\n    client-key: client.key\n";
    let path = dir.write(
        "files",
        &kubeconfig(&access.server, &ca_line(&ca_data), as_files, &ns.name),
    );
    works(
        Config::from_kubeconfig(&path, None).expect("load certificate files"),
        &ns,
    );
    let config = Config::new(&access.server)
        .expect("URL")
        .with_ca_pem(&access.ca_pem.clone().expect("CA"))
        .with_client_cert_pem(
            &std::fs::read(&crt).expect("crt"),
            &std::fs::read(&key).expect("key"),
        )
        .with_namespace(&ns.name);
    works(config, &ns);

    let wrong_key = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/other.key"),
    )
    .expect("fixture key");
    let mismatched = format!(
        "    client-certificate-data: {}\n    client-key-data: {}\n",
        b64(&crt),
        base64::engine::general_purpose::STANDARD.encode(wrong_key)
    );
    let path = dir.write(
        "mismatched",
        &kubeconfig(&access.server, &ca_line(&ca_data), &mismatched, &ns.name),
    );
    let result = Config::from_kubeconfig(&path, None)
        .and_then(|c| Client::new(Some(c)))
        .and_then(|c| c.list_semaphores());
    assert!(
        matches!(result, Err(Error::Config { .. })),
        "expected a Config error for a key that does not match the certificate, got {result:?}"
    );
}

#[test]
fn requests_go_through_the_configured_proxy() {
    let Some((access, ca_data, token)) = access("proxy") else {
        return;
    };
    let ns = namespace_with_probe("cfg-proxy");
    let proxy = Proxy::start();
    let dir = Scratch::new("proxy");
    let cluster_extra = format!("{}    proxy-url: {}\n", ca_line(&ca_data), proxy.url);
    let path = dir.write(
        "config",
        &kubeconfig(
            &access.server,
            &cluster_extra,
            &format!("    token: {token}\n"),
            &ns.name,
        ),
    );
    works(Config::from_kubeconfig(&path, None).expect("load"), &ns);
    let through_kubeconfig = proxy.tunnels();
    assert!(
        through_kubeconfig >= 1,
        "expected the request to tunnel through the kubeconfig's proxy-url"
    );

    let explicit = Config::new(&access.server)
        .expect("URL")
        .with_ca_pem(&access.ca_pem.clone().expect("CA"))
        .with_token(&token)
        .with_proxy(&proxy.url)
        .with_namespace(&ns.name);
    works(explicit, &ns);
    let total = proxy.tunnels();
    println!("{total} CONNECT tunnels opened through the test proxy");
    assert!(
        total > through_kubeconfig,
        "expected Config::with_proxy to tunnel too"
    );

    let dead = Config::new(&access.server)
        .expect("URL")
        .with_ca_pem(&access.ca_pem.clone().expect("CA"))
        .with_token(&token)
        .with_proxy("http://127.0.0.1:1")
        .with_namespace(&ns.name);
    let result = Client::new(Some(dead)).expect("client").list_semaphores();
    assert!(
        matches!(result, Err(Error::Transport { .. })),
        "expected Transport through a dead proxy, got {result:?}"
    );
}

/// kubectl accepts X.509 v1 client certificates; rustls reads only v3, so
/// the client must refuse them at load with a message that says so (never
/// fail later, or panic inside the TLS stack).
#[test]
fn a_v1_client_certificate_is_refused_at_load_saying_why() {
    let Some(pki) = cluster().pki.clone() else {
        println!("skipped: needs the local control plane's CA key");
        return;
    };
    let Some((access, ca_data, _)) = access("v1 client certificate") else {
        return;
    };
    let ns = namespace_with_probe("cfg-cert-v1");
    let dir = Scratch::new("cert-v1");
    let Some((crt, key)) =
        issue_client_certificate(&dir, &pki, "konductor-v1-user", "system:masters", false)
    else {
        println!("skipped: openssl could not issue a client certificate");
        return;
    };
    let user = "    client-certificate: client.crt\n    client-key: client.key\n";
    let path = dir.write(
        "config",
        &kubeconfig(&access.server, &ca_line(&ca_data), user, &ns.name),
    );
    assert!(crt.exists() && key.exists());
    match Config::from_kubeconfig(&path, None) {
        Err(Error::Config { message, .. }) => assert!(
            message.contains("X.509 v1") && message.contains("client.crt"),
            "expected a Config error naming the v1 certificate, got: {message}"
        ),
        other => panic!("expected a Config error for a v1 client certificate, got {other:?}"),
    }
}
