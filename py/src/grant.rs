//! Python handles of held semaphore permits and leases.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::prelude::*;

use crate::call::run;

/// Seconds since the Unix epoch (negative before it).
fn unix_seconds(time: SystemTime) -> f64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}

macro_rules! grant_class {
    ($(#[$doc:meta])* $name:ident, $core:ty) => {
        $(#[$doc])*
        #[pyclass(frozen, module = "konductor._native")]
        pub(crate) struct $name {
            inner: Arc<$core>,
        }

        impl $name {
            pub(crate) fn new(inner: $core) -> $name {
                $name { inner: Arc::new(inner) }
            }
        }

        #[pymethods]
        impl $name {
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

            /// Extends the grant by its TTL.
            fn renew(&self, py: Python<'_>) -> PyResult<()> {
                let inner = self.inner.clone();
                run(py, None, false, move |_| inner.renew())
            }

            /// Gives the grant back. Idempotent.
            fn release(&self, py: Python<'_>) -> PyResult<()> {
                let inner = self.inner.clone();
                run(py, None, false, move |_| inner.release())
            }
        }

        impl Drop for $name {
            /// A grant dropped unreleased is released without holding the GIL.
            fn drop(&mut self) {
                let inner = self.inner.clone();
                Python::attach(|py| py.detach(move || drop(inner.release())));
            }
        }
    };
}

grant_class!(
    /// A held semaphore permit.
    Permit,
    konductor::Permit
);

grant_class!(
    /// A held lease.
    Lease,
    konductor::Lease
);
