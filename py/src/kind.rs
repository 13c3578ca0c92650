//! The kinds of object, named by the Python layer, and the one dispatch from
//! a kind name to its core resource type.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A kind of Konductor object (its `kind` name in Python calls).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Semaphore,
    Barrier,
    Lease,
    Gate,
    Mutex,
    RWMutex,
    Once,
    WaitGroup,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Semaphore,
        Kind::Barrier,
        Kind::Lease,
        Kind::Gate,
        Kind::Mutex,
        Kind::RWMutex,
        Kind::Once,
        Kind::WaitGroup,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Semaphore => "Semaphore",
            Kind::Barrier => "Barrier",
            Kind::Lease => "Lease",
            Kind::Gate => "Gate",
            Kind::Mutex => "Mutex",
            Kind::RWMutex => "RWMutex",
            Kind::Once => "Once",
            Kind::WaitGroup => "WaitGroup",
        }
    }

    /// The error for a call that `self` does not support.
    pub(crate) fn unsupported(self, call: &str) -> PyErr {
        PyValueError::new_err(format!("{call} is not defined for kind {}", self.name()))
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Kind {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Kind> {
        let name: String = obj.extract()?;
        Kind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Kind::ALL.iter().map(|k| k.name()).collect();
                PyValueError::new_err(format!(
                    "kind must be one of {}, got {name:?}",
                    names.join(", ")
                ))
            })
    }
}

/// Evaluates `$body` with `$K` the core resource type of `$kind`.
macro_rules! for_kind {
    ($kind:expr, $K:ident => $body:expr) => {
        match $kind {
            $crate::kind::Kind::Semaphore => {
                type $K = konductor::resource::Semaphore;
                $body
            }
            $crate::kind::Kind::Barrier => {
                type $K = konductor::resource::Barrier;
                $body
            }
            $crate::kind::Kind::Lease => {
                type $K = konductor::resource::Lease;
                $body
            }
            $crate::kind::Kind::Gate => {
                type $K = konductor::resource::Gate;
                $body
            }
            $crate::kind::Kind::Mutex => {
                type $K = konductor::resource::Mutex;
                $body
            }
            $crate::kind::Kind::Once => {
                type $K = konductor::resource::Once;
                $body
            }
            $crate::kind::Kind::RWMutex => {
                type $K = konductor::resource::RWMutex;
                $body
            }
            $crate::kind::Kind::WaitGroup => {
                type $K = konductor::resource::WaitGroup;
                $body
            }
        }
    };
}

/// Evaluates `$body` with `$K` the core type of `$kind` if it has slots to
/// acquire (semaphores, leases, mutexes); else evaluates to `Err` naming `$call`.
macro_rules! for_slotted_kind {
    ($kind:expr, $call:literal, $K:ident => $body:expr) => {
        match $kind {
            $crate::kind::Kind::Semaphore => {
                type $K = konductor::resource::Semaphore;
                $body
            }
            $crate::kind::Kind::Lease => {
                type $K = konductor::resource::Lease;
                $body
            }
            $crate::kind::Kind::Mutex => {
                type $K = konductor::resource::Mutex;
                $body
            }
            $crate::kind::Kind::RWMutex => {
                type $K = konductor::resource::RWMutex;
                $body
            }
            other => Err(other.unsupported($call)),
        }
    };
}

pub(crate) use {for_kind, for_slotted_kind};
