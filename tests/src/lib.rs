//! What Konductor's integration tests share: the control plane, namespaces, the operator process and the contenders' hold log.
//!
//! The tests themselves are three binaries under `tests/tests/`: `core` (the
//! client against a real API server), `operator` (the operator as a separate
//! process) and `control_plane` (the local control plane itself).

pub mod apiserver;
pub mod cancel;
pub mod cluster;
pub mod condition;
pub mod failure;
pub mod faults;
pub mod flags;
pub mod fleet;
pub mod footprint;
pub mod holds;
pub mod kind;
pub mod kubeconfig;
pub mod namespace;
pub mod operator;
pub mod proxy;
pub mod requests;
pub mod scale;
pub mod serial;
pub mod status;
pub mod wait;
pub mod waiter;
pub mod work;
