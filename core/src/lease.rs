//! Leases: one holder at a time, for singleton work and leader election.

use std::time::Duration;

use crate::acquire::{validate_ttl, Slotted};
use crate::api::shorthands;
use crate::client::Client;
use crate::duration::{format_duration, server_ttl, ttl_or_default};
use crate::error::{Error, Result};
use crate::held::Held;
use crate::options::{Options, DEFAULT_TTL};
use crate::resource::{HolderRecord, Lease as LeaseObject, LeasePhase, LeaseSpec};
use crate::slots::Slots;
use crate::time::{format_rfc3339, parse_rfc3339};

impl Slotted for LeaseObject {
    fn slots(&self) -> Slots {
        let status = self.status.clone().unwrap_or_default();
        let holders = match status.holder {
            Some(holder) => vec![HolderRecord {
                holder,
                ticket: status.holder_ticket.unwrap_or_default(),
                token: status.transitions,
                priority: status.holder_priority,
                acquired_at: status.acquired_at.unwrap_or_default(),
                renewed_at: status.renewed_at.unwrap_or_default(),
                renew_count: status.renew_count,
                ttl: status.ttl.unwrap_or_else(|| format_duration(DEFAULT_TTL)),
                handoff: status.holder_handoff,
            }],
            None => Vec::new(),
        };
        Slots {
            capacity: 1,
            holders,
            fencing: status.transitions,
            finished: status.finished,
        }
    }

    fn store(&mut self, slots: Slots) {
        let mut status = self.status.take().unwrap_or_default();
        status.transitions = slots.fencing;
        status.finished = slots.finished;
        match slots.holders.into_iter().next() {
            Some(h) => {
                let ttl = server_ttl(&h.ttl, DEFAULT_TTL);
                status.expires_at = parse_rfc3339(&h.renewed_at).map(|t| format_rfc3339(t + ttl));
                status.holder = Some(h.holder);
                status.holder_ticket = Some(h.ticket).filter(|t| !t.is_empty());
                status.holder_handoff = h.handoff;
                status.holder_priority = h.priority;
                status.acquired_at = Some(h.acquired_at);
                status.renewed_at = Some(h.renewed_at);
                status.renew_count = h.renew_count;
                status.ttl = Some(h.ttl);
                status.phase = Some(LeasePhase::Held);
            }
            None => {
                status.holder = None;
                status.holder_ticket = None;
                status.holder_handoff = None;
                status.holder_priority = 0;
                status.acquired_at = None;
                status.renewed_at = None;
                status.expires_at = None;
                status.renew_count = 0;
                status.ttl = None;
                status.phase = Some(LeasePhase::Available);
            }
        }
        self.status = Some(status);
    }

    fn default_ttl(&self) -> Result<Duration> {
        ttl_or_default(self.spec.ttl.as_deref())
    }

    fn default_priority(&self) -> i32 {
        self.spec.priority.unwrap_or(0)
    }

    fn busy(name: &str, slots: &Slots) -> Error {
        let holder = slots
            .holders
            .first()
            .map(|h| h.holder.clone())
            .unwrap_or_else(|| "(queued waiters)".to_owned());
        Error::LeaseHeld {
            name: name.to_owned(),
            holder,
        }
    }
}

/// A held lease (see [`Held`] for its methods).
pub type Lease = Held<LeaseObject>;

shorthands!(
    LeaseObject,
    "lease",
    get_lease,
    list_leases,
    delete_lease,
    acquire_lease,
    with_lease
);

impl Client {
    /// Creates a lease with a default TTL and a default acquirer priority.
    pub fn create_lease(
        &self,
        name: &str,
        ttl: Option<Duration>,
        priority: Option<i32>,
    ) -> Result<LeaseObject> {
        ttl.map_or(Ok(()), validate_ttl)?;
        let spec = LeaseSpec {
            ttl: ttl.map(format_duration),
            priority,
        };
        self.api().create(&LeaseObject::new(name, spec))
    }

    /// Takes the lease only if it is free now; [`Error::LeaseHeld`] otherwise.
    pub fn try_acquire_lease(&self, name: &str, options: &Options) -> Result<Lease> {
        self.api().try_acquire(name, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::LeaseSpec;

    #[test]
    fn storing_a_holder_with_an_absurd_ttl_does_not_panic() {
        let mut lease = LeaseObject::new("l", LeaseSpec::default());
        let holders = vec![HolderRecord {
            holder: "h".to_owned(),
            token: 1,
            renewed_at: "2026-12-01T00:00:00Z".to_owned(),
            ttl: "10000000000000000000s".to_owned(),
            ..HolderRecord::default()
        }];
        lease.store(Slots {
            capacity: 1,
            holders,
            fencing: 1,
            finished: Vec::new(),
        });
        let status = lease.status.expect("stored");
        assert_eq!(status.holder.as_deref(), Some("h"));
        assert!(status.expires_at.is_some());
    }
}
