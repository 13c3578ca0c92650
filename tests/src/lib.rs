//! Integration tests of Konductor against a real API server (see `tests/tests/`),
//! and what the multi-process tests share: the hold log of contender processes.

pub mod holds;
