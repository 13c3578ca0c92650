//! The error of the work run inside `with_semaphore`, `with_lease` or `with_barrier`: the job's own, or Konductor's.

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
