//! Konductor: Kubernetes-native coordination primitives.
//!
//! Coordination primitives stored as custom resources of the API group
//! `sync.konductor.io/v1`, used through a small *blocking* client that talks
//! to the Kubernetes API server directly (no async runtime):
//!
//! | primitive | what it gives you | calls |
//! |---|---|---|
//! | [`resource::Semaphore`] | at most `permits` concurrent holders | [`Client::acquire_semaphore`], [`Client::with_semaphore`], [`Permit`] |
//! | [`resource::Barrier`] | a rendezvous that opens when `expected` (or `quorum`) holders arrived | [`Client::arrive_barrier`], [`Client::wait_barrier`], [`Client::with_barrier`] |
//! | [`resource::Lease`] | one holder at a time: singleton work, leader election | [`Client::acquire_lease`], [`Client::try_acquire_lease`], [`Client::run_as_leader`], [`Lease`] |
//! | [`resource::Mutex`] | one holder at a time: critical sections (a lease under its own kind) | [`Client::lock_mutex`], [`Client::try_lock_mutex`], [`Client::with_mutex`], [`MutexLock`] |
//! | [`resource::RWMutex`] | many readers or one writer, never both; strict FIFO by (priority, arrival), so a queued writer blocks later readers | [`Client::read_lock_rwmutex`], [`Client::write_lock_rwmutex`], [`Client::try_read_lock_rwmutex`], [`Client::try_write_lock_rwmutex`], [`Client::with_read`], [`Client::with_write`], [`RWMutexLock`] |
//! | [`resource::Once`] | work that runs in exactly one caller across the cluster; the others wait for its outcome | [`Client::do_once`], [`Client::claim_once`], [`Client::finish_once`], [`OnceRun`] |
//! | [`resource::WaitGroup`] | Go's `sync.WaitGroup` across processes: a counter never below zero, waited on until zero | [`Client::create_waitgroup`], [`Client::add_waitgroup`], [`Client::done_waitgroup`], [`Client::wait_waitgroup`] |
//! | [`resource::Gate`] | opens when Jobs, barriers, leases or other gates reach a state | [`Client::wait_gate`], [`Client::check_gate`], [`Client::gate_conditions`] |
//!
//! Every kind has the same typed handle, [`Api`]: `client.api::<Semaphore>()`
//! creates, reads, lists and deletes objects, and for the slotted kinds
//! (Semaphore, Lease, Mutex) acquires with [`Api::acquire`], [`Api::try_acquire`]
//! and [`Api::with`], giving a [`Held`] grant. The SDK-named methods
//! (`acquire_semaphore`, `get_lease`, …) are shorthands for these.
//!
//! # Quick start
//!
//! (Examples here are `core/examples/*.rs` verbatim; `./test` runs them
//! against a real API server.)
//!
#![doc = concat!("```no_run\n", include_str!("../examples/readme.rs"), "```")]
//!
//! # Options
//!
//! Every acquire and wait takes [`Options`]: `ttl` (permit/lease lifetime;
//! default from the object's `spec.ttl`, else [`DEFAULT_TTL`]), `timeout`
//! (none = wait until cancelled, zero = try once), `priority` (higher first,
//! then arrival order), `holder` (default: `POD_NAME` or host name plus a
//! unique suffix), `cancel` (a [`CancelToken`] another thread can fire),
//! `auto_renew` (background renewal at a third of the TTL; loss is reported
//! through [`Permit::is_lost`], [`Permit::lost_token`] and the observer) and
//! `observer` ([`Observer`] hooks for metrics).
//!
//! # Multi-stage pipeline
//!
#![doc = concat!("```no_run\n", include_str!("../examples/guide_pipeline.rs"), "```")]
//!
//! # Leader election
//!
#![doc = concat!("```no_run\n", include_str!("../examples/guide_leader.rs"), "```")]
//!
//! # Once
//!
//! [`Client::do_once`] runs its work in exactly one caller of a once across
//! the cluster; every other caller waits (a watch, bounded by
//! `options.timeout`) and gets the outcome: `Ok(None)` once it is done, or
//! [`Error::Failed`] with the executor's message when its run failed for
//! good. The executor holds the once as a lease while the work runs (TTL,
//! background renewal, fencing token in [`OnceRun::token`]); if it dies, the
//! once is free again after its TTL (the operator, or a waiting caller by
//! its own clock) and the next caller runs the work. The outcome and the
//! release are one guarded write, and a done once has no free slot, so no
//! caller can start the work after it finished. With
//! [`resource::OnFailure::Retry`] a failed run is retried by the next caller.
//!
#![doc = concat!("```no_run\n", include_str!("../examples/guide_once.rs"), "```")]
//!
//! # Wait groups
//!
//! A coordinator creates a wait group counting its workers (or raises the
//! counter with [`Client::add_waitgroup`]); each worker calls
//! [`Client::done_waitgroup`] once under its own holder name; the
//! coordinator's [`Client::wait_waitgroup`] returns when the counter is zero.
//! The counter never goes below zero ([`Error::BelowZero`]). Retries never
//! count twice: a done is recorded by holder in `status.doneHolders` (a
//! holder counts once for the wait group's whole life, so reuse a wait group
//! with fresh holder names), an add by a ticket of its own in
//! `status.addTickets` (the last [`resource::WAITGROUP_ADD_TICKETS`] adds).
//! `spec.expected` plus every add is at most
//! [`resource::MAX_WAITGROUP_COUNT`]; with `spec.ttl` the operator deletes
//! the wait group that long after it reached zero.
//!
#![doc = concat!("```no_run\n", include_str!("../examples/shard_coordinator.rs"), "```")]
//!
//! # Errors
//!
//! Every call returns [`Result`]; branch on [`Error`]'s variants:
//! `NotFound`, `AlreadyExists`, `AlreadyHeld`, `LeaseHeld`, `Locked`, `BelowZero`, `Timeout`,
//! `Cancelled`, `Lost`, `Failed`, `Forbidden`, `Unauthorized`, `Invalid`
//! (bad name, duration or count, caught before any request, naming the
//! [`Argument`] and the value), `Api` (the server's Status kept whole),
//! `Transport`, `Config`. [`Error::chain`] gives the message with its causes
//! on one line.
//!
//! # How it stays correct
//!
//! - **One object, one linearization point.** Every change of a semaphore or
//!   lease is a write of its own status that applies only to the state it was
//!   computed from: a JSON patch whose `test` operations cover every field the
//!   decision read (the object's uid and spec generation, the holders, the
//!   fencing counter), or a `PUT` carrying the `resourceVersion`. etcd orders
//!   the writes, so "at most `permits` holders" holds whoever writes (client
//!   or operator), and fencing tokens strictly increase.
//! - **The contended object stays small.** It holds only its holders, its
//!   fencing counter and the tickets of its last few finished grants:
//!   O(permits), however many wait. A caller that finds no free slot creates
//!   a small [`resource::Waiter`] object of its own (named after its ticket,
//!   labelled with the target's uid) and heartbeats *that* (every TTL/3, at
//!   most 20 s apart), never the contended object.
//! - **Waiting is a watch.** Each process follows the contended object and
//!   its queue (the waiter objects) with one watch each, however many of its
//!   threads wait, resuming after dropped streams and relisting after
//!   `410 Gone`. Grant order is priority, then arrival (the resourceVersion
//!   the waiter was created at). A release hands the slot to the head of the
//!   queue in its own write when its process follows the queue; otherwise the
//!   head, seeing a free slot with nobody live ahead, takes it. A release
//!   therefore wakes one writer, not a herd.
//! - **Every acquisition has its own identity** (a ticket): a caller adopts
//!   exactly the grant that carries its ticket (after a lost answer, say) and
//!   undoes exactly its own leftovers; a finished ticket is never handed a
//!   slot again.
//! - **Expiry by the observer's own clock.** A holder record, or a waiter
//!   object, is stale when this process has seen it unchanged for longer than
//!   its TTL (plus a margin); the holder itself gives up at its TTL counted
//!   from before its last successful write, so it learns of the loss first.
//!   A slot handed to a waiter lives only for the waiter's liveness TTL
//!   (at most 60 s) until the waiter renews it, so a grant to a waiter that
//!   has died is reclaimed as fast as the dead waiter itself.
//! - **Uncontended, a cycle is two requests**: the client remembers the
//!   object as it last read or wrote it and writes from that copy (the guard
//!   catches a stale copy, which costs one read).
//! - **No step needs the operator**: it adds prompt reclaim, timeouts, gate
//!   evaluation and derived status.
//!
//! Measured performance, next to a baseline, is in `core/benches/README.md`.

#![deny(rustdoc::broken_intra_doc_links)]

mod acquire;
mod api;
mod backoff;
mod barrier;
mod cancel;
mod client;
mod config;
mod duration;
mod error;
mod gate;
mod held;
mod latest;
mod leader;
mod lease;
mod mutex;
mod names;
mod objects;
mod observer;
mod once;
mod options;
mod patch;
mod queue;
pub mod resource;
mod rwmutex;
mod semaphore;
mod slots;
mod staleness;
#[cfg(test)]
mod testserver;
mod time;
mod transport;
mod wait;
mod waitgroup;
mod watch;

/// This crate's version, e.g. `"0.1.0"`: also the version of the Python wheel
/// and of the C library (`konductor_version()`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub use api::Api;
pub use cancel::CancelToken;
pub use client::Client;
pub use config::Config;
pub use duration::{duration_from_millis, duration_from_secs, format_duration, parse_duration};
pub use error::{ApiStatus, Argument, Error, Result};
pub use gate::MAX_GATE_CONDITIONS;
pub use held::Held;
pub use leader::Leadership;
pub use lease::Lease;
pub use mutex::MutexLock;
pub use names::{validate_holder, validate_name, validate_namespace};
pub use observer::{Event, Observer};
pub use once::{OnceRun, MAX_MESSAGE as MAX_ONCE_MESSAGE};
pub use options::{default_holder, Options, DEFAULT_TTL, MAX_TTL, REQUEST_BUDGET};
pub use rwmutex::RWMutexLock;
pub use semaphore::Permit;
pub use time::{format_rfc3339, parse_rfc3339};

/// The coordination state machine, for the operator and other writers that
/// must follow the same protocol as the clients.
pub mod protocol {
    pub use crate::acquire::{holder_key, observed_records, Slotted};
    pub use crate::queue::MAX_WAITER_TTL;
    pub use crate::slots::{Candidate, Place, Slots, FINISHED};
    pub use crate::staleness::{margin, Observed, Staleness, Verdict};
}
