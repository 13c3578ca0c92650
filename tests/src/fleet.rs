//! Many Konductor objects in one namespace as a busy cluster holds them:
//! semaphores whose holders stopped renewing, with barriers and gates in
//! proportion; for the operator's scale test and benchmark.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use konductor::resource::{BarrierPhase, ConditionKind, GateCondition, GatePhase, SemaphorePhase};
use konductor::{Client, Options};

/// Holders per semaphore, each abandoned without renewing or releasing.
pub const HOLDERS: usize = 3;
/// Permits per semaphore.
pub const PERMITS: u32 = 10;
/// One barrier and one gate per this many semaphores.
const SEMAPHORES_PER_BARRIER: usize = 10;

/// The objects of a fleet, by count.
#[derive(Debug, Clone, Copy)]
pub struct Fleet {
    /// Semaphores, each with [`HOLDERS`] stale holders.
    pub semaphores: usize,
    /// Barriers waiting for arrivals that never come.
    pub barriers: usize,
    /// Gates waiting for a barrier to open.
    pub gates: usize,
    /// The holders' TTL after their last renewal.
    pub ttl: Duration,
    /// Zero: the holders stop renewing when they are created, all before
    /// the operator starts, so that they expire at once. Otherwise they are
    /// created with a TTL longer by `spread` plus [`RENEWAL_SLACK`] and
    /// renewed a last time (with `ttl`) while the operator runs, spread
    /// evenly over `spread` (see [`Fleet::renew_at`]), so that their
    /// expiries are too.
    pub spread: Duration,
}

/// How much longer than `ttl + spread` the holders of a staggered fleet
/// live before their last renewal: room for the operator's first pass and
/// for renewals that fall behind their schedule.
pub const RENEWAL_SLACK: Duration = Duration::from_secs(60);

impl Fleet {
    /// `semaphores` semaphores with holders of `ttl`, and a barrier and a gate per ten.
    pub fn new(semaphores: usize, ttl: Duration) -> Fleet {
        let others = semaphores.div_ceil(SEMAPHORES_PER_BARRIER);
        Fleet {
            semaphores,
            barriers: others,
            gates: others,
            ttl,
            spread: Duration::ZERO,
        }
    }

    /// The same fleet with its holders' last renewals spread evenly over `spread`.
    pub fn staggered(self, spread: Duration) -> Fleet {
        Fleet { spread, ..self }
    }

    /// The TTL the semaphores and holders are created with.
    pub fn created_ttl(&self) -> Duration {
        if self.spread.is_zero() {
            self.ttl
        } else {
            self.ttl + self.spread + RENEWAL_SLACK
        }
    }

    /// When semaphore `i`'s holders are renewed a last time in a staggered
    /// fleet, after the renewals began.
    pub fn renew_at(&self, i: usize) -> Duration {
        self.spread
            .mul_f64(i as f64 / self.semaphores.max(1) as f64)
    }

    /// Objects of all kinds.
    pub fn objects(&self) -> usize {
        self.semaphores + self.barriers + self.gates
    }

    /// Holders that the operator will have to reclaim.
    pub fn holders(&self) -> usize {
        self.semaphores * HOLDERS
    }

    /// Creates every object in `client`'s namespace from `threads` threads,
    /// and takes and abandons every holder; panics on any failure.
    pub fn create(&self, client: &Client, threads: usize) {
        let next = AtomicUsize::new(0);
        let total = self.objects();
        thread::scope(|scope| {
            for _ in 0..threads.max(1) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return;
                    }
                    self.create_one(client, i);
                });
            }
        });
    }

    fn create_one(&self, client: &Client, i: usize) {
        if i < self.semaphores {
            let name = semaphore(i);
            let ttl = self.created_ttl();
            client
                .create_semaphore(&name, PERMITS, Some(ttl))
                .unwrap_or_else(|e| panic!("create semaphore {name}: {e}"));
            for h in 0..HOLDERS {
                let options = Options::new()
                    .holder(format!("h-{i}-{h}"))
                    .ttl(ttl)
                    .auto_renew(false)
                    .timeout(Duration::ZERO);
                let permit = client
                    .acquire_semaphore(&name, &options)
                    .unwrap_or_else(|e| panic!("acquire {name}: {e}"));
                // The holder "crashes": no renewal, no release.
                std::mem::forget(permit);
            }
        } else if i < self.semaphores + self.barriers {
            let name = barrier(i - self.semaphores);
            client
                .create_barrier(&name, 2, None, None)
                .unwrap_or_else(|e| panic!("create barrier {name}: {e}"));
        } else {
            let g = i - self.semaphores - self.barriers;
            let condition = GateCondition {
                type_: ConditionKind::Barrier,
                name: barrier(g % self.barriers.max(1)),
                namespace: None,
                state: Some("Open".to_owned()),
                value: None,
            };
            client
                .create_gate(&format!("g-{g}"), vec![condition], None)
                .unwrap_or_else(|e| panic!("create gate g-{g}: {e}"));
        }
    }

    /// What still differs from the fleet's state once the operator reclaimed
    /// every holder and derived every field: `None` when nothing does.
    pub fn unsettled(&self, client: &Client) -> Option<String> {
        let semaphores = client.list_semaphores().ok()?;
        let wrong = semaphores
            .iter()
            .filter(|s| {
                s.status.as_ref().is_none_or(|st| {
                    !st.holders.is_empty()
                        || st.in_use != 0
                        || st.available != PERMITS
                        || st.phase != Some(SemaphorePhase::Ready)
                })
            })
            .count();
        let barriers = client.list_barriers().ok()?;
        let waiting = |phase: Option<BarrierPhase>| phase == Some(BarrierPhase::Waiting);
        let wrong_barriers = barriers
            .iter()
            .filter(|b| b.status.as_ref().is_none_or(|st| !waiting(st.phase)))
            .count();
        let gates = client.list_gates().ok()?;
        let wrong_gates = gates
            .iter()
            .filter(|g| {
                g.status.as_ref().is_none_or(|st| {
                    st.phase != Some(GatePhase::Waiting) || st.condition_statuses.len() != 1
                })
            })
            .count();
        let missing = self
            .objects()
            .saturating_sub(semaphores.len() + barriers.len() + gates.len());
        (wrong + wrong_barriers + wrong_gates + missing > 0).then(|| {
            format!(
                "{wrong} semaphores, {wrong_barriers} barriers and {wrong_gates} gates \
                 not derived yet, {missing} objects missing"
            )
        })
    }
}

/// The name of semaphore `i`.
pub fn semaphore(i: usize) -> String {
    format!("s-{i}")
}

/// The name of barrier `i`.
pub fn barrier(i: usize) -> String {
    format!("b-{i}")
}

/// The index of the semaphore named `name`, if it is one of a fleet's.
pub fn semaphore_index(name: &str) -> Option<usize> {
    name.strip_prefix("s-")?.parse().ok()
}
