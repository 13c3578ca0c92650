//! Leader election: run work only while holding a lease, and stop when it is lost.

use std::time::Duration;

use crate::cancel::CancelToken;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::lease::Lease;
use crate::options::Options;

/// What the leader's work gets: the fencing token and a loss signal.
pub struct Leadership<'a> {
    lease: &'a Lease,
}

impl Leadership<'_> {
    /// True while this process is still the leader.
    pub fn is_leader(&self) -> bool {
        !self.lease.is_lost()
    }

    /// Cancelled the moment leadership is lost, which is before anyone else
    /// can be granted the lease. Pass it to waits; poll it in loops.
    pub fn lost_token(&self) -> CancelToken {
        self.lease.lost_token()
    }

    /// Fencing token of this term; larger than every earlier leader's.
    pub fn token(&self) -> u64 {
        self.lease.token()
    }

    /// Holder identity of the leader (this process).
    pub fn holder(&self) -> &str {
        self.lease.holder()
    }

    /// Sleeps for `duration` or until leadership is lost; true if still leader.
    pub fn sleep(&self, duration: Duration) -> bool {
        self.lease.lost_token().wait(Some(duration));
        self.is_leader()
    }
}

impl Client {
    /// Waits to become leader of `name` (acquiring the lease with automatic
    /// renewal), runs `work` while leader, then steps down.
    ///
    /// If the lease cannot be renewed in time, [`Leadership::lost_token`] is
    /// cancelled before any other process can become leader; `work` must
    /// then return promptly, and this call returns [`Error::Lost`].
    pub fn run_as_leader<T>(
        &self,
        name: &str,
        options: &Options,
        work: impl FnOnce(&Leadership<'_>) -> T,
    ) -> Result<T> {
        let lease = self.acquire_lease(name, &options.clone().auto_renew(true))?;
        let value = work(&Leadership { lease: &lease });
        let lost = lease.is_lost();
        let released = lease.release();
        if lost {
            return Err(Error::Lost {
                kind: "Lease",
                name: name.to_owned(),
                holder: lease.holder().to_owned(),
                reason: "leadership was lost while the work ran".to_owned(),
            });
        }
        released?;
        Ok(value)
    }
}
