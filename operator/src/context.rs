//! What every reconciler gets: the client, the operator's own expiry clock,
//! metrics, the Event queue, the gate index, the retry back-off and the
//! permits that bound how many reconciles run at once.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use konductor::protocol::Staleness;
use konductor::resource::BarrierPhase;
use konductor::resource::Resource;
use kube::api::DynamicObject;
use kube::runtime::reflector::Store;
use kube::{Client, ResourceExt};
use tokio::sync::Semaphore;

use crate::backoff::Backoff;
use crate::events::{EventType, Events};
use crate::gate_index::GateIndex;
use crate::metrics::Metrics;
use crate::object::describe;
use crate::status::Concluding;

/// Shared state of all controllers of one operator process.
pub struct Context {
    /// The API client.
    pub client: Client,
    /// First-sight times of holder records, by this process's monotonic clock.
    pub staleness: Staleness,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Publishes Kubernetes Events.
    pub events: Events,
    /// How many reconciles may run at once, over all controllers.
    pub concurrency: usize,
    /// One permit per reconcile that may run at once.
    pub reconciles: Semaphore,
    /// Which gates refer to which objects.
    pub gates: GateIndex,
    /// Namespaces that are watched; `None` for all.
    pub scope: Option<Vec<String>>,
    /// Consecutive reconcile failures per object, for `error_policy`.
    pub retries: Backoff,
    /// Last phase seen per object uid, to report phase changes once.
    phases: Mutex<HashMap<String, String>>,
    /// The `staleness` key of every semaphore and lease seen, by uid.
    staleness_keys: Mutex<HashMap<String, String>>,
    /// The controllers' caches, by kind.
    stores: Mutex<Vec<(&'static str, Store<DynamicObject>)>>,
}

impl Context {
    /// A context for controllers that use `client` and run at most
    /// `concurrency` reconciles at once.
    pub fn new(
        client: Client,
        events: Events,
        metrics: Arc<Metrics>,
        scope: Option<Vec<String>>,
        concurrency: usize,
    ) -> Context {
        Context {
            client,
            staleness: Staleness::default(),
            metrics,
            events,
            concurrency: concurrency.max(1),
            reconciles: Semaphore::new(concurrency.max(1)),
            gates: GateIndex::default(),
            scope,
            retries: Backoff::default(),
            phases: Mutex::default(),
            staleness_keys: Mutex::default(),
            stores: Mutex::default(),
        }
    }

    /// True when changes in `namespace` reach this operator through its watches.
    pub fn watches_namespace(&self, namespace: &str) -> bool {
        self.scope
            .as_ref()
            .is_none_or(|list| list.iter().any(|n| n == namespace))
    }

    /// Notes the phase of an object; returns the previous one when it changed
    /// (not on first sight, so a restart does not repeat old events).
    pub fn phase_change<K: Resource>(&self, object: &K, phase: &str) -> Option<String> {
        let uid = &object.metadata().uid;
        if uid.is_empty() || phase.is_empty() {
            return None;
        }
        let mut phases = self.phases.lock().unwrap_or_else(|e| e.into_inner());
        match phases.insert(uid.clone(), phase.to_owned()) {
            Some(previous) if previous != phase => Some(previous),
            _ => None,
        }
    }

    /// Logs and publishes an Event when a barrier or gate reached one of its
    /// final phases since last seen: Open (`opened` is the note) or Failed.
    pub fn report_final_phase<K: Concluding>(&self, object: &K, opened: String) {
        let phase = object.phase();
        if self.phase_change(object, phase).is_none() {
            return;
        }
        let what = describe(object);
        if phase == BarrierPhase::Open.as_str() {
            tracing::info!(object = what, "opened");
            self.event(object, EventType::Normal, "Opened", opened);
        } else if phase == BarrierPhase::Failed.as_str() {
            let failure = object.message();
            tracing::info!(object = what, message = failure, "failed");
            self.event(object, EventType::Warning, "Failed", failure.to_owned());
        }
    }

    /// Adds a controller cache of `kind`, for metrics and for forgetting deleted objects.
    pub fn watch_store(&self, kind: &'static str, store: Store<DynamicObject>) {
        self.metrics.watch_store(kind, store.clone());
        self.stores
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((kind, store));
    }

    /// Notes under which key the expiry clock of object `uid` is kept.
    pub fn track_staleness(&self, uid: &str, key: &str) {
        let mut keys = self
            .staleness_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if keys.get(uid).is_none_or(|k| k != key) {
            keys.insert(uid.to_owned(), key.to_owned());
        }
    }

    /// Waits until every controller cache has listed its objects once.
    pub async fn caches_ready(&self) {
        let stores: Vec<_> = self
            .stores
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(_, s)| s.clone())
            .collect();
        for store in stores {
            let _ = store.wait_until_ready().await;
        }
    }

    /// Drops what is remembered about objects that no longer exist (expiry
    /// clocks, phases, retry counts, gate index entries): the controllers are not called
    /// for deletions. Call only once the caches are ready.
    pub fn sweep(&self) {
        let mut live = HashSet::new();
        let mut gates = HashSet::new();
        for (kind, store) in self.stores.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            for object in store.state() {
                live.insert(object.uid().unwrap_or_default());
                if *kind == "Gate" {
                    gates.insert((object.namespace().unwrap_or_default(), object.name_any()));
                }
            }
        }
        self.phases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|uid, _| live.contains(uid));
        let now = Instant::now();
        self.staleness_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|uid, key| {
                let keep = live.contains(uid);
                if !keep {
                    // Observing no records makes Staleness forget the object.
                    self.staleness.observe(key, &[], now);
                }
                keep
            });
        self.retries.retain(&live);
        self.gates.retain(&gates);
    }

    /// Forgets what was tracked for a deleted object.
    pub fn forget<K: Resource>(&self, object: &K) {
        self.phases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&object.metadata().uid);
    }

    /// Queues an Event about `object` (see [`Events::report`]).
    pub fn event<K: Resource>(&self, object: &K, type_: EventType, reason: &str, note: String) {
        self.events.report(object, type_, reason, note);
    }
}
