//! The one error type of the operator's reconcilers and its start-up.

use thiserror::Error;

/// Everything that can go wrong while reconciling or starting up.
#[derive(Debug, Error)]
pub enum Error {
    /// A request to the API server failed (the server's Status is kept whole).
    #[error("failed to {action}: {source}")]
    Kube {
        /// What the operator was doing, e.g. `replace status of semaphore ns/x`.
        action: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },
    /// An object did not have the shape of its Konductor type.
    #[error("failed to decode {what}: {source}")]
    Decode {
        /// Which object.
        what: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// Kubeconfig or in-cluster configuration could not be loaded.
    #[error("failed to load the Kubernetes configuration: {0}")]
    Config(String),
    /// A local I/O operation (metrics listener, CRD files) failed.
    #[error("failed to {action}: {source}")]
    Io {
        /// What the operator was doing.
        action: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// This replica lost its leader lease; it stops reconciling.
    #[error("lost the leader lease {0}")]
    LeadershipLost(String),
}

impl Error {
    /// Wraps a client error with what the operator was doing.
    pub fn kube(action: impl Into<String>, source: kube::Error) -> Error {
        Error::Kube {
            action: action.into(),
            source,
        }
    }

    /// Wraps an I/O error with what the operator was doing.
    pub fn io(action: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            action: action.into(),
            source,
        }
    }
}

/// Result with the operator's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// True when a client error is a 409 Conflict (the object changed since it was read).
pub fn is_conflict(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.is_conflict())
}
