//! Core errors as the exceptions of `konductor._exceptions`, mapped in one place.

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
    // Sets each field under its name (or under a name of its own).
    macro_rules! set {
        ($($field:ident $(as $key:literal)?),*) => {{
            $(fields.set_item(set!(@key $field $($key)?), $field)?;)*
        }};
        (@key $field:ident) => { stringify!($field) };
        (@key $field:ident $key:literal) => { $key };
    }
    let class = match error {
        Error::NotFound {
            kind,
            namespace,
            name,
        } => {
            set!(kind, namespace, name);
            "NotFoundError"
        }
        Error::AlreadyExists {
            kind,
            namespace,
            name,
        } => {
            set!(kind, namespace, name);
            "AlreadyExistsError"
        }
        Error::AlreadyHeld { kind, name, holder } => {
            set!(kind, name, holder);
            "AlreadyHeldError"
        }
        Error::LeaseHeld { name, holder } => {
            set!(name, holder);
            "LeaseHeldError"
        }
        Error::Locked { kind, name, holder } => {
            set!(kind, name, holder);
            "LockedError"
        }
        Error::Timeout { what, waited } => {
            let waited = waited.as_secs_f64();
            set!(what, waited);
            "TimeoutError"
        }
        Error::Cancelled { what } => {
            set!(what);
            "CancelledError"
        }
        Error::Lost {
            kind,
            name,
            holder,
            reason,
        } => {
            set!(kind, name, holder, reason);
            "LostError"
        }
        Error::Failed {
            kind,
            name,
            message,
        } => {
            set!(kind, name, message as "reason");
            "FailedError"
        }
        Error::BelowZero {
            kind,
            name,
            holder,
            counter,
            done,
        } => {
            set!(kind, name, holder, counter, done);
            "BelowZeroError"
        }
        Error::Invalid {
            argument,
            value,
            reason,
        } => {
            let argument = argument.as_str();
            set!(argument, value, reason);
            "InvalidArgumentError"
        }
        Error::Forbidden(status) => api_fields(&fields, status, "ForbiddenError")?,
        Error::Unauthorized(status) => api_fields(&fields, status, "UnauthorizedError")?,
        Error::Api(status) => api_fields(&fields, status, "ApiError")?,
        Error::Transport { .. } => "TransportError",
        Error::Config { .. } => "ConfigError",
        _ => "KonductorError",
    };
    let module = EXCEPTIONS.get_or_try_init(py, || {
        PyModule::import(py, "konductor._exceptions").map(Bound::unbind)
    })?;
    let class = module.bind(py).getattr(class)?;
    let exception = class.call((error.chain(),), Some(&fields))?;
    Ok(PyErr::from_value(exception))
}

/// Sets the fields of an API server answer; gives back `class`.
fn api_fields<'c>(
    fields: &Bound<'_, PyDict>,
    status: &ApiStatus,
    class: &'c str,
) -> PyResult<&'c str> {
    fields.set_item("status", status.code)?;
    fields.set_item("reason", &status.reason)?;
    fields.set_item("body", &status.body)?;
    Ok(class)
}
