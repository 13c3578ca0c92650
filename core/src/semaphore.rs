//! Semaphores: at most `permits` holders at a time, handed over in queue order.

use std::time::Duration;

use crate::acquire::{validate_ttl, Slotted};
use crate::client::Client;
use crate::duration::{format_duration, parse_duration};
use crate::error::{Argument, Error, Result};
use crate::held::Held;
use crate::options::{Options, DEFAULT_TTL};
use crate::resource::{Semaphore, SemaphorePhase, SemaphoreSpec, SemaphoreStatus};
use crate::slots::Slots;

impl Slotted for Semaphore {
    fn slots(&self) -> Slots {
        let status = self.status.clone().unwrap_or_default();
        Slots {
            capacity: self.spec.permits,
            holders: status.holders,
            waiters: status.waiters,
            fencing: status.fencing_token,
        }
    }

    fn store(&mut self, slots: Slots) {
        let mut status = self.status.take().unwrap_or_default();
        let in_use = slots.holders.len() as u32;
        status.in_use = in_use;
        status.available = self.spec.permits.saturating_sub(in_use);
        status.phase = Some(if status.available > 0 {
            SemaphorePhase::Ready
        } else {
            SemaphorePhase::Full
        });
        status.holders = slots.holders;
        status.waiters = slots.waiters;
        status.fencing_token = slots.fencing;
        self.status = Some(status);
    }

    fn has_status(&self) -> bool {
        self.status.is_some()
    }

    fn default_ttl(&self) -> Result<Duration> {
        self.spec
            .ttl
            .as_deref()
            .map_or(Ok(DEFAULT_TTL), parse_duration)
    }

    fn busy(name: &str, _slots: &Slots) -> Error {
        Error::Timeout {
            what: format!("semaphore {name} (no free permit)"),
            waited: Duration::ZERO,
        }
    }
}

/// A held semaphore permit (see [`Held`] for its methods).
pub type Permit = Held<Semaphore>;

impl Client {
    /// Creates a semaphore with `permits` slots and a default permit TTL.
    pub fn create_semaphore(
        &self,
        name: &str,
        permits: u32,
        ttl: Option<Duration>,
    ) -> Result<Semaphore> {
        if permits == 0 {
            return Err(Error::invalid(Argument::Permits, "0", "must be at least 1"));
        }
        ttl.map_or(Ok(()), validate_ttl)?;
        let spec = SemaphoreSpec {
            permits,
            ttl: ttl.map(format_duration),
        };
        self.api().create(&Semaphore::new(name, spec))
    }

    /// Reads a semaphore.
    pub fn get_semaphore(&self, name: &str) -> Result<Semaphore> {
        self.api().get(name)
    }

    /// Lists the semaphores of the namespace.
    pub fn list_semaphores(&self) -> Result<Vec<Semaphore>> {
        self.api().list()
    }

    /// Deletes a semaphore; current holders lose their permits.
    pub fn delete_semaphore(&self, name: &str) -> Result<()> {
        self.api::<Semaphore>().delete(name)
    }

    /// Acquires a permit, waiting in the queue as `options` allow (see [`Api::acquire`](crate::Api::acquire)).
    ///
    /// Errors: [`Error::NotFound`], [`Error::Timeout`] (also for a zero
    /// timeout that found no free permit), [`Error::Cancelled`],
    /// [`Error::AlreadyHeld`] when this holder already holds or waits.
    pub fn acquire_semaphore(&self, name: &str, options: &Options) -> Result<Permit> {
        self.api().acquire(name, options)
    }

    /// Runs `work` while holding a permit, releasing it afterwards whatever happens.
    pub fn with_semaphore<T, E: From<Error>>(
        &self,
        name: &str,
        options: &Options,
        work: impl FnOnce(&Permit) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.api().with(name, options, work)
    }
}

/// The derived status of a semaphore, for display.
impl SemaphoreStatus {
    /// Holder identities, in grant order.
    pub fn holder_names(&self) -> Vec<&str> {
        self.holders.iter().map(|h| h.holder.as_str()).collect()
    }
}
