//! Prometheus metrics: counters kept by the reconcilers, gauges read from the
//! controllers' caches at scrape time (so deleted objects never linger).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use kube::api::DynamicObject;
use kube::runtime::reflector::Store;

/// Upper bounds (seconds) of the reconcile latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    total: u64,
    sum: f64,
}

#[derive(Default)]
struct Counters {
    /// (metric name, kind, extra label) → value.
    values: BTreeMap<(&'static str, &'static str, &'static str), u64>,
    latency: BTreeMap<&'static str, Histogram>,
}

/// How one reconcile ended, for `konductor_reconcile_errors_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcileOutcome {
    /// It returned an action.
    Succeeded,
    /// It returned an error.
    Failed,
}

/// How one status write of the operator ended, the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The API server applied it.
    Applied,
    /// The API server refused it with 409: the object changed since it was read.
    Conflict,
}

/// What became of one Event, the `outcome` label of `konductor_events_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    /// The API server created it.
    Published,
    /// The API server refused it, or did not answer.
    Failed,
    /// The queue was full; it was never sent.
    Dropped,
}

/// All metrics of one operator process.
#[derive(Default)]
pub struct Metrics {
    counters: Mutex<Counters>,
    leader: AtomicBool,
    stores: Mutex<Vec<(&'static str, Store<DynamicObject>)>>,
}

impl Metrics {
    fn add(&self, name: &'static str, kind: &'static str, label: &'static str, n: u64) {
        let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        *c.values.entry((name, kind, label)).or_default() += n;
    }

    /// Records one reconcile of `kind`, its duration and how it ended.
    pub fn reconciled(&self, kind: &'static str, took: Duration, outcome: ReconcileOutcome) {
        self.add("konductor_reconciles_total", kind, "", 1);
        if outcome == ReconcileOutcome::Failed {
            self.add("konductor_reconcile_errors_total", kind, "", 1);
        }
        let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let h = c.latency.entry(kind).or_default();
        let secs = took.as_secs_f64();
        for (count, bound) in h.counts.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *count += 1;
            }
        }
        h.total += 1;
        h.sum += secs;
    }

    /// Records `n` stale records removed from a `kind` object; `record` says which (`holder`).
    pub fn reclaimed(&self, kind: &'static str, record: &'static str, n: usize) {
        if n > 0 {
            self.add("konductor_reclaimed_total", kind, record, n as u64);
        }
    }

    /// Records a status write of the operator and how it ended.
    pub fn status_write(&self, kind: &'static str, outcome: WriteOutcome) {
        let outcome = match outcome {
            WriteOutcome::Applied => "applied",
            WriteOutcome::Conflict => "conflict",
        };
        self.add("konductor_status_writes_total", kind, outcome, 1);
    }

    /// Records what became of an Event about a `kind` object.
    pub fn event(&self, kind: &'static str, outcome: EventOutcome) {
        let outcome = match outcome {
            EventOutcome::Published => "published",
            EventOutcome::Failed => "failed",
            EventOutcome::Dropped => "dropped",
        };
        self.add("konductor_events_total", kind, outcome, 1);
    }

    /// Records that this replica leads (it never steps down alive: losing
    /// the leader lease ends the process).
    pub fn became_leader(&self) {
        self.leader.store(true, Ordering::Relaxed);
    }

    /// Adds a controller cache to read gauges of `kind` from.
    pub fn watch_store(&self, kind: &'static str, store: Store<DynamicObject>) {
        self.stores
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((kind, store));
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_counters(&mut out);
        self.render_gauges(&mut out);
        out
    }

    fn render_counters(&self, out: &mut String) {
        let c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let help = [
            ("konductor_reconciles_total", "Reconciles run, by kind.", ""),
            (
                "konductor_reconcile_errors_total",
                "Reconciles that failed, by kind.",
                "",
            ),
            (
                "konductor_reclaimed_total",
                "Stale holder records removed, by kind and record.",
                "record",
            ),
            (
                "konductor_status_writes_total",
                "Status writes of the operator, by kind and outcome.",
                "outcome",
            ),
            (
                "konductor_events_total",
                "Events, by kind of their object and outcome (published, failed, dropped).",
                "outcome",
            ),
        ];
        for (name, text, label_name) in help {
            let _ = writeln!(out, "# HELP {name} {text}\n# TYPE {name} counter");
            for ((n, kind, label), value) in c.values.iter() {
                if *n != name {
                    continue;
                }
                if label_name.is_empty() {
                    let _ = writeln!(out, "{name}{{kind=\"{kind}\"}} {value}");
                } else {
                    let _ = writeln!(
                        out,
                        "{name}{{kind=\"{kind}\",{label_name}=\"{label}\"}} {value}"
                    );
                }
            }
        }
        let name = "konductor_reconcile_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time taken by one reconcile, by kind.\n# TYPE {name} histogram"
        );
        for (kind, h) in c.latency.iter() {
            for (count, bound) in h.counts.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{kind=\"{kind}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{kind=\"{kind}\",le=\"+Inf\"}} {}",
                h.total
            );
            let _ = writeln!(out, "{name}_sum{{kind=\"{kind}\"}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{kind=\"{kind}\"}} {}", h.total);
        }
    }

    fn render_gauges(&self, out: &mut String) {
        let leader = u8::from(self.leader.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "# HELP konductor_leader 1 when this replica holds the leader lease.\n# TYPE konductor_leader gauge\nkonductor_leader {leader}"
        );
        let mut objects: BTreeMap<&str, u64> = BTreeMap::new();
        let mut holders: BTreeMap<&str, u64> = BTreeMap::new();
        let mut open_gates = 0u64;
        let mut waitgroup_counters = 0u64;
        for (kind, store) in self.stores.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            for object in store.state() {
                *objects.entry(kind).or_default() += 1;
                let status = &object.data["status"];
                let count = |field: &str| status[field].as_array().map_or(0, |a| a.len() as u64);
                match *kind {
                    "Semaphore" | "RWMutex" => {
                        *holders.entry(kind).or_default() += count("holders");
                    }
                    "Lease" | "Mutex" => {
                        *holders.entry(kind).or_default() +=
                            u64::from(status["holder"].is_string());
                    }
                    "Once" => {
                        *holders.entry(kind).or_default() +=
                            u64::from(status["executor"]["holder"].is_string());
                    }
                    "Gate" => open_gates += u64::from(status["phase"] == "Open"),
                    // Before the first status write the counter is spec.expected.
                    "WaitGroup" => {
                        waitgroup_counters += status["counter"]
                            .as_u64()
                            .or_else(|| object.data["spec"]["expected"].as_u64())
                            .unwrap_or(0)
                    }
                    _ => {}
                }
            }
        }
        let gauges = [
            (
                "konductor_objects",
                "Konductor objects in the watched namespaces, by kind.",
                &objects,
            ),
            (
                "konductor_holders",
                "Current holders, summed over objects, by kind.",
                &holders,
            ),
        ];
        for (name, text, values) in gauges {
            let _ = writeln!(out, "# HELP {name} {text}\n# TYPE {name} gauge");
            for (kind, value) in values {
                let _ = writeln!(out, "{name}{{kind=\"{kind}\"}} {value}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP konductor_open_gates Gates in phase Open.\n# TYPE konductor_open_gates gauge\nkonductor_open_gates {open_gates}"
        );
        let _ = writeln!(
            out,
            "# HELP konductor_waitgroup_counter The counters of the wait groups, summed: done calls still awaited.\n# TYPE konductor_waitgroup_counter gauge\nkonductor_waitgroup_counter {waitgroup_counters}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.reconciled(
            "Gate",
            Duration::from_millis(3),
            ReconcileOutcome::Succeeded,
        );
        m.reconciled("Gate", Duration::from_millis(300), ReconcileOutcome::Failed);
        m.reclaimed("Semaphore", "holder", 2);
        m.status_write("Gate", WriteOutcome::Conflict);
        m.event("Semaphore", EventOutcome::Dropped);
        m.became_leader();
        let text = m.render();
        assert!(
            text.contains("konductor_reconciles_total{kind=\"Gate\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("konductor_reconcile_errors_total{kind=\"Gate\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("konductor_reclaimed_total{kind=\"Semaphore\",record=\"holder\"} 2"),
            "{text}"
        );
        assert!(
            text.contains(
                "konductor_reconcile_duration_seconds_bucket{kind=\"Gate\",le=\"0.005\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "konductor_reconcile_duration_seconds_bucket{kind=\"Gate\",le=\"+Inf\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("konductor_status_writes_total{kind=\"Gate\",outcome=\"conflict\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("konductor_events_total{kind=\"Semaphore\",outcome=\"dropped\"} 1"),
            "{text}"
        );
        assert!(text.contains("konductor_leader 1"), "{text}");
    }
}
