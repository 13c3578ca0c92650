//! The error of the work run inside `with_semaphore`, `with_lease`, `with_barrier` or `do_once`: the job's own, or Konductor's.

use konductor::Error;

/// What the work returns on failure; `with_*` turns its own failures into `Konductor`.
#[derive(Debug)]
pub enum WorkError {
    /// Konductor failed (acquire, arrive, release, …).
    Konductor(Error),
    /// The job itself failed, with this message.
    Job(&'static str),
}

impl From<Error> for WorkError {
    fn from(e: Error) -> Self {
        WorkError::Konductor(e)
    }
}

impl std::fmt::Display for WorkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkError::Konductor(e) => write!(f, "{e}"),
            WorkError::Job(message) => write!(f, "job failed: {message}"),
        }
    }
}
