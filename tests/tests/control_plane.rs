//! The test control plane itself: TLS against the generated CA, token
//! authentication, RBAC for the `worker` user, and the Konductor CRDs with
//! their schemas and printer columns. These speak plain HTTPS (ureq) rather
//! than the konductor client, so a failure here points at tests/cluster or
//! operator/crds, not at the client.

use std::path::Path;
use std::time::{Duration, Instant};

use konductor_tests::cluster::cluster;
use konductor_tests::kubeconfig::{access, Access};
use konductor_tests::namespace::Namespace;
use serde_json::{json, Value};
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

const KINDS: [&str; 4] = ["semaphores", "barriers", "leases", "gates"];

/// An HTTPS connection to the API server as one user.
struct Api {
    server: String,
    token: String,
    agent: ureq::Agent,
    /// Sent as `Impersonate-User` when the cluster has no worker kubeconfig.
    impersonate: Option<&'static str>,
}

/// Status code and JSON body of one response.
#[derive(Debug)]
struct Reply {
    status: u16,
    body: Value,
}

/// An agent that trusts exactly `roots` and returns error statuses as replies.
fn agent(roots: RootCerts) -> ureq::Agent {
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(roots)
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

impl Api {
    fn from_kubeconfig(kubeconfig: &Path) -> Api {
        let Access {
            server,
            ca_pem,
            token,
        } = access(kubeconfig);
        let (Some(ca), Some(token)) = (ca_pem, token) else {
            panic!(
                "these tests need a CA and a bearer token in {}",
                kubeconfig.display()
            );
        };
        let ca = Certificate::from_pem(&ca).expect("CA is a PEM certificate");
        Api {
            server,
            token,
            agent: agent(RootCerts::new_with_certs(&[ca])),
            impersonate: None,
        }
    }

    fn admin() -> Api {
        Api::from_kubeconfig(&cluster().admin)
    }

    /// The `worker` user: its own kubeconfig on the local control plane,
    /// else the admin impersonating it.
    fn worker() -> Api {
        match &cluster().worker {
            Some(kubeconfig) => Api::from_kubeconfig(kubeconfig),
            None => Api {
                impersonate: Some("worker"),
                ..Api::admin()
            },
        }
    }

    /// Adds the bearer token, `Accept` and, when impersonating, `Impersonate-User`.
    fn authorize<B>(
        &self,
        request: ureq::RequestBuilder<B>,
        accept: &str,
    ) -> ureq::RequestBuilder<B> {
        let request = request
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", accept);
        match self.impersonate {
            Some(user) => request.header("Impersonate-User", user),
            None => request,
        }
    }

    fn send(&self, method: &str, path: &str, accept: &str, body: Option<&Value>) -> Reply {
        let url = format!("{}{path}", self.server);
        let result = match (method, body) {
            ("GET", None) => self.authorize(self.agent.get(&url), accept).call(),
            ("POST", Some(body)) => self
                .authorize(self.agent.post(&url), accept)
                .send_json(body),
            _ => unreachable!("{method} with body {body:?} is not used"),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .expect("read response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body }
    }

    fn get(&self, path: &str) -> Reply {
        self.send("GET", path, "application/json", None)
    }

    fn post(&self, path: &str, body: &Value) -> Reply {
        self.send("POST", path, "application/json", Some(body))
    }
}

/// `/apis/sync.konductor.io/v1/namespaces/<ns>/<plural>`.
fn collection(namespace: &str, plural: &str) -> String {
    format!("/apis/sync.konductor.io/v1/namespaces/{namespace}/{plural}")
}

fn object(kind: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "sync.konductor.io/v1", "kind": kind, "metadata": {"name": name}, "spec": spec})
}

fn semaphore(name: &str, permits: i64) -> Value {
    object("Semaphore", name, json!({"permits": permits, "ttl": "5m"}))
}

#[test]
fn apiserver_serves_version_over_tls_verified_against_the_generated_ca() {
    let reply = Api::admin().get("/version");
    assert_eq!(reply.status, 200, "GET /version as admin: {reply:?}");
    let version = reply.body["gitVersion"].as_str().unwrap_or_default();
    assert!(
        version.starts_with("v1."),
        "expected a v1.x gitVersion, got {:?}",
        reply.body
    );
}

#[test]
fn the_serving_certificate_is_refused_without_the_cluster_ca() {
    let server = access(&cluster().admin).server;
    // Only the public web roots: the self-generated CA is not among them.
    let error = agent(RootCerts::WebPki)
        .get(format!("{server}/version"))
        .call()
        .expect_err("a TLS handshake without the cluster CA must fail");
    // ureq reports handshake failures as I/O errors wrapping the rustls error.
    let tls_error = match &error {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(e) => e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()),
        _ => None,
    };
    assert!(
        matches!(
            tls_error,
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            ))
        ),
        "expected the certificate to be refused as UnknownIssuer, got {error:?}"
    );
}

#[test]
fn an_unknown_token_is_rejected_with_401() {
    let api = Api {
        token: "not-a-token-the-server-knows".to_owned(),
        ..Api::admin()
    };
    let reply = api.get("/version");
    assert_eq!(
        reply.status, 401,
        "GET /version with an unknown token: {reply:?}"
    );
}

#[test]
fn the_four_crds_are_established_and_served_with_a_status_subresource() {
    let api = Api::admin();
    for plural in KINDS {
        let path = format!(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{plural}.sync.konductor.io"
        );
        let reply = api.get(&path);
        assert_eq!(reply.status, 200, "GET {path}: {reply:?}");
        let established = reply.body["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Established" && c["status"] == "True");
        assert!(
            established,
            "{plural}: expected condition Established=True, got {}",
            reply.body["status"]
        );
        assert_eq!(reply.body["spec"]["scope"], "Namespaced", "{plural} scope");
    }

    let reply = api.get("/apis/sync.konductor.io/v1");
    assert_eq!(
        reply.status, 200,
        "discovery of sync.konductor.io/v1: {reply:?}"
    );
    let served: Vec<&str> = reply.body["resources"]
        .as_array()
        .expect("resource list")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    for plural in KINDS {
        for resource in [plural.to_owned(), format!("{plural}/status")] {
            assert!(
                served.contains(&resource.as_str()),
                "expected {resource} to be served, got {served:?}"
            );
        }
    }
}

#[test]
fn a_valid_semaphore_is_accepted_and_zero_permits_is_rejected_with_422() {
    let ns = Namespace::new("found-sem");
    let api = Api::admin();
    let path = collection(&ns.name, "semaphores");

    let created = api.post(&path, &semaphore("gpu", 2));
    assert_eq!(
        created.status, 201,
        "create a Semaphore with permits 2: {created:?}"
    );
    assert_eq!(created.body["spec"]["permits"], 2);

    let rejected = api.post(&path, &semaphore("none", 0));
    assert_eq!(
        rejected.status, 422,
        "create a Semaphore with permits 0: {rejected:?}"
    );
    assert_eq!(rejected.body["reason"], "Invalid");
    let message = rejected.body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("spec.permits"),
        "expected the message to name spec.permits, got {message:?}"
    );
    assert_eq!(
        api.get(&format!("{path}/none")).status,
        404,
        "the rejected Semaphore must not exist"
    );
}

#[test]
fn the_original_konductor_samples_are_accepted() {
    let ns = Namespace::new("found-samples");
    let api = Api::admin();
    let samples = [
        (
            "semaphores",
            object("Semaphore", "api-quota", json!({"permits": 3, "ttl": "5m"})),
        ),
        (
            "barriers",
            object(
                "Barrier",
                "stage-2",
                json!({"expected": 10, "quorum": 8, "timeout": "30m"}),
            ),
        ),
        (
            "leases",
            object("Lease", "db-migration", json!({"ttl": "5m", "priority": 1})),
        ),
        (
            "gates",
            object(
                "Gate",
                "processing-gate",
                json!({
                    "conditions": [
                        {"type": "Job", "name": "data-loader", "state": "Complete"},
                        {"type": "Semaphore", "name": "api-quota", "state": "Available", "value": 2},
                        {"type": "Barrier", "name": "stage-1-complete", "state": "Open"},
                        {"type": "Lease", "name": "db-migration", "namespace": ns.name, "state": "Available"},
                    ],
                    "timeout": "1h",
                }),
            ),
        ),
    ];
    for (plural, body) in samples {
        let reply = api.post(&collection(&ns.name, plural), &body);
        assert_eq!(
            reply.status, 201,
            "create {plural} sample {body}: {reply:?}"
        );
    }
}

#[test]
fn invalid_specs_are_rejected_by_schema_validation_with_422() {
    let ns = Namespace::new("found-invalid");
    let api = Api::admin();
    let condition = |fields: Value| json!({"conditions": [fields]});
    let cases = [
        (
            "semaphores",
            object("Semaphore", "no-permits", json!({"ttl": "5m"})),
            "spec.permits",
        ),
        (
            "semaphores",
            object(
                "Semaphore",
                "bad-ttl",
                json!({"permits": 1, "ttl": "5 minutes"}),
            ),
            "spec.ttl",
        ),
        (
            "barriers",
            object("Barrier", "none-expected", json!({"expected": 0})),
            "spec.expected",
        ),
        (
            "barriers",
            object(
                "Barrier",
                "zero-quorum",
                json!({"expected": 2, "quorum": 0}),
            ),
            "spec.quorum",
        ),
        (
            "barriers",
            object("Barrier", "big-quorum", json!({"expected": 2, "quorum": 3})),
            "quorum must not exceed expected",
        ),
        (
            "barriers",
            object(
                "Barrier",
                "bad-timeout",
                json!({"expected": 2, "timeout": "soon"}),
            ),
            "spec.timeout",
        ),
        (
            "leases",
            object("Lease", "bad-ttl", json!({"ttl": "-5m"})),
            "spec.ttl",
        ),
        (
            "gates",
            object(
                "Gate",
                "pod",
                condition(json!({"type": "Pod", "name": "x"})),
            ),
            "spec.conditions[0].type",
        ),
        (
            "gates",
            object("Gate", "nameless", condition(json!({"type": "Job"}))),
            "spec.conditions[0].name",
        ),
        (
            "gates",
            object(
                "Gate",
                "running",
                condition(json!({"type": "Job", "name": "x", "state": "Running"})),
            ),
            "spec.conditions[0].state",
        ),
        (
            "gates",
            object(
                "Gate",
                "bad-timeout",
                json!({"conditions": [{"type": "Gate", "name": "x"}], "timeout": "1 hour"}),
            ),
            "spec.timeout",
        ),
    ];
    for (plural, body, field) in cases {
        let name = body["metadata"]["name"].clone();
        let reply = api.post(&collection(&ns.name, plural), &body);
        assert_eq!(
            reply.status, 422,
            "{plural}/{name} should be rejected, got {reply:?}"
        );
        let message = reply.body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(field),
            "{plural}/{name}: expected the message to mention {field:?}, got {message:?}"
        );
    }
}

#[test]
fn printer_columns_make_kubectl_get_useful() {
    let ns = Namespace::new("found-columns");
    let api = Api::admin();
    let expected = [
        (
            "semaphores",
            vec!["Name", "Permits", "In-Use", "Available", "Phase", "Age"],
        ),
        (
            "barriers",
            vec!["Name", "Expected", "Arrived", "Phase", "Age"],
        ),
        ("leases", vec!["Name", "Holder", "Phase", "Age"]),
        ("gates", vec!["Name", "Phase", "Age"]),
    ];
    for (plural, columns) in expected {
        // The Table form is what `kubectl get` asks for.
        let reply = api.send(
            "GET",
            &collection(&ns.name, plural),
            "application/json;as=Table;v=v1;g=meta.k8s.io",
            None,
        );
        assert_eq!(reply.status, 200, "GET {plural} as Table: {reply:?}");
        let names: Vec<&str> = reply.body["columnDefinitions"]
            .as_array()
            .expect("a Table has columnDefinitions")
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        // Further columns may come and go; these must be there, in this order.
        let mut rest = names.iter();
        assert!(
            columns.iter().all(|c| rest.any(|n| n == c)),
            "printer columns of {plural}: expected {columns:?} in this order, got {names:?}"
        );
    }
}

#[test]
fn the_worker_uses_semaphores_only_where_bound_and_cannot_list_secrets() {
    let bound = Namespace::new("found-worker");
    let unbound = Namespace::new("found-worker-none");
    let admin = Api::admin();
    let worker = Api::worker();

    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "worker-konductor-client"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "konductor-client"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "worker"}],
    });
    let path = format!(
        "/apis/rbac.authorization.k8s.io/v1/namespaces/{}/rolebindings",
        bound.name
    );
    let reply = admin.post(&path, &binding);
    assert_eq!(
        reply.status, 201,
        "create the worker's RoleBinding: {reply:?}"
    );

    // The authorizer learns of the binding through a watch, a moment after it is written.
    let started = Instant::now();
    let created = loop {
        let reply = worker.post(
            &collection(&bound.name, "semaphores"),
            &semaphore("jobs", 1),
        );
        if reply.status != 403 || started.elapsed() > Duration::from_secs(10) {
            break reply;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        created.status, 201,
        "worker creates a Semaphore where it is bound: {created:?}"
    );
    let listed = worker.get(&collection(&bound.name, "semaphores"));
    assert_eq!(
        listed.status, 200,
        "worker lists Semaphores where it is bound: {listed:?}"
    );

    let elsewhere = worker.post(
        &collection(&unbound.name, "semaphores"),
        &semaphore("jobs", 1),
    );
    assert_eq!(
        elsewhere.status, 403,
        "worker creates a Semaphore where it is not bound: {elsewhere:?}"
    );

    let secrets = worker.get(&format!("/api/v1/namespaces/{}/secrets", bound.name));
    assert_eq!(secrets.status, 403, "worker lists Secrets: {secrets:?}");
    assert_eq!(secrets.body["reason"], "Forbidden");
}
