//! The core client against a real API server, one module per primitive or property, linked into one test binary.
//!
//! Cargo runs the tests of this binary in parallel. The ones whose bounds are
//! about timing (hand-off latency, TTL expiry, partitions) or that load the
//! machine (contention) take [`konductor_tests::serial::one_at_a_time`], so
//! that they never overlap each other.

mod access;
mod barrier;
mod config;
mod contention;
mod fairness;
mod faults;
mod gate;
mod invariants;
mod lease;
mod liveness;
mod mutex;
mod once;
mod partition;
mod rwmutex;
mod semaphore;
mod slots;
mod waitgroup;
mod wakeup;
