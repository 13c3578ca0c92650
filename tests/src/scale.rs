//! One run of the operator over a [`Fleet`], measured: from its start until
//! every holder is reclaimed, every field derived and the process idle, then
//! through a restart that finds nothing to fix; and how late each reclaim
//! came after its holders' expiry.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::cluster::kubectl;
use crate::fleet::{semaphore_index, Fleet};
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
    /// Whether a second operator is started once the first is idle.
    pub restart: bool,
}

/// Renews the holders of a staggered fleet a last time, each semaphore at
/// its [`Fleet::renew_at`] after the call; returns when each renewal was
/// applied (`None` when it was not). Runs while the operator does.
pub type LastRenewals<'a> = Box<dyn FnOnce() -> Vec<Option<SystemTime>> + Send + 'a>;

/// A fleet as created, before the operator starts.
pub struct Created {
    /// How long creating it took.
    pub took: Duration,
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
    /// How late each semaphore was reclaimed after its holders expired.
    pub lateness: Lateness,
    /// The first operator, from its start until idle.
    pub start: Phase,
    /// A second operator started once the first was killed, with nothing
    /// left to fix (when the run asked for one).
    pub restart: Option<Phase>,
}

impl Report {
    /// Semaphores (each a status write and an Event) reclaimed per second,
    /// from the first reclaim to the last.
    pub fn reclaim_rate(&self) -> f64 {
        let window = self.reclaimed.saturating_sub(self.first_reclaim);
        self.fleet.semaphores as f64 / window.as_secs_f64().max(0.001)
    }
}

/// How late the semaphores of a run were reclaimed: for each, the time of
/// its `Reclaimed` Event (stamped by the operator right after the status
/// write that removed its holders was applied) minus its holders' expiry:
/// their last renewal plus their TTL. The last renewal of holders written
/// before the operator started counts as the operator's start: it goes by
/// what it has seen itself, so it cannot count from earlier.
#[derive(Debug, Clone, Default)]
pub struct Lateness {
    /// Every semaphore's lateness in seconds, sorted.
    pub seconds: Vec<f64>,
    /// Semaphore `i`'s lateness in seconds, by `i` (the order of the last
    /// renewals in a staggered fleet).
    pub by_semaphore: Vec<Option<f64>>,
    /// Semaphores of the fleet without a `Reclaimed` Event (with an
    /// `eventTime`), or whose last renewal failed.
    pub missing: usize,
}

impl Lateness {
    /// The `q`-quantile (0 to 1, nearest rank) in seconds; NaN when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        match self.seconds.len() {
            0 => f64::NAN,
            n => self.seconds[((q * n as f64).ceil() as usize).clamp(1, n) - 1],
        }
    }

    /// The latest reclaim's lateness in seconds; NaN when empty.
    pub fn max(&self) -> f64 {
        self.seconds.last().copied().unwrap_or(f64::NAN)
    }
}

impl Run {
    /// Creates the fleet in `ns`, runs an operator over it until idle, kills
    /// it and runs a second one until idle; panics when a phase exceeds the limit.
    pub fn run(&self, ns: &Namespace) -> Report {
        let created = self.create(ns);
        self.operate(ns, created, None)
    }

    /// Creates the fleet in `ns`.
    pub fn create(&self, ns: &Namespace) -> Created {
        let began = Instant::now();
        self.fleet.create(&ns.admin(), self.threads);
        Created {
            took: began.elapsed(),
        }
    }

    /// Runs an operator over the fleet created in `ns` until idle, kills it
    /// and (if asked) runs a second one until idle; panics when a phase
    /// exceeds the limit. A staggered fleet's holders are renewed a last
    /// time by `last_renewals`, once the operator has looked at every object.
    pub fn operate(
        &self,
        ns: &Namespace,
        created: Created,
        last_renewals: Option<LastRenewals<'_>>,
    ) -> Report {
        let client = ns.admin();
        let flags: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        let before = requests::read();
        let started = Instant::now();
        let started_at = SystemTime::now();
        let mut operator = Operator::start(&ns.name, &flags);
        let sampler = Sampler::start(operator.pid());
        let holders = self.fleet.holders() as f64;
        let reclaimed_so_far = || {
            operator
                .metric("konductor_reclaimed_total{kind=\"Semaphore\",record=\"holder\"}")
                .unwrap_or(0.0)
        };
        let (first_reclaim, reclaimed, renewals) = thread::scope(|scope| {
            let renewer = last_renewals.map(|renew| {
                self.until(started, "every semaphore looked at", || {
                    reconciles_of(&operator, "Semaphore") >= self.fleet.semaphores as f64
                });
                scope.spawn(renew)
            });
            let first = self.until(started, "a first reclaim", || reclaimed_so_far() > 0.0);
            let all = self.until(started, "every holder reclaimed", || {
                reclaimed_so_far() >= holders
            });
            let renewals = renewer.map(|r| r.join().expect("the renewals"));
            (first, all, renewals)
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
        let reclaims = reclaim_times(ns);
        let lateness = self.lateness(&reclaims, started_at, renewals.as_deref());
        operator.kill();
        let restart = self.restart.then(|| self.restart(ns, &flags));
        Report {
            fleet: self.fleet,
            created: created.took,
            first_reclaim,
            reclaimed,
            derived,
            reclaim_events: reclaims.len(),
            lateness,
            start,
            restart,
        }
    }

    /// Each semaphore's lateness, from the first `Reclaimed` Event about it.
    fn lateness(
        &self,
        reclaims: &[(String, Option<SystemTime>)],
        started_at: SystemTime,
        renewals: Option<&[Option<SystemTime>]>,
    ) -> Lateness {
        let mut first: Vec<Option<SystemTime>> = vec![None; self.fleet.semaphores];
        for (name, at) in reclaims {
            let Some(at) = *at else { continue };
            if let Some(slot) = semaphore_index(name).and_then(|i| first.get_mut(i)) {
                *slot = Some(slot.map_or(at, |t| t.min(at)));
            }
        }
        let by_semaphore: Vec<Option<f64>> = first
            .iter()
            .enumerate()
            .map(|(i, at)| {
                let renewed = match renewals {
                    Some(renewals) => (*renewals.get(i)?)?,
                    None => started_at,
                };
                let expiry = renewed + self.fleet.ttl;
                at.map(|at| match at.duration_since(expiry) {
                    Ok(late) => late.as_secs_f64(),
                    Err(early) => -early.duration().as_secs_f64(),
                })
            })
            .collect();
        let mut seconds: Vec<f64> = by_semaphore.iter().flatten().copied().collect();
        seconds.sort_by(f64::total_cmp);
        Lateness {
            missing: self.fleet.semaphores - seconds.len(),
            seconds,
            by_semaphore,
        }
    }

    /// A second operator over what the first left, until idle.
    fn restart(&self, ns: &Namespace, flags: &[&str]) -> Phase {
        let before = requests::read();
        let started = Instant::now();
        let operator = Operator::start(&ns.name, flags);
        let sampler = Sampler::start(operator.pid());
        let objects = self.fleet.objects() as f64;
        self.until(started, "every object reconciled after the restart", || {
            reconciles(&operator) >= objects
        });
        self.settle(&operator, sampler, &before)
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

/// Reconciles of semaphores, barriers and gates the operator finished.
fn reconciles(operator: &Operator) -> f64 {
    ["Semaphore", "Barrier", "Gate"]
        .iter()
        .map(|kind| reconciles_of(operator, kind))
        .sum()
}

/// Reconciles of objects of `kind` the operator finished.
fn reconciles_of(operator: &Operator, kind: &str) -> f64 {
    operator
        .metric(&format!("konductor_reconciles_total{{kind=\"{kind}\"}}"))
        .unwrap_or(0.0)
}
/// The `Reclaimed` Events in `ns`: the object each is about and its
/// `eventTime` (`None` when it has none).
fn reclaim_times(ns: &Namespace) -> Vec<(String, Option<SystemTime>)> {
    kubectl(&[
        "-n",
        &ns.name,
        "get",
        "events",
        "--field-selector",
        "reason=Reclaimed",
        "-o",
        "jsonpath={range .items[*]}{.involvedObject.name} {.eventTime}{\"\\n\"}{end}",
    ])
    .lines()
    .filter(|line| !line.trim().is_empty())
    .map(|line| {
        let (name, at) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
        (name.to_owned(), konductor::parse_rfc3339(at))
    })
    .collect()
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
