//! Jittered pauses after a lost race, so that a crowd of writers spreads out.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// The longest pause: 2^6 ms.
const MAX_DOUBLINGS: u32 = 6;

/// Sleeps a random time below a ceiling that doubles with each race lost in
/// a row (1 ms, 2 ms, … 64 ms), so writers that collided do not collide again
/// at once and a crowd costs the API server O(N) retries, not O(N²).
pub(crate) fn after_lost_race(races_lost: u32) {
    std::thread::sleep(pause(races_lost));
}

fn pause(races_lost: u32) -> Duration {
    let ceiling_us = 1000u64 << races_lost.min(MAX_DOUBLINGS);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(races_lost);
    Duration::from_micros(hasher.finish() % ceiling_us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_stay_below_a_ceiling_that_doubles_and_is_capped() {
        for races in 0..20 {
            let ceiling = Duration::from_millis(1 << races.min(MAX_DOUBLINGS));
            for _ in 0..50 {
                assert!(pause(races) < ceiling, "race {races}: {:?}", pause(races));
            }
        }
    }
}
