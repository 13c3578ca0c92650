//! The Python handle of a held slot (a semaphore permit, a lease), one class
//! for every slotted kind.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use konductor::protocol::Slotted;
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::worker::{run, OnInterrupt};

/// Seconds since the Unix epoch (negative before it).
fn unix_seconds(time: SystemTime) -> f64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}

/// What the handle needs of core's `Held<K>`, whatever `K` is.
trait Grant: Send + Sync {
    fn name(&self) -> &str;
    fn holder(&self) -> &str;
    fn token(&self) -> u64;
    fn ttl(&self) -> Duration;
    fn expires_at(&self) -> SystemTime;
    fn is_lost(&self) -> bool;
    fn still_held(&self) -> konductor::Result<()>;
    fn renew(&self) -> konductor::Result<()>;
    fn release(&self) -> konductor::Result<()>;
    fn disown(&self);
}

impl<K: Slotted> Grant for konductor::Held<K> {
    fn name(&self) -> &str {
        konductor::Held::name(self)
    }
    fn holder(&self) -> &str {
        konductor::Held::holder(self)
    }
    fn token(&self) -> u64 {
        konductor::Held::token(self)
    }
    fn ttl(&self) -> Duration {
        konductor::Held::ttl(self)
    }
    fn expires_at(&self) -> SystemTime {
        konductor::Held::expires_at(self)
    }
    fn is_lost(&self) -> bool {
        konductor::Held::is_lost(self)
    }
    fn still_held(&self) -> konductor::Result<()> {
        konductor::Held::still_held(self)
    }
    fn renew(&self) -> konductor::Result<()> {
        konductor::Held::renew(self)
    }
    fn release(&self) -> konductor::Result<()> {
        konductor::Held::release(self)
    }
    fn disown(&self) {
        konductor::Held::disown(self)
    }
}

/// A held slot: a semaphore permit or a lease.
#[pyclass(frozen, module = "konductor._native")]
pub(crate) struct Held {
    inner: Arc<dyn Grant>,
}

impl<K: Slotted> From<konductor::Held<K>> for Held {
    fn from(held: konductor::Held<K>) -> Held {
        Held {
            inner: Arc::new(held),
        }
    }
}

#[pymethods]
impl Held {
    /// Name of the object.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// Holder identity the grant is recorded under.
    #[getter]
    fn holder(&self) -> &str {
        self.inner.holder()
    }

    /// Fencing token of the grant.
    #[getter]
    fn token(&self) -> u64 {
        self.inner.token()
    }

    /// Time-to-live in seconds.
    #[getter]
    fn ttl(&self) -> f64 {
        self.inner.ttl().as_secs_f64()
    }

    /// Expiry unless renewed, in seconds since the Unix epoch.
    #[getter]
    fn expires_at(&self) -> f64 {
        unix_seconds(self.inner.expires_at())
    }

    /// True once no longer held.
    #[getter]
    fn is_lost(&self) -> bool {
        self.inner.is_lost()
    }

    /// Stops managing the grant without giving it back: no more renewal,
    /// and neither release nor garbage collection gives it back.
    fn keep(&self) {
        self.inner.disown();
    }

    /// Raises LostError once no longer held; makes no request.
    fn still_held(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.still_held().map_err(|e| to_py(py, e))
    }

    /// Extends the grant by its TTL.
    fn renew(&self, py: Python<'_>) -> PyResult<()> {
        let inner = self.inner.clone();
        run(py, None, OnInterrupt::Abandon, move |_| inner.renew())
    }

    /// Gives the grant back. Idempotent.
    fn release(&self, py: Python<'_>) -> PyResult<()> {
        let inner = self.inner.clone();
        run(py, None, OnInterrupt::Abandon, move |_| inner.release())
    }
}

impl Drop for Held {
    /// A grant dropped unreleased is released without holding the GIL.
    fn drop(&mut self) {
        let inner = self.inner.clone();
        Python::attach(|py| py.detach(move || drop(inner.release())));
    }
}
