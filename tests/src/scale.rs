//! One run of the operator over a [`Fleet`], measured: from its start until
//! every holder is reclaimed, every field derived and the process idle, then
//! through a restart that finds nothing to fix.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::cluster::kubectl;
use crate::fleet::Fleet;
use crate::footprint::{self, Footprint};
use crate::kubeconfig::admin_access;
use crate::namespace::Namespace;
use crate::operator::Operator;
use crate::requests::{self, Requests};

/// The kinds whose status the operator writes, as the API server names them.
const KINDS: [&str; 4] = ["semaphores", "leases", "barriers", "gates"];
/// How often the operator's process is read.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// What to run.
pub struct Run {
    /// The objects, created before the operator starts.
    pub fleet: Fleet,
    /// Flags for the operator besides its namespace and metrics address.
    pub flags: Vec<String>,
    /// How long the operator is left alone before its idle figures are read.
    pub idle: Duration,
    /// The longest any phase may take before the run panics.
    pub limit: Duration,
    /// Threads that create the fleet.
    pub threads: usize,
}

/// What one operator process did and cost, from its start until idle.
#[derive(Debug, Clone, Default)]
pub struct Phase {
    /// The highest resident memory of the process, in KiB.
    pub peak_rss_kib: u64,
    /// Its resident memory once idle, in KiB.
    pub idle_rss_kib: u64,
    /// The most connections to the API server seen at once.
    pub peak_connections: usize,
    /// Connections to the API server once idle.
    pub idle_connections: usize,
    /// CPU seconds it used from its start until idle.
    pub cpu_seconds: f64,
    /// Status writes the API server applied (cluster-wide: run nothing else meanwhile).
    pub writes: u64,
    /// Status writes the API server refused with 409 Conflict.
    pub conflicts: u64,
    /// Status writes the operator counted as applied (its own metric).
    pub operator_writes: u64,
    /// Events it published, failed to publish, and dropped, by its metrics.
    pub events_published: u64,
    /// See `events_published`.
    pub events_failed: u64,
    /// See `events_published`.
    pub events_dropped: u64,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// The objects.
    pub fleet: Fleet,
    /// How long creating them took.
    pub created: Duration,
    /// From the operator's start until its first reclaim.
    pub first_reclaim: Duration,
    /// From the operator's start until every holder was reclaimed.
    pub reclaimed: Duration,
    /// From the operator's start until every object, as listed, showed the derived fields.
    pub derived: Duration,
    /// `Reclaimed` Events found in the namespace.
    pub reclaim_events: usize,
    /// The first operator, from its start until idle.
    pub start: Phase,
    /// A second operator started once the first was killed, with nothing left to fix.
    pub restart: Phase,
}

impl Report {
    /// Holders reclaimed per second, from the first reclaim to the last.
    pub fn reclaim_rate(&self) -> f64 {
        let window = self.reclaimed.saturating_sub(self.first_reclaim);
        self.fleet.holders() as f64 / window.as_secs_f64().max(0.001)
    }
}

impl Run {
    /// Creates the fleet in `ns`, runs an operator over it until idle, kills
    /// it and runs a second one until idle; panics when a phase exceeds the limit.
    pub fn run(&self, ns: &Namespace) -> Report {
        let client = ns.admin();
        let began = Instant::now();
        self.fleet.create(&client, self.threads);
        let created = began.elapsed();

        let flags: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        let before = requests::read();
        let started = Instant::now();
        let mut operator = Operator::start(&ns.name, &flags);
        let sampler = Sampler::start(operator.pid());
        let holders = self.fleet.holders() as f64;
        let reclaimed_so_far = || {
            operator
                .metric("konductor_reclaimed_total{kind=\"Semaphore\",record=\"holder\"}")
                .unwrap_or(0.0)
        };
        let first_reclaim = self.until(started, "a first reclaim", || reclaimed_so_far() > 0.0);
        let reclaimed = self.until(started, "every holder reclaimed", || {
            reclaimed_so_far() >= holders
        });
        let mut unsettled = None;
        let derived = self.until_every(started, Duration::from_secs(1), || {
            unsettled = self.fleet.unsettled(&client);
            unsettled.is_none()
        });
        assert!(
            derived < self.limit,
            "expected every field derived within {:?}: {}",
            self.limit,
            unsettled.unwrap_or_default()
        );
        let reclaims = self.fleet.semaphores as f64;
        self.until(started, "an Event for every reclaim", || {
            events(&operator).total() >= reclaims
        });
        let start = self.settle(&operator, sampler, &before);
        let reclaim_events = kubectl(&[
            "-n",
            &ns.name,
            "get",
            "events",
            "--field-selector",
            "reason=Reclaimed",
            "-o",
            "name",
        ])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
        operator.kill();

        let before = requests::read();
        let started = Instant::now();
        let operator = Operator::start(&ns.name, &flags);
        let sampler = Sampler::start(operator.pid());
        let objects = self.fleet.objects() as f64;
        self.until(started, "every object reconciled after the restart", || {
            ["Semaphore", "Barrier", "Gate"]
                .iter()
                .filter_map(|kind| {
                    operator.metric(&format!("konductor_reconciles_total{{kind=\"{kind}\"}}"))
                })
                .sum::<f64>()
                >= objects
        });
        let restart = self.settle(&operator, sampler, &before);
        Report {
            fleet: self.fleet,
            created,
            first_reclaim,
            reclaimed,
            derived,
            reclaim_events,
            start,
            restart,
        }
    }

    /// Leaves the operator alone for `idle`, then reads what the phase cost.
    fn settle(&self, operator: &Operator, sampler: Sampler, before: &Requests) -> Phase {
        thread::sleep(self.idle);
        let idle = footprint::read(operator.pid(), sampler.port).unwrap_or_default();
        let peak = sampler.stop();
        let after = requests::read();
        let writes = |code| {
            ["PUT", "PATCH"]
                .iter()
                .map(|verb| {
                    after.count(verb, &KINDS, "status", code)
                        - before.count(verb, &KINDS, "status", code)
                })
                .sum::<u64>()
        };
        let operator_writes = ["Semaphore", "Lease", "Barrier", "Gate"]
            .iter()
            .filter_map(|kind| {
                operator.metric(&format!(
                    "konductor_status_writes_total{{kind=\"{kind}\",outcome=\"applied\"}}"
                ))
            })
            .sum::<f64>() as u64;
        let events = events(operator);
        Phase {
            peak_rss_kib: idle.peak_rss_kib.max(peak.peak_rss_kib),
            idle_rss_kib: idle.rss_kib,
            peak_connections: peak.connections.max(idle.connections),
            idle_connections: idle.connections,
            cpu_seconds: idle.cpu_seconds,
            writes: writes("2"),
            conflicts: writes("409"),
            operator_writes,
            events_published: events.published as u64,
            events_failed: events.failed as u64,
            events_dropped: events.dropped as u64,
        }
    }

    /// Polls `done` every 250 ms; returns the time since `started` when it
    /// holds; panics naming `what` after the limit.
    fn until(&self, started: Instant, what: &str, mut done: impl FnMut() -> bool) -> Duration {
        let took = self.until_every(started, Duration::from_millis(250), &mut done);
        assert!(
            took < self.limit,
            "expected {what} within {:?} of the operator's start",
            self.limit
        );
        took
    }

    /// Polls `done` every `period` until it holds or the limit passed; returns the time since `started`.
    fn until_every(
        &self,
        started: Instant,
        period: Duration,
        mut done: impl FnMut() -> bool,
    ) -> Duration {
        while !done() {
            if started.elapsed() >= self.limit {
                return self.limit;
            }
            thread::sleep(period);
        }
        started.elapsed()
    }
}

/// The operator's `konductor_events_total` for semaphores, by outcome.
struct EventCounts {
    published: f64,
    failed: f64,
    dropped: f64,
}

impl EventCounts {
    fn total(&self) -> f64 {
        self.published + self.failed + self.dropped
    }
}

fn events(operator: &Operator) -> EventCounts {
    let count = |outcome: &str| {
        operator
            .metric(&format!(
                "konductor_events_total{{kind=\"Semaphore\",outcome=\"{outcome}\"}}"
            ))
            .unwrap_or(0.0)
    };
    EventCounts {
        published: count("published"),
        failed: count("failed"),
        dropped: count("dropped"),
    }
}

/// Reads a process every [`SAMPLE_EVERY`] on a thread of its own, keeping the peaks.
struct Sampler {
    port: u16,
    stop: Arc<AtomicBool>,
    peak: Arc<Mutex<Footprint>>,
    thread: thread::JoinHandle<()>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let port = apiserver_port();
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(Mutex::new(Footprint::default()));
        let thread = {
            let (stop, peak) = (stop.clone(), peak.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Some(now) = footprint::read(pid, port) else {
                        return;
                    };
                    let mut peak = peak.lock().unwrap_or_else(|e| e.into_inner());
                    peak.connections = peak.connections.max(now.connections);
                    peak.peak_rss_kib = peak.peak_rss_kib.max(now.peak_rss_kib);
                    drop(peak);
                    thread::sleep(SAMPLE_EVERY);
                }
            })
        };
        Sampler {
            port,
            stop,
            peak,
            thread,
        }
    }

    /// Stops sampling; returns the peaks seen.
    fn stop(self) -> Footprint {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        *self.peak.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The port of the API server the admin kubeconfig names.
pub fn apiserver_port() -> u16 {
    let server = admin_access().server;
    server
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(443)
}
