//! Keyword arguments of acquire and wait calls, turned into core [`Options`].

use std::time::Duration;

use konductor::{duration_from_secs, Argument, CancelToken, Options};
use pyo3::prelude::*;

use crate::errors::to_py;

/// Seconds as a [`Duration`], checked by core; the error names `argument`.
pub(crate) fn seconds(
    py: Python<'_>,
    argument: Argument,
    value: Option<f64>,
) -> PyResult<Option<Duration>> {
    value
        .map(|s| duration_from_secs(argument, s).map_err(|e| to_py(py, e)))
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
        py: Python<'_>,
        ttl: Option<f64>,
        timeout: Option<f64>,
        holder: Option<String>,
        priority: Option<i32>,
        auto_renew: bool,
    ) -> PyResult<Args> {
        Ok(Args {
            ttl: seconds(py, Argument::Ttl, ttl)?,
            timeout: seconds(py, Argument::Timeout, timeout)?,
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
