//! How long an object waits for its next reconcile after failed ones:
//! exponential with jitter, capped, and forgotten after a success.
//!
//! A fixed retry period hammers an API server that is already failing, and
//! makes every object that failed at the same moment retry at the same
//! moment; doubling spreads the load over time, jitter over objects.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;
use std::time::Duration;

/// The retry delay after the first failure, before jitter.
pub const FIRST_RETRY: Duration = Duration::from_millis(500);
/// The longest retry delay, before jitter.
pub const MAX_RETRY: Duration = Duration::from_secs(60);

/// Consecutive reconcile failures per object uid.
#[derive(Default)]
pub struct Backoff {
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    /// Counts a failure of object `uid`; returns how long to wait before the next try.
    pub fn failed(&self, uid: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let count = failures.entry(uid.to_owned()).or_default();
        *count = count.saturating_add(1);
        delay(*count, random())
    }

    /// Forgets the failures of object `uid`: its next failure waits [`FIRST_RETRY`] again.
    pub fn succeeded(&self, uid: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if !failures.is_empty() {
            failures.remove(uid);
        }
    }

    /// Keeps only the objects in `live`.
    pub fn retain(&self, live: &HashSet<String>) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|uid, _| live.contains(uid));
    }
}

/// The delay after `failures` consecutive failures: [`FIRST_RETRY`] doubled
/// per failure up to [`MAX_RETRY`], then a point between its half and its
/// whole chosen by `random` (so no delay collapses to nothing).
fn delay(failures: u32, random: u64) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    let ceiling = FIRST_RETRY.saturating_mul(1 << doublings).min(MAX_RETRY);
    let half = ceiling / 2;
    let spread = u64::try_from(half.as_micros()).unwrap_or(u64::MAX).max(1);
    half + Duration::from_micros(random % (spread + 1))
}

fn random() -> u64 {
    // Each RandomState is seeded afresh, which is all the randomness jitter needs.
    RandomState::new().build_hasher().finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_first_retry_up_to_the_cap() {
        let highest = |failures| delay(failures, u64::MAX - 1).max(delay(failures, 0));
        assert_eq!(delay(1, 0), FIRST_RETRY / 2);
        assert!(highest(1) <= FIRST_RETRY);
        assert_eq!(
            delay(2, 0),
            FIRST_RETRY,
            "the second failure waits at least the first's ceiling"
        );
        assert_eq!(delay(4, 0), FIRST_RETRY * 4);
        assert!(highest(30) <= MAX_RETRY, "capped: {:?}", highest(30));
        assert_eq!(delay(30, 0), MAX_RETRY / 2);
        assert_eq!(delay(u32::MAX, 0), MAX_RETRY / 2);
    }

    #[test]
    fn jitter_stays_between_half_and_whole_of_the_ceiling() {
        for random in [0, 1, 7, 1_000_003, u64::MAX] {
            let d = delay(3, random);
            assert!(
                (FIRST_RETRY * 2..=FIRST_RETRY * 4).contains(&d),
                "expected a delay within [1s, 2s] after 3 failures, got {d:?}"
            );
        }
    }

    #[test]
    fn a_success_resets_the_delay_of_that_object_only() {
        let backoff = Backoff::default();
        for _ in 0..5 {
            backoff.failed("a");
            backoff.failed("b");
        }
        backoff.succeeded("a");
        assert!(backoff.failed("a") <= FIRST_RETRY);
        assert!(backoff.failed("b") >= FIRST_RETRY * 16);
    }

    #[test]
    fn failures_of_deleted_objects_are_dropped() {
        let backoff = Backoff::default();
        backoff.failed("gone");
        backoff.failed("gone");
        backoff.retain(&HashSet::new());
        assert!(backoff.failed("gone") <= FIRST_RETRY);
    }
}
