//! The `konductor._native` extension module: the Python package's binding
//! to the core client, generic over the kind of object. It has no
//! coordination logic of its own; the public, typed API is the Python
//! package around it (`py/python/konductor`).

mod cancel;
mod client;
mod errors;
mod held;
mod kind;
mod leader;
mod options;
mod value;
mod worker;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Parses a Go duration string (`30s`, `1h30m`) into seconds.
#[pyfunction]
#[pyo3(signature = (text, /))]
fn parse_duration(py: Python<'_>, text: &str) -> PyResult<f64> {
    konductor::parse_duration(text)
        .map(|d| d.as_secs_f64())
        .map_err(|e| errors::to_py(py, e))
}

/// Writes seconds as a Go duration string (`1h30m0s`).
#[pyfunction]
#[pyo3(signature = (seconds, /))]
fn format_duration(py: Python<'_>, seconds: f64) -> PyResult<String> {
    let duration = options::seconds(py, konductor::Argument::Duration, Some(seconds))?;
    Ok(konductor::format_duration(duration.unwrap_or_default()))
}

/// Parses an RFC 3339 timestamp with core's parser into whole microseconds
/// since the Unix epoch (finer digits are dropped).
#[pyfunction]
#[pyo3(signature = (text, /))]
fn parse_timestamp(text: &str) -> PyResult<i64> {
    konductor::parse_rfc3339(text)
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|since| i64::try_from(since.as_micros()).ok())
        .ok_or_else(|| PyValueError::new_err(format!("not an RFC 3339 timestamp: {text:?}")))
}

/// A holder identity unique to this process and call.
#[pyfunction]
fn default_holder() -> String {
    konductor::default_holder()
}

/// The compiled core of the `konductor` package.
#[pymodule(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("VERSION", konductor::VERSION)?;
    m.add("DEFAULT_TTL", konductor::DEFAULT_TTL.as_secs_f64())?;
    m.add_function(wrap_pyfunction!(parse_duration, m)?)?;
    m.add_function(wrap_pyfunction!(format_duration, m)?)?;
    m.add_function(wrap_pyfunction!(parse_timestamp, m)?)?;
    m.add_function(wrap_pyfunction!(default_holder, m)?)?;
    m.add_class::<client::Client>()?;
    m.add_class::<cancel::CancelToken>()?;
    m.add_class::<held::Held>()?;
    m.add_class::<leader::Leadership>()?;
    Ok(())
}
