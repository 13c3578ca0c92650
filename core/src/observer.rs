//! Hooks for metrics and logging: what happened to which object, and how long it took.

use std::time::Duration;

use crate::error::Error;

/// Which object and holder an event is about.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// Kind of the object, e.g. `Semaphore`.
    pub kind: &'static str,
    /// Namespace of the object.
    pub namespace: &'a str,
    /// Name of the object.
    pub name: &'a str,
    /// Holder identity of the caller.
    pub holder: &'a str,
}

/// Receives events from acquire, release and wait calls. Every method has an
/// empty default, so implement only what you need. Calls happen on the
/// thread doing the work (or the renewal thread for `lost`): keep them quick.
pub trait Observer: Send + Sync {
    /// A permit or lease was granted after waiting `waited`.
    fn acquired(&self, _event: &Event<'_>, _waited: Duration) {}
    /// A permit or lease was released after being held for `held`.
    fn released(&self, _event: &Event<'_>, _held: Duration) {}
    /// A wait (acquire, barrier or gate) ended, successfully or not, after `waited`.
    fn waited(&self, _event: &Event<'_>, _waited: Duration) {}
    /// A held permit or lease was lost (not renewed in time, or taken away).
    fn lost(&self, _event: &Event<'_>, _reason: &str) {}
    /// A call failed.
    fn error(&self, _event: &Event<'_>, _error: &Error) {}
}
