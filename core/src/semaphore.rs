//! Semaphores: at most `permits` holders at a time, handed over in queue order.

use std::time::Duration;

use crate::acquire::{validate_ttl, Slotted};
use crate::api::shorthands;
use crate::client::Client;
use crate::duration::{format_duration, ttl_or_default};
use crate::error::{Argument, Error, Result};
use crate::held::Held;
use crate::resource::{Semaphore, SemaphorePhase, SemaphoreSpec, SemaphoreStatus};
use crate::slots::Slots;

impl Slotted for Semaphore {
    fn slots(&self) -> Slots {
        let status = self.status.clone().unwrap_or_default();
        Slots {
            capacity: self.spec.permits,
            holders: status.holders,
            fencing: status.fencing_token,
            finished: status.finished,
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
        status.finished = slots.finished;
        status.fencing_token = slots.fencing;
        self.status = Some(status);
    }

    fn default_ttl(&self) -> Result<Duration> {
        ttl_or_default(self.spec.ttl.as_deref())
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

shorthands!(
    Semaphore,
    "semaphore",
    get_semaphore,
    list_semaphores,
    delete_semaphore,
    acquire_semaphore,
    with_semaphore
);

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
}

/// The derived status of a semaphore, for display.
impl SemaphoreStatus {
    /// Holder identities, in grant order.
    pub fn holder_names(&self) -> Vec<&str> {
        self.holders.iter().map(|h| h.holder.as_str()).collect()
    }
}
