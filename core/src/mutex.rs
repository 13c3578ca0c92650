//! Mutexes: one holder at a time, for critical sections.
//!
//! A mutex is a lease under a kind of its own: the same queue with direct
//! hand-off, TTL and renewal, fencing token and priority; only its name (its
//! own `kubectl get mutexes`, its own RBAC) and its busy error differ.

use std::time::Duration;

use crate::api::shorthands;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::held::Held;
use crate::lease::{single_holder, single_spec};
use crate::options::Options;
use crate::resource::Mutex;

single_holder!(Mutex, |name, holder| Error::Locked {
    kind: "mutex",
    name,
    holder,
});

/// A locked mutex (see [`Held`] for its methods; [`Held::release`] unlocks it).
pub type MutexLock = Held<Mutex>;

shorthands!(
    Mutex,
    "mutex",
    get_mutex,
    list_mutexes,
    delete_mutex,
    lock_mutex,
    with_mutex
);

impl Client {
    /// Creates a mutex with a default TTL (how long a lock lasts unrenewed)
    /// and a default priority for lockers that give none.
    pub fn create_mutex(
        &self,
        name: &str,
        ttl: Option<Duration>,
        priority: Option<i32>,
    ) -> Result<Mutex> {
        self.api()
            .create(&Mutex::new(name, single_spec(ttl, priority)?))
    }

    /// Locks the mutex only if it is unlocked now; [`Error::Locked`] (naming
    /// the holder) otherwise.
    pub fn try_lock_mutex(&self, name: &str, options: &Options) -> Result<MutexLock> {
        self.api().try_acquire(name, options)
    }
}
