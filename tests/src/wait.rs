//! Bounded waits for what a test expects to happen, timed in milliseconds.

use std::time::{Duration, Instant};

/// Polls `condition` every 10 ms until it holds and returns how long that took; panics with `what` after `limit`.
pub fn eventually(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < limit,
            "expected {what} within {limit:?}, it did not happen"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    started.elapsed()
}

/// Retries `attempt` every 100 ms until it succeeds; panics with the last error after `limit`.
pub fn eventually_ok<T, E: std::fmt::Debug>(
    limit: Duration,
    mut attempt: impl FnMut() -> Result<T, E>,
) -> T {
    let started = Instant::now();
    loop {
        match attempt() {
            Ok(value) => return value,
            Err(error) if started.elapsed() >= limit => {
                panic!("still failing after {limit:?}: {error:?}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Milliseconds of a duration, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
