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
    /// The holders' TTL (of semaphore 0; see `spread`).
    pub ttl: Duration,
    /// How far the holders' TTLs are spread: semaphore `i` of `n` has
    /// `ttl + spread * i / n`, so that holders last written together expire
    /// one after another over `spread` instead of all at once.
    pub spread: Duration,
}

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

    /// The same fleet with its holders' expiries spread evenly over `spread`.
    pub fn staggered(self, spread: Duration) -> Fleet {
        Fleet { spread, ..self }
    }

    /// The TTL of semaphore `i` and its holders, to the millisecond.
    pub fn ttl_of(&self, i: usize) -> Duration {
        let extra = self.spread.as_millis() * i as u128 / self.semaphores.max(1) as u128;
        self.ttl + Duration::from_millis(u64::try_from(extra).unwrap_or(u64::MAX))
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
            let ttl = self.ttl_of(i);
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
