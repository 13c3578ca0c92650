//! The operator as a separate process, one module per job it does, linked into one test binary.
//!
//! Every test here starts at least one operator and most bound how fast it
//! acts (reclaim, gate opening, fail-over), so every test takes
//! [`konductor_tests::serial::one_at_a_time`]: their bounds are about the
//! operator, not about how many operators share two cores.

mod barrier;
mod gate;
mod ha;
mod rbac;
mod reclaim;
mod restart;
mod scale;
mod waitgroup;
