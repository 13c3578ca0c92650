//! RWMutexes: many readers or one writer, never both.
//!
//! Slotted like a semaphore of `spec.maxReaders` slots whose holder records
//! carry a mode. The grant rule ([`Slots::admits`]) is strict FIFO by
//! (priority, arrival) over one queue of readers and writers: a waiter is
//! granted when everything ahead of it in the queue is granted, and then a
//! reader when no writer holds, a writer when nobody holds. So a reader
//! never overtakes a queued writer (writers are not starved), consecutive
//! readers at the head are granted together (a release hands the lock to
//! all of them in one write), and a writer waits for the readers ahead of
//! it to release. Read and write grants share one fencing counter.
//!
//! Arrival is a waiter's creation as seen by the deciding process: a
//! newcomer counts the waiters in its process's view of the queue (a
//! watch), which learns of a waiter created elsewhere one watch delivery
//! later; in that window a newcomer may be granted ahead of the new waiter
//! (never together with a writer: that is the holders' rule, checked in the
//! guarded write and by the apiserver).

use std::time::Duration;

use crate::acquire::{validate_ttl, Slotted};
use crate::api::shorthands;
use crate::client::Client;
use crate::duration::{format_duration, ttl_or_default};
use crate::error::{Argument, Error, Result};
use crate::held::Held;
use crate::options::Options;
use crate::resource::{LockMode, RWMutex, RWMutexPhase, RWMutexSpec, RWMutexStatus, MAX_READERS};
use crate::slots::Slots;

impl Slotted for RWMutex {
    fn slots(&self) -> Slots {
        let status = self.status.clone().unwrap_or_default();
        Slots {
            capacity: self.spec.max_readers.unwrap_or(MAX_READERS),
            holders: status.holders,
            fencing: status.fencing_token,
            finished: status.finished,
        }
    }

    fn store(&mut self, slots: Slots) {
        let mut status: RWMutexStatus = self.status.take().unwrap_or_default();
        let writer = slots
            .holders
            .iter()
            .find(|h| h.mode == Some(LockMode::Write))
            .map(|h| h.holder.clone());
        status.readers = slots
            .holders
            .iter()
            .filter(|h| h.mode != Some(LockMode::Write))
            .count() as u32;
        status.phase = Some(match (&writer, status.readers) {
            (Some(_), _) => RWMutexPhase::WriteLocked,
            (None, 0) => RWMutexPhase::Unlocked,
            (None, _) => RWMutexPhase::ReadLocked,
        });
        status.writer = writer;
        status.holders = slots.holders;
        status.finished = slots.finished;
        status.fencing_token = slots.fencing;
        self.status = Some(status);
    }

    fn default_ttl(&self) -> Result<Duration> {
        ttl_or_default(self.spec.ttl.as_deref())
    }

    fn default_priority(&self) -> i32 {
        self.spec.priority.unwrap_or(0)
    }

    fn busy(name: &str, slots: &Slots) -> Error {
        let holders: Vec<&str> = slots.holders.iter().map(|h| h.holder.as_str()).collect();
        Error::Locked {
            kind: "rwmutex",
            name: name.to_owned(),
            holder: if holders.is_empty() {
                // Free, but waiters queued ahead come first.
                "the waiters queued ahead".to_owned()
            } else {
                holders.join(", ")
            },
        }
    }
}

/// A read or write lock of an RWMutex (see [`Held`] for its methods;
/// [`Held::release`] unlocks it).
pub type RWMutexLock = Held<RWMutex>;

shorthands!(
    RWMutex,
    "rwmutex",
    get_rwmutex,
    list_rwmutexes,
    delete_rwmutex
);

impl Client {
    /// Creates an RWMutex with a default TTL (how long a lock lasts
    /// unrenewed), a default priority for lockers that give none, and the
    /// most readers at a time (1 to 10000; 10000 when none).
    pub fn create_rwmutex(
        &self,
        name: &str,
        ttl: Option<Duration>,
        priority: Option<i32>,
        max_readers: Option<u32>,
    ) -> Result<RWMutex> {
        ttl.map_or(Ok(()), validate_ttl)?;
        if let Some(readers) = max_readers {
            if !(1..=MAX_READERS).contains(&readers) {
                return Err(Error::invalid(
                    Argument::Count,
                    readers.to_string(),
                    format!("max readers must be between 1 and {MAX_READERS}"),
                ));
            }
        }
        let spec = RWMutexSpec {
            ttl: ttl.map(format_duration),
            priority,
            max_readers,
        };
        self.api().create(&RWMutex::new(name, spec))
    }

    /// Takes a read lock, shared with other readers, waiting in the queue
    /// as `options` allow: granted once everything queued ahead is granted
    /// and no writer holds. Errors as [`Api::acquire`](crate::Api::acquire).
    pub fn read_lock_rwmutex(&self, name: &str, options: &Options) -> Result<RWMutexLock> {
        self.api().acquire_in(name, options, Some(LockMode::Read))
    }

    /// Takes the write lock, exclusive, waiting in the queue as `options`
    /// allow: granted once everything queued ahead is granted and released.
    /// Errors as [`Api::acquire`](crate::Api::acquire).
    pub fn write_lock_rwmutex(&self, name: &str, options: &Options) -> Result<RWMutexLock> {
        self.api().acquire_in(name, options, Some(LockMode::Write))
    }

    /// Takes a read lock only if it is granted now; [`Error::Locked`]
    /// (naming the holders) otherwise.
    pub fn try_read_lock_rwmutex(&self, name: &str, options: &Options) -> Result<RWMutexLock> {
        self.read_lock_rwmutex(name, &options.clone().timeout(Duration::ZERO))
    }

    /// Takes the write lock only if it is granted now; [`Error::Locked`]
    /// (naming the holders) otherwise.
    pub fn try_write_lock_rwmutex(&self, name: &str, options: &Options) -> Result<RWMutexLock> {
        self.write_lock_rwmutex(name, &options.clone().timeout(Duration::ZERO))
    }

    /// Runs `work` under a read lock, unlocking afterwards whatever happens
    /// (errors as [`Api::with`](crate::Api::with)).
    pub fn with_read<T, E: From<Error>>(
        &self,
        name: &str,
        options: &Options,
        work: impl FnOnce(&RWMutexLock) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.api()
            .with_in(name, options, Some(LockMode::Read), work)
    }

    /// Runs `work` under the write lock, unlocking afterwards whatever
    /// happens (errors as [`Api::with`](crate::Api::with)).
    pub fn with_write<T, E: From<Error>>(
        &self,
        name: &str,
        options: &Options,
        work: impl FnOnce(&RWMutexLock) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.api()
            .with_in(name, options, Some(LockMode::Write), work)
    }
}
