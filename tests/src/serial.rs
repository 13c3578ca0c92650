//! One process-wide lock for the tests whose bounds are about timing, so that they never share the machine with each other.
//!
//! Cargo runs test binaries one after another, but the tests of one binary in
//! parallel. The timing bounds (reclaim, gate opening, fail-over, hand-off
//! latency) are about Konductor, not about how many operators, contender
//! processes and client threads share two cores, so those tests take this
//! lock for their whole run.

use std::sync::{Mutex, MutexGuard};

/// Blocks until no other test of this binary holds the lock; the test runs alone among the lock's holders while it keeps the guard.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    // A test that panicked while holding the lock leaves nothing to repair.
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
