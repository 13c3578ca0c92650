//! Mutexes: one holder at a time, for critical sections.
//!
//! A mutex is a lease under a kind of its own: the same queue with direct
//! hand-off, TTL and renewal, fencing token and priority; only its name (its
//! own `kubectl get mutexes`, its own RBAC) and its busy error differ.

use std::time::Duration;

use crate::acquire::{validate_ttl, Slotted};
use crate::api::shorthands;
use crate::client::Client;
use crate::duration::{format_duration, ttl_or_default};
use crate::error::{Error, Result};
use crate::held::Held;
use crate::lease::{current_holder, single_slots, store_single};
use crate::options::Options;
use crate::resource::{Mutex, MutexSpec};
use crate::slots::Slots;

impl Slotted for Mutex {
    fn slots(&self) -> Slots {
        single_slots(self.status.as_ref())
    }

    fn store(&mut self, slots: Slots) {
        store_single(&mut self.status, slots)
    }

    fn default_ttl(&self) -> Result<Duration> {
        ttl_or_default(self.spec.ttl.as_deref())
    }

    fn default_priority(&self) -> i32 {
        self.spec.priority.unwrap_or(0)
    }

    fn busy(name: &str, slots: &Slots) -> Error {
        Error::Locked {
            kind: "mutex",
            name: name.to_owned(),
            holder: current_holder(slots),
        }
    }
}

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
        ttl.map_or(Ok(()), validate_ttl)?;
        let spec = MutexSpec {
            ttl: ttl.map(format_duration),
            priority,
        };
        self.api().create(&Mutex::new(name, spec))
    }

    /// Locks the mutex only if it is unlocked now; [`Error::Locked`] (naming
    /// the holder) otherwise.
    pub fn try_lock_mutex(&self, name: &str, options: &Options) -> Result<MutexLock> {
        self.api().try_acquire(name, options)
    }
}
