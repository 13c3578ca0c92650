//! The benchmark's own writes, from a plain client with the operator's
//! library and transport (one HTTP/2 connection): each a resourceVersion-
//! guarded status `PUT` of a semaphore that renews all its holders, as
//! their clients would.
//!
//! [`ceiling`] measures the API server's write ceiling before the operator
//! starts (which never sees these renewals): how many objects per second it
//! writes at the operator's concurrency, doing what a reclaim does: the
//! status write, and the same followed by the creation of an Event about
//! it. The operator's reclaim rate over this ceiling says how much of the
//! API server's capacity it uses. [`last_renewals`] renews the holders of a
//! staggered fleet a last time, on its schedule, while the operator runs.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use konductor_tests::cluster::cluster;
use konductor_tests::fleet::{semaphore_index, Fleet};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, PostParams};
use kube::client::{Body, ConfigExt};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};
use serde_json::Value;
use tower::{BoxError, ServiceBuilder};

/// How many last renewals may be waiting for the API server at once.
const RENEWALS_IN_FLIGHT: usize = 32;

/// What one measurement of the ceiling found.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    /// Guarded status writes applied per second.
    pub writes_per_s: f64,
    /// Guarded status writes, each followed by an Event, per second.
    pub with_events_per_s: f64,
    /// Writes refused with 409 Conflict (none expected: each object is
    /// written by one request at a time).
    pub conflicts: u64,
}

/// Measures `writes` status writes, then `writes` writes each with an Event,
/// over the semaphores of `namespace`, `concurrency` at a time.
pub fn ceiling(namespace: &str, writes: usize, concurrency: usize) -> Ceiling {
    block_on(async {
        let writer = Writer::new(namespace).await;
        let writes_per_s = writer.run(writes, concurrency, false).await;
        let with_events_per_s = writer.run(writes, concurrency, true).await;
        Ceiling {
            writes_per_s,
            with_events_per_s,
            conflicts: writer.conflicts.load(Ordering::Relaxed),
        }
    })
}

/// Renews every holder of `fleet` in `namespace` a last time, with the
/// fleet's TTL, semaphore `i` at [`Fleet::renew_at`] after the call (or as
/// soon after as the API server allows); returns when each was applied.
pub fn last_renewals(namespace: &str, fleet: Fleet) -> Vec<Option<SystemTime>> {
    block_on(async {
        let writer = Writer::new(namespace).await;
        let began = tokio::time::Instant::now();
        let ttl = konductor::format_duration(fleet.ttl);
        let mut renewed = vec![None; fleet.semaphores];
        let slot_of: Vec<Option<usize>> = writer
            .latest
            .iter()
            .map(|o| {
                let o = o.lock().unwrap_or_else(|e| e.into_inner());
                o.metadata.name.as_deref().and_then(semaphore_index)
            })
            .collect();
        let mut schedule: Vec<(usize, usize)> = slot_of
            .iter()
            .enumerate()
            .filter_map(|(slot, i)| Some(((*i)?, slot)))
            .filter(|(i, _)| *i < fleet.semaphores)
            .collect();
        schedule.sort_unstable();
        let done: Vec<(usize, Option<SystemTime>)> = futures::stream::iter(schedule)
            .map(|(i, slot)| {
                let (writer, ttl) = (&writer, &ttl);
                async move {
                    tokio::time::sleep_until(began + fleet.renew_at(i)).await;
                    let applied = writer.write(slot, Some(ttl), false).await;
                    (i, applied.then(SystemTime::now))
                }
            })
            .buffer_unordered(RENEWALS_IN_FLIGHT)
            .collect()
            .await;
        for (i, at) in done {
            renewed[i] = at;
        }
        renewed
    })
}

fn block_on<T>(work: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(work)
}

/// A client and the semaphores of one namespace, each as last written.
struct Writer {
    api: Api<DynamicObject>,
    events: Api<Event>,
    latest: Vec<Mutex<DynamicObject>>,
    conflicts: AtomicU64,
}

impl Writer {
    /// A client for `namespace`, with its semaphores as listed now.
    async fn new(namespace: &str) -> Writer {
        let client = connect(&cluster().admin).await;
        let gvk = GroupVersionKind::gvk(konductor::resource::GROUP, "v1", "Semaphore");
        let resource = ApiResource::from_gvk_with_plural(&gvk, "semaphores");
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
        let listed = api
            .list(&Default::default())
            .await
            .expect("list the semaphores")
            .items;
        assert!(!listed.is_empty(), "no semaphores in {namespace} to write");
        Writer {
            api,
            events: Api::namespaced(client, namespace),
            latest: listed.into_iter().map(Mutex::new).collect(),
            conflicts: AtomicU64::new(0),
        }
    }

    /// Writes `count` times (object `k` mod the objects), `concurrency` at a
    /// time; returns the writes per second.
    async fn run(&self, count: usize, concurrency: usize, with_event: bool) -> f64 {
        let began = Instant::now();
        futures::stream::iter(0..count)
            .for_each_concurrent(concurrency.max(1), |k| async move {
                self.write(k % self.latest.len(), None, with_event).await;
            })
            .await;
        count as f64 / began.elapsed().as_secs_f64().max(0.001)
    }

    /// Renews every holder of `latest[slot]` (with `ttl`, when given), and
    /// reports it in an Event if asked; false when the write was refused
    /// with a conflict.
    async fn write(&self, slot: usize, ttl: Option<&str>, with_event: bool) -> bool {
        let mut object = self.latest[slot]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        renew_all(&mut object, ttl);
        let name = object.metadata.name.clone().unwrap_or_default();
        match self
            .api
            .replace_status(&name, &PostParams::default(), &object)
            .await
        {
            Ok(written) => *self.latest[slot].lock().unwrap_or_else(|e| e.into_inner()) = written,
            Err(kube::Error::Api(status)) if status.code == 409 => {
                self.conflicts.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            Err(error) => panic!("write the status of {name}: {error}"),
        }
        if with_event {
            self.events
                .create(&PostParams::default(), &event_about(&object))
                .await
                .unwrap_or_else(|e| panic!("create an Event about {name}: {e}"));
        }
        true
    }
}

/// Renews every holder of a semaphore as its client would: a new renewal
/// count and time (and TTL, when given).
fn renew_all(object: &mut DynamicObject, ttl: Option<&str>) {
    let now = konductor::format_rfc3339(SystemTime::now());
    let holders = object
        .data
        .pointer_mut("/status/holders")
        .and_then(Value::as_array_mut);
    for holder in holders.into_iter().flatten() {
        let count = holder["renewCount"].as_u64().unwrap_or(0);
        holder["renewCount"] = Value::from(count + 1);
        holder["renewedAt"] = Value::from(now.clone());
        if let Some(ttl) = ttl {
            holder["ttl"] = Value::from(ttl);
        }
    }
}

/// An Event like the operator's `Reclaimed` one, with a reason of its own.
fn event_about(object: &DynamicObject) -> Event {
    let name = object.metadata.name.clone().unwrap_or_default();
    Event {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: object.metadata.namespace.clone(),
            ..ObjectMeta::default()
        },
        event_time: Some(MicroTime(Timestamp::now())),
        action: Some("Reconcile".to_owned()),
        reason: Some("CeilingProbe".to_owned()),
        note: Some(format!("holders of {name} renewed by the scale benchmark")),
        type_: Some("Normal".to_owned()),
        regarding: Some(ObjectReference {
            api_version: Some(konductor::resource::API_VERSION.to_owned()),
            kind: Some("Semaphore".to_owned()),
            name: Some(name),
            namespace: object.metadata.namespace.clone(),
            uid: object.metadata.uid.clone(),
            ..ObjectReference::default()
        }),
        reporting_controller: Some("konductor-scale-bench".to_owned()),
        reporting_instance: Some("bench".to_owned()),
        ..Event::default()
    }
}

/// A client whose requests share one HTTP/2 connection, built as the
/// operator builds its own (`operator/src/client.rs`).
async fn connect(kubeconfig: &std::path::Path) -> Client {
    let kubeconfig = Kubeconfig::read_from(kubeconfig).expect("read the admin kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("a client configuration");
    let tls = config.rustls_client_config().expect("TLS configuration");
    let mut tcp = hyper_util::client::legacy::connect::HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http2()
        .wrap_connector(tcp);
    let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .http2_only(true)
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .http2_keep_alive_interval(Duration::from_secs(20))
        .build::<_, Body>(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer().expect("authentication"))
        .map_err(BoxError::from)
        .service(http);
    Client::new(service, config.default_namespace)
}
