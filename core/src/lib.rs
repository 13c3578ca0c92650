//! Konductor: Kubernetes-native coordination primitives.
//!
//! Semaphores, barriers, leases and gates stored as custom resources of the
//! API group `sync.konductor.io/v1`, used through a small blocking client.
//!
//! (The full user guide follows below once the API settles.)

mod acquire;
mod barrier;
mod cancel;
mod client;
mod config;
mod credentials;
mod duration;
mod error;
mod exec;
mod gate;
mod grant;
mod kubeconfig;
mod lease;
mod leader;
mod names;
mod objects;
mod observer;
mod options;
pub mod resource;
mod semaphore;
mod slots;
mod staleness;
mod time;
mod tls;
mod transport;
mod wait;
mod watch;

pub use barrier::{BARRIER_FAILED, BARRIER_OPEN, BARRIER_WAITING};
pub use cancel::CancelToken;
pub use client::Client;
pub use config::Config;
pub use duration::{format_duration, parse_duration};
pub use error::{ApiStatus, Error, Result};
pub use gate::{GATE_FAILED, GATE_OPEN, GATE_WAITING};
pub use leader::Leadership;
pub use lease::Lease;
pub use names::{validate_holder, validate_name, validate_namespace};
pub use observer::{Event, Observer};
pub use options::{default_holder, Options, DEFAULT_TTL};
pub use semaphore::Permit;

/// The coordination state machine, for the operator and other writers that
/// must follow the same protocol as the clients.
pub mod protocol {
    pub use crate::acquire::{holder_key, waiter_key, Slotted};
    pub use crate::slots::{Place, Slots};
    pub use crate::staleness::{margin, Observed, Staleness, Verdict};
}
