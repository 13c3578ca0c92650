//! Leases: one holder at a time, for singleton work and leader election.

use std::time::Duration;

use crate::acquire::validate_ttl;
use crate::api::shorthands;
use crate::client::Client;
use crate::duration::{format_duration, server_ttl};
use crate::error::{Error, Result};
use crate::held::Held;
use crate::options::{Options, DEFAULT_TTL};
use crate::resource::{HolderRecord, Lease as LeaseObject, LeasePhase, LeaseSpec, LeaseStatus};
use crate::slots::Slots;
use crate::time::{format_rfc3339, parse_rfc3339};

/// The slot of a one-holder kind (a lease, a mutex), from its status.
pub(crate) fn single_slots(status: Option<&LeaseStatus>) -> Slots {
    let status = status.cloned().unwrap_or_default();
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
            mode: None,
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

/// Writes the slot of a one-holder kind into its status, with the derived
/// fields (`phase`, `expiresAt`).
pub(crate) fn store_single(status: &mut Option<LeaseStatus>, slots: Slots) {
    let mut next = status.take().unwrap_or_default();
    next.transitions = slots.fencing;
    next.finished = slots.finished;
    match slots.holders.into_iter().next() {
        Some(h) => {
            let ttl = server_ttl(&h.ttl, DEFAULT_TTL);
            next.expires_at = parse_rfc3339(&h.renewed_at).map(|t| format_rfc3339(t + ttl));
            next.holder = Some(h.holder);
            next.holder_ticket = Some(h.ticket).filter(|t| !t.is_empty());
            next.holder_handoff = h.handoff;
            next.holder_priority = h.priority;
            next.acquired_at = Some(h.acquired_at);
            next.renewed_at = Some(h.renewed_at);
            next.renew_count = h.renew_count;
            next.ttl = Some(h.ttl);
            next.phase = Some(LeasePhase::Held);
        }
        None => {
            next.holder = None;
            next.holder_ticket = None;
            next.holder_handoff = None;
            next.holder_priority = 0;
            next.acquired_at = None;
            next.renewed_at = None;
            next.expires_at = None;
            next.renew_count = 0;
            next.ttl = None;
            next.phase = Some(LeasePhase::Available);
        }
    }
    *status = Some(next);
}

/// The holder a one-holder kind's busy error names.
pub(crate) fn current_holder(slots: &Slots) -> String {
    slots
        .holders
        .first()
        .map(|h| h.holder.clone())
        .unwrap_or_else(|| "(queued waiters)".to_owned())
}

/// The spec of a one-holder kind (a lease, a mutex) from its create call's
/// arguments, the TTL checked.
pub(crate) fn single_spec(ttl: Option<Duration>, priority: Option<i32>) -> Result<LeaseSpec> {
    ttl.map_or(Ok(()), validate_ttl)?;
    Ok(LeaseSpec {
        ttl: ttl.map(format_duration),
        priority,
    })
}

/// [`Slotted`](crate::acquire::Slotted) for a one-holder kind (a lease, a mutex): a lease's spec and
/// status; only the error of a busy try differs, made by `$busy(name,
/// holder)`.
macro_rules! single_holder {
    ($kind:ty, $busy:expr) => {
        impl $crate::acquire::Slotted for $kind {
            fn slots(&self) -> $crate::slots::Slots {
                $crate::lease::single_slots(self.status.as_ref())
            }

            fn store(&mut self, slots: $crate::slots::Slots) {
                $crate::lease::store_single(&mut self.status, slots)
            }

            fn default_ttl(&self) -> $crate::error::Result<std::time::Duration> {
                $crate::duration::ttl_or_default(self.spec.ttl.as_deref())
            }

            fn default_priority(&self) -> i32 {
                self.spec.priority.unwrap_or(0)
            }

            fn busy(name: &str, slots: &$crate::slots::Slots) -> $crate::error::Error {
                $busy(name.to_owned(), $crate::lease::current_holder(slots))
            }
        }
    };
}
pub(crate) use single_holder;

single_holder!(LeaseObject, |name, holder| Error::LeaseHeld {
    name,
    holder
});

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
        self.api()
            .create(&LeaseObject::new(name, single_spec(ttl, priority)?))
    }

    /// Takes the lease only if it is free now; [`Error::LeaseHeld`] otherwise.
    pub fn try_acquire_lease(&self, name: &str, options: &Options) -> Result<Lease> {
        self.api().try_acquire(name, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acquire::Slotted;
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
