//! A cancellation handle that Python threads share with waiting calls.

use pyo3::prelude::*;

/// Cancels the waits it is passed to, from any thread. Stays cancelled.
#[pyclass(frozen, module = "konductor._native")]
#[derive(Default)]
pub(crate) struct CancelToken {
    pub(crate) inner: konductor::CancelToken,
}

#[pymethods]
impl CancelToken {
    /// A new, not yet cancelled token.
    #[new]
    fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Cancels every current and future wait given this token.
    fn cancel(&self) {
        self.inner.cancel();
    }

    /// True once cancel() was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }

    fn __repr__(&self) -> String {
        let cancelled = if self.inner.is_cancelled() {
            "True"
        } else {
            "False"
        };
        format!("CancelToken(cancelled={cancelled})")
    }
}
