//! An object's status as the API server holds it now, for a test to assert on.

use konductor::resource::{
    Barrier, BarrierStatus, Gate, GateStatus, Lease, LeaseStatus, Mutex, MutexStatus, Once,
    OnceStatus, RWMutex, RWMutexStatus, Resource, Semaphore, SemaphoreStatus, WaitGroup,
    WaitGroupStatus,
};
use konductor::Client;

/// A kind whose objects carry a status written by clients or the operator.
pub trait WithStatus: Resource {
    /// The status type of the kind.
    type Status;
    /// The status, None when nothing wrote one yet.
    fn into_status(self) -> Option<Self::Status>;
}

macro_rules! with_status {
    ($($kind:ty => $status:ty),*) => {$(
        impl WithStatus for $kind {
            type Status = $status;
            fn into_status(self) -> Option<$status> {
                self.status
            }
        }
    )*};
}

with_status!(
    Semaphore => SemaphoreStatus,
    Lease => LeaseStatus,
    Mutex => MutexStatus,
    RWMutex => RWMutexStatus,
    Once => OnceStatus,
    Barrier => BarrierStatus,
    WaitGroup => WaitGroupStatus,
    Gate => GateStatus
);

/// The status of the `K` called `name`; panics when the get fails or no status was written yet.
pub fn status_of<K: WithStatus>(client: &Client, name: &str) -> K::Status {
    client
        .api::<K>()
        .get(name)
        .unwrap_or_else(|e| panic!("expected to read {} {name}, got {e}", K::KIND))
        .into_status()
        .unwrap_or_else(|| panic!("expected {} {name} to have a status, it has none", K::KIND))
}
