//! What the API server itself refuses, whoever writes: the bounds and CEL
//! rules of operator/crds (listed in operator/README.md, "What the apiserver
//! enforces"). Every refused write is a raw request of a user with the
//! client role, answered 422; the client's own writes pass the same rules.

use std::time::Duration;

use konductor::{format_duration, Client, Error, Options, MAX_TTL};
use konductor_tests::cluster::{cluster, kubectl};
use konductor_tests::kubeconfig::{access, Access};
use konductor_tests::namespace::Namespace;
use konductor_tests::wait::eventually;
use serde_json::{json, Value};
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

/// Status code and JSON body of one answer.
#[derive(Debug)]
struct Reply {
    status: u16,
    body: Value,
}

/// Raw HTTPS requests to one namespace's Konductor objects, as one user.
struct Raw {
    server: String,
    token: String,
    agent: ureq::Agent,
    namespace: String,
}

/// The `worker` user with the client role in `ns` (the admin on a cluster
/// without a worker user): its client, and its raw requests.
fn worker(ns: &Namespace) -> (Client, Raw) {
    let (client, kubeconfig) = match ns.worker() {
        Some(client) => (client, cluster().worker.clone().expect("worker kubeconfig")),
        None => (ns.admin(), cluster().admin.clone()),
    };
    let Access {
        server,
        ca_pem,
        token,
    } = access(&kubeconfig);
    let (Some(ca), Some(token)) = (ca_pem, token) else {
        panic!(
            "raw requests need a CA and a bearer token in {}",
            kubeconfig.display()
        );
    };
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::new_with_certs(&[
            Certificate::from_pem(&ca).expect("CA is a PEM certificate")
        ]))
        .build();
    let agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let raw = Raw {
        server,
        token,
        agent,
        namespace: ns.name.clone(),
    };
    // RBAC caches can take a moment to see a new binding.
    eventually(
        Duration::from_secs(10),
        "the worker's role binding to apply",
        || raw.get("semaphores", "").status == 200,
    );
    (client, raw)
}

impl Raw {
    fn url(&self, plural: &str, name: &str, subresource: &str) -> String {
        let mut url = format!(
            "{}/apis/sync.konductor.io/v1/namespaces/{}/{plural}",
            self.server, self.namespace
        );
        for part in [name, subresource].into_iter().filter(|p| !p.is_empty()) {
            url.push('/');
            url.push_str(part);
        }
        url
    }

    fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>, what: &str) -> Reply {
        let mut response = result.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .expect("read response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body }
    }

    fn get(&self, plural: &str, name: &str) -> Reply {
        let url = self.url(plural, name, "");
        let request = self
            .agent
            .get(&url)
            .header("Authorization", format!("Bearer {}", self.token));
        Raw::answer(request.call(), &format!("GET {url}"))
    }

    fn send(&self, method: &str, url: &str, content_type: &str, body: &Value) -> Reply {
        let bearer = format!("Bearer {}", self.token);
        let body = body.to_string();
        let result = match method {
            "POST" => self.agent.post(url).header("Authorization", &bearer),
            "PUT" => self.agent.put(url).header("Authorization", &bearer),
            "PATCH" => self.agent.patch(url).header("Authorization", &bearer),
            _ => unreachable!("{method} is not used"),
        }
        .header("Content-Type", content_type)
        .send(&body);
        Raw::answer(result, &format!("{method} {url}"))
    }

    /// Creates an object of `kind` named `name` with `spec`.
    fn create(&self, kind: &str, plural: &str, name: &str, spec: Value) -> Reply {
        let object = json!({
            "apiVersion": "sync.konductor.io/v1",
            "kind": kind,
            "metadata": {"name": name},
            "spec": spec,
        });
        let url = self.url(plural, "", "");
        self.send("POST", &url, "application/json", &object)
    }

    /// Merges `status` into the status of `plural/name`.
    fn merge_status(&self, plural: &str, name: &str, status: Value) -> Reply {
        let url = self.url(plural, name, "status");
        let patch = json!({ "status": status });
        self.send("PATCH", &url, "application/merge-patch+json", &patch)
    }

    /// Applies the JSON patch `ops` to the status subresource of `plural/name`.
    fn json_patch_status(&self, plural: &str, name: &str, ops: Value) -> Reply {
        let url = self.url(plural, name, "status");
        self.send("PATCH", &url, "application/json-patch+json", &ops)
    }

    /// Reads `plural/name`, lets `edit` change it, and PUTs it to the status
    /// subresource with the resourceVersion read.
    fn put_status(&self, plural: &str, name: &str, edit: impl FnOnce(&mut Value)) -> Reply {
        let mut object = self.get(plural, name).body;
        edit(&mut object);
        let url = self.url(plural, name, "status");
        self.send("PUT", &url, "application/json", &object)
    }
}

/// Asserts a 422 whose message contains `message`.
fn refused(reply: Reply, what: &str, message: &str) {
    let text = reply.body["message"].as_str().unwrap_or_default();
    assert!(
        reply.status == 422 && text.contains(message),
        "{what}: expected 422 Invalid saying {message:?}, got {} {}",
        reply.status,
        reply.body
    );
}

/// Asserts a 2xx answer.
fn accepted(reply: Reply, what: &str) {
    assert!(
        (200..300).contains(&reply.status),
        "{what}: expected it accepted, got {} {}",
        reply.status,
        reply.body
    );
}

/// A holder record as the client writes it.
fn holder(name: &str, token: u64, ttl: &str) -> Value {
    json!({"holder": name, "ticket": format!("t-{name}"), "token": token, "ttl": ttl,
           "acquiredAt": "2026-01-01T00:00:00Z", "renewedAt": "2026-01-01T00:00:00Z"})
}

fn try_once(holder: &str) -> Options {
    Options::new()
        .holder(holder)
        .ttl(Duration::from_secs(60))
        .timeout(Duration::ZERO)
}

const TTL_MESSAGE: &str = "must be a duration between 100ms and 8784h0m0s (366 days)";
const OUTNUMBER: &str = "status.holders must not outnumber spec.permits";

#[test]
fn a_holder_beyond_spec_permits_is_refused() {
    let ns = Namespace::new("inv-permits");
    let (client, raw) = worker(&ns);
    client.create_semaphore("s", 2, None).expect("create");
    let a = client.acquire_semaphore("s", &try_once("a")).expect("a");
    let b = client.acquire_semaphore("s", &try_once("b")).expect("b");
    refused(
        raw.json_patch_status(
            "semaphores",
            "s",
            json!([
                {"op": "replace", "path": "/status/fencingToken", "value": 3},
                {"op": "add", "path": "/status/holders/-", "value": holder("c", 3, "1m0s")},
            ]),
        ),
        "a third holder on a semaphore of two permits",
        OUTNUMBER,
    );
    a.release().expect("release a");
    b.release().expect("release b");
}

#[test]
fn lowered_permits_let_the_holders_drain_but_never_grow() {
    let ns = Namespace::new("inv-lowered");
    let (client, raw) = worker(&ns);
    client.create_semaphore("s", 3, None).expect("create");
    let held: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|h| {
            client
                .acquire_semaphore("s", &try_once(h))
                .expect("acquire")
        })
        .collect();
    // A spec change is never refused because of the status it finds.
    kubectl(&[
        "-n",
        &ns.name,
        "patch",
        "semaphore.sync.konductor.io",
        "s",
        "--type=merge",
        "-p",
        r#"{"spec":{"permits":1}}"#,
    ]);
    held[0]
        .renew()
        .expect("a renewal keeps the number of holders");
    held[0].release().expect("a release shrinks it");
    let status = raw.get("semaphores", "s").body["status"].clone();
    let fencing = status["fencingToken"].as_u64().expect("fencingToken");
    refused(
        raw.json_patch_status(
            "semaphores",
            "s",
            json!([
                {"op": "replace", "path": "/status/fencingToken", "value": fencing + 1},
                {"op": "add", "path": "/status/holders/-", "value": holder("d", fencing + 1, "1m0s")},
            ]),
        ),
        "a third holder while permits are lowered to one",
        OUTNUMBER,
    );
    assert!(
        matches!(
            client.acquire_semaphore("s", &try_once("d")),
            Err(Error::Timeout { .. })
        ),
        "expected no permit while two holders drain from one permit"
    );
    held[1].release().expect("release b");
    held[2].release().expect("release c");
    client
        .acquire_semaphore("s", &try_once("d"))
        .expect("the one permit is free once they drained")
        .release()
        .expect("release d");
}

#[test]
fn the_fencing_token_of_a_semaphore_never_decreases() {
    let ns = Namespace::new("inv-fencing");
    let (client, raw) = worker(&ns);
    client.create_semaphore("s", 1, None).expect("create");
    for holder in ["a", "b"] {
        let permit = client
            .acquire_semaphore("s", &try_once(holder))
            .expect("acquire");
        permit.release().expect("release");
    }
    const MESSAGE: &str = "status.fencingToken must not decrease";
    refused(
        raw.merge_status("semaphores", "s", json!({"fencingToken": 1})),
        "fencingToken 2 → 1",
        MESSAGE,
    );
    refused(
        raw.json_patch_status(
            "semaphores",
            "s",
            json!([{"op": "remove", "path": "/status/fencingToken"}]),
        ),
        "fencingToken removed",
        MESSAGE,
    );
    refused(
        raw.put_status("semaphores", "s", |object| {
            object.as_object_mut().expect("object").remove("status");
        }),
        "the whole status removed",
        MESSAGE,
    );
    let permit = client
        .acquire_semaphore("s", &try_once("c"))
        .expect("acquire");
    assert_eq!(permit.token(), 3, "tokens go on from the last one");
    permit.release().expect("release");
}

#[test]
fn holder_tokens_must_be_handed_out_and_in_grant_order() {
    let ns = Namespace::new("inv-tokens");
    let (client, raw) = worker(&ns);
    client.create_semaphore("s", 3, None).expect("create");
    let a = client.acquire_semaphore("s", &try_once("a")).expect("a");
    let next = a.token() + 1;
    refused(
        raw.json_patch_status(
            "semaphores",
            "s",
            json!([{"op": "add", "path": "/status/holders/-", "value": holder("b", next, "1m0s")}]),
        ),
        "a token above status.fencingToken",
        "every holder's token must be at most status.fencingToken",
    );
    const ORDER: &str = "status.holders must be in grant order";
    for (what, at, token) in [
        (
            "a second holder with the token of the first",
            "-",
            a.token(),
        ),
        ("a later grant listed before an earlier one", "0", next),
    ] {
        refused(
            raw.json_patch_status(
                "semaphores",
                "s",
                json!([
                    {"op": "replace", "path": "/status/fencingToken", "value": next},
                    {"op": "add", "path": format!("/status/holders/{at}"), "value": holder("b", token, "1m0s")},
                ]),
            ),
            what,
            ORDER,
        );
    }
    accepted(
        raw.json_patch_status(
            "semaphores",
            "s",
            json!([
                {"op": "replace", "path": "/status/fencingToken", "value": next},
                {"op": "add", "path": "/status/holders/-", "value": holder("b", next, "1m0s")},
            ]),
        ),
        "a grant as the client writes it",
    );
    a.release().expect("release");
}

#[test]
fn the_lease_fencing_token_never_decreases_and_a_holder_needs_a_ttl_and_a_token() {
    let ns = Namespace::new("inv-lease");
    let (client, raw) = worker(&ns);
    client.create_lease("l", None, None).expect("create");
    for holder in ["a", "b"] {
        let lease = client
            .try_acquire_lease("l", &try_once(holder))
            .expect("acquire");
        lease.release().expect("release");
    }
    refused(
        raw.merge_status("leases", "l", json!({"transitions": 1})),
        "transitions 2 → 1",
        "status.transitions (the fencing token) must not decrease",
    );
    refused(
        raw.merge_status("leases", "l", json!({"holder": "x", "phase": "Held"})),
        "a lease holder without a ttl",
        "a lease with a holder must have a ttl",
    );
    refused(
        raw.merge_status("leases", "l", json!({"holder": "", "ttl": "1m0s"})),
        "an empty lease holder",
        "holder in body should be at least 1 chars long",
    );
    raw.create("Lease", "leases", "fresh", json!({}));
    accepted(
        raw.merge_status("leases", "fresh", json!({"phase": "Available"})),
        "a first status without a holder",
    );
    refused(
        raw.merge_status("leases", "fresh", json!({"holder": "x", "ttl": "1m0s"})),
        "a holder with no fencing token",
        "a lease with a holder must have a fencing token",
    );
    let lease = client
        .try_acquire_lease("l", &try_once("c"))
        .expect("acquire");
    assert_eq!(
        lease.token(),
        3,
        "the lease's tokens go on from the last one"
    );
    lease.release().expect("release");
}

#[test]
fn ttls_outside_100ms_to_366_days_are_refused_and_the_client_agrees() {
    let ns = Namespace::new("inv-ttl");
    let (client, raw) = worker(&ns);
    let max = format_duration(MAX_TTL);
    assert_eq!(max, "8784h0m0s");
    for bad in ["99ms", "8784h0m0.001s", "0", "10000000000000000000s"] {
        refused(
            raw.create(
                "Semaphore",
                "semaphores",
                "bad",
                json!({"permits": 1, "ttl": bad}),
            ),
            &format!("spec.ttl {bad}"),
            TTL_MESSAGE,
        );
    }
    for (name, ttl) in [("short", Duration::from_millis(100)), ("long", MAX_TTL)] {
        client
            .create_semaphore(name, 1, Some(ttl))
            .unwrap_or_else(|e| panic!("the client and the server accept {ttl:?}: {e}"));
    }
    for (name, ttl) in [
        ("shorter", Duration::from_millis(99)),
        ("longer", MAX_TTL + Duration::from_millis(1)),
    ] {
        assert!(
            matches!(
                client.create_semaphore(name, 1, Some(ttl)),
                Err(Error::Invalid { .. })
            ),
            "the client refuses {ttl:?} as the server does"
        );
    }

    client.create_semaphore("s", 2, None).expect("create");
    for bad in ["99ms", "8784h0m1s", "1ns", "forever"] {
        refused(
            raw.json_patch_status(
                "semaphores",
                "s",
                json!([
                    {"op": "add", "path": "/status", "value": {}},
                    {"op": "add", "path": "/status/fencingToken", "value": 1},
                    {"op": "add", "path": "/status/holders", "value": [holder("a", 1, bad)]},
                ]),
            ),
            &format!("a holder's ttl {bad}"),
            TTL_MESSAGE,
        );
    }
    for (holder, ttl) in [("short", Duration::from_millis(100)), ("long", MAX_TTL)] {
        client
            .acquire_semaphore("s", &try_once(holder).ttl(ttl))
            .unwrap_or_else(|e| panic!("acquire with ttl {ttl:?}: {e}"))
            .release()
            .expect("release");
    }

    client.create_lease("l", None, None).expect("create lease");
    let lease = client
        .try_acquire_lease("l", &try_once("a"))
        .expect("acquire");
    refused(
        raw.merge_status("leases", "l", json!({"ttl": "50ms"})),
        "a lease ttl of 50ms",
        TTL_MESSAGE,
    );
    lease.release().expect("release");
}

#[test]
fn malformed_holder_records_are_refused() {
    let ns = Namespace::new("inv-records");
    let (client, raw) = worker(&ns);
    client.create_semaphore("s", 2, None).expect("create");
    let a = client.acquire_semaphore("s", &try_once("a")).expect("a");
    let token = a.token() + 1;
    let add = |record: Value| {
        raw.json_patch_status(
            "semaphores",
            "s",
            json!([
                {"op": "replace", "path": "/status/fencingToken", "value": token},
                {"op": "add", "path": "/status/holders/-", "value": record},
            ]),
        )
    };
    let with = |field: &str, value: Value| {
        let mut record = holder("b", token, "1m0s");
        record[field] = value;
        record
    };
    refused(
        add(with("holder", json!(""))),
        "an empty holder",
        "holder in body should be at least 1 chars long",
    );
    refused(
        add(with("holder", json!("h".repeat(254)))),
        "a holder of 254 characters",
        "may not be more than 253",
    );
    refused(
        add(with("token", json!(0))),
        "token 0",
        "token in body should be greater than or equal to 1",
    );
    refused(
        add(with("renewCount", json!(-1))),
        "renewCount -1",
        "renewCount in body should be greater than or equal to 0",
    );
    accepted(
        add(with("holder", json!("h".repeat(253)))),
        "a holder of 253 characters, as the client accepts",
    );
    a.release().expect("release");
}

#[test]
fn permits_above_the_holders_limit_are_refused() {
    let ns = Namespace::new("inv-max-permits");
    let (client, raw) = worker(&ns);
    refused(
        raw.create(
            "Semaphore",
            "semaphores",
            "huge",
            json!({"permits": 10_001}),
        ),
        "permits 10001",
        "spec.permits in body should be less than or equal to 10000",
    );
    client
        .create_semaphore("largest", 10_000, None)
        .expect("10,000 permits are accepted");
}

#[test]
fn a_barrier_counts_exactly_its_arrivals() {
    let ns = Namespace::new("inv-barrier");
    let (client, raw) = worker(&ns);
    client.create_barrier("b", 3, None, None).expect("create");
    for holder in ["a", "b"] {
        client
            .arrive_barrier("b", &Options::new().holder(holder))
            .expect("arrive");
    }
    refused(
        raw.merge_status("barriers", "b", json!({"arrived": 3})),
        "arrived 3 with two arrivals",
        "status.arrived must equal the number of status.arrivals",
    );
    let barrier = client
        .arrive_barrier("b", &Options::new().holder("c"))
        .expect("the third arrival opens it");
    assert_eq!(barrier.status.map(|s| s.arrived), Some(3));
}
