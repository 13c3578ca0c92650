//! Core errors as the exceptions of `konductor._exceptions`, mapped in one place.

use std::error::Error as _;

use konductor::{ApiStatus, Error};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

/// The Python module that defines the exception classes.
static EXCEPTIONS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The exception for `error`: its class by kind, its message, and the
/// error's fields as attributes.
pub(crate) fn to_py(py: Python<'_>, error: Error) -> PyErr {
    build(py, &error).unwrap_or_else(|failed| {
        let err = PyRuntimeError::new_err(format!(
            "{error} (and the konductor exception could not be built)"
        ));
        err.set_cause(py, Some(failed));
        err
    })
}

fn build(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
    let fields = PyDict::new(py);
    let class = match error {
        Error::NotFound {
            kind,
            namespace,
            name,
        } => {
            fields.set_item("kind", kind)?;
            fields.set_item("namespace", namespace)?;
            fields.set_item("name", name)?;
            "NotFoundError"
        }
        Error::AlreadyHeld { kind, name, holder } => {
            fields.set_item("kind", kind)?;
            fields.set_item("name", name)?;
            fields.set_item("holder", holder)?;
            "AlreadyHeldError"
        }
        Error::LeaseHeld { name, holder } => {
            fields.set_item("name", name)?;
            fields.set_item("holder", holder)?;
            "LeaseHeldError"
        }
        Error::Timeout { what, waited } => {
            fields.set_item("what", what)?;
            fields.set_item("waited", waited.as_secs_f64())?;
            "TimeoutError"
        }
        Error::Cancelled { what } => {
            fields.set_item("what", what)?;
            "CancelledError"
        }
        Error::Lost {
            kind,
            name,
            holder,
            reason,
        } => {
            fields.set_item("kind", kind)?;
            fields.set_item("name", name)?;
            fields.set_item("holder", holder)?;
            fields.set_item("reason", reason)?;
            "LostError"
        }
        Error::Failed {
            kind,
            name,
            message,
        } => {
            fields.set_item("kind", kind)?;
            fields.set_item("name", name)?;
            fields.set_item("reason", message)?;
            "FailedError"
        }
        Error::Forbidden(status) => {
            api_fields(&fields, status)?;
            "ForbiddenError"
        }
        Error::Unauthorized(status) => {
            api_fields(&fields, status)?;
            "UnauthorizedError"
        }
        Error::Api(status) => {
            api_fields(&fields, status)?;
            "ApiError"
        }
        Error::Invalid {
            what,
            value,
            reason,
        } => {
            fields.set_item("what", what)?;
            fields.set_item("value", value)?;
            fields.set_item("reason", reason)?;
            "InvalidArgumentError"
        }
        Error::Transport { .. } => "TransportError",
        Error::Config { .. } => "ConfigError",
        _ => "KonductorError",
    };
    let module = EXCEPTIONS.get_or_try_init(py, || {
        PyModule::import(py, "konductor._exceptions").map(Bound::unbind)
    })?;
    let class = module.bind(py).getattr(class)?;
    let exception = class.call((message(error),), Some(&fields))?;
    Ok(PyErr::from_value(exception))
}

fn api_fields(fields: &Bound<'_, PyDict>, status: &ApiStatus) -> PyResult<()> {
    fields.set_item("status", status.code)?;
    fields.set_item("reason", &status.reason)?;
    fields.set_item("body", &status.body)
}

/// The error's message followed by its sources, so that a transport or
/// configuration failure names its cause (e.g. the TLS or file error).
fn message(error: &Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}
