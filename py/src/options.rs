//! Keyword arguments of acquire and wait calls, turned into core [`Options`].

use std::time::Duration;

use konductor::{CancelToken, Options};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Seconds as a [`Duration`]; `what` names the argument in the error.
/// (The Python layer already rejected bad values with friendlier messages.)
pub(crate) fn seconds(what: &str, value: Option<f64>) -> PyResult<Option<Duration>> {
    value
        .map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                PyValueError::new_err(format!(
                    "{what} must be a finite, non-negative number of seconds, got {s}"
                ))
            })
        })
        .transpose()
}

/// The options every acquire and wait call accepts, checked.
#[derive(Clone, Default)]
pub(crate) struct Args {
    ttl: Option<Duration>,
    timeout: Option<Duration>,
    holder: Option<String>,
    priority: Option<i32>,
    auto_renew: bool,
}

impl Args {
    /// Checks the durations (seconds); `None` leaves a default in place.
    pub(crate) fn new(
        ttl: Option<f64>,
        timeout: Option<f64>,
        holder: Option<String>,
        priority: Option<i32>,
        auto_renew: bool,
    ) -> PyResult<Args> {
        Ok(Args {
            ttl: seconds("ttl", ttl)?,
            timeout: seconds("timeout", timeout)?,
            holder,
            priority,
            auto_renew,
        })
    }

    /// Core options, cancelled through `token`.
    pub(crate) fn options(&self, token: &CancelToken) -> Options {
        let mut options = Options::new()
            .timeout_opt(self.timeout)
            .auto_renew(self.auto_renew)
            .cancel(token);
        if let Some(ttl) = self.ttl {
            options = options.ttl(ttl);
        }
        if let Some(holder) = &self.holder {
            options = options.holder(holder.clone());
        }
        if let Some(priority) = self.priority {
            options = options.priority(priority);
        }
        options
    }
}
