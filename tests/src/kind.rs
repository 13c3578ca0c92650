//! The two kinds whose slots are held with a fencing token, so that one test can cover both.

use std::fmt;
use std::str::FromStr;

use konductor::resource::{Lease as LeaseObject, Semaphore};
use konductor::{CancelToken, Client, Lease, Options, Permit, Result};

use crate::namespace::Namespace;

/// A kind whose holders take a slot: a semaphore's permit, or a lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A `Semaphore`: as many holders as it has permits.
    Semaphore,
    /// A Konductor `Lease`: one holder.
    Lease,
}

impl Kind {
    /// The lower-case name, as in `--kind` and in the object's kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Semaphore => "semaphore",
            Kind::Lease => "lease",
        }
    }

    /// Creates `name` with `slots` permits (a lease always has one); panics when the create fails.
    pub fn create(self, client: &Client, name: &str, slots: u32) {
        match self {
            Kind::Semaphore => drop(
                client
                    .create_semaphore(name, slots, None)
                    .expect("create semaphore"),
            ),
            Kind::Lease => {
                assert_eq!(slots, 1, "a lease has one slot");
                drop(client.create_lease(name, None, None).expect("create lease"));
            }
        }
    }

    /// A new namespace named after `prefix`, holding this kind's `name` with
    /// `slots` slots, and an admin client working there; panics when a create fails.
    pub fn in_new_namespace(self, prefix: &str, name: &str, slots: u32) -> (Namespace, Client) {
        let ns = Namespace::new(prefix);
        let client = ns.admin();
        self.create(&client, name, slots);
        (ns, client)
    }

    /// Acquires a slot of `name`; fails as the kind's acquire does.
    pub fn acquire(self, client: &Client, name: &str, options: &Options) -> Result<Slot> {
        Ok(match self {
            Kind::Semaphore => Slot::Permit(client.acquire_semaphore(name, options)?),
            Kind::Lease => Slot::Lease(client.acquire_lease(name, options)?),
        })
    }

    /// The holders queued for `name`, in queue order; panics when the get fails.
    pub fn waiters(self, client: &Client, name: &str) -> Vec<String> {
        let waiters = match self {
            Kind::Semaphore => client.api::<Semaphore>().waiters(name),
            Kind::Lease => client.api::<LeaseObject>().waiters(name),
        };
        waiters
            .expect("list waiters")
            .into_iter()
            .map(|w| w.spec.holder)
            .collect()
    }

    /// The holders of `name`'s slots, in grant order (at most one for a lease); panics when the get fails.
    pub fn holders(self, client: &Client, name: &str) -> Vec<String> {
        match self {
            Kind::Semaphore => {
                let semaphore = client.get_semaphore(name).expect("get semaphore");
                let holders = semaphore.status.unwrap_or_default().holders;
                holders.into_iter().map(|h| h.holder).collect()
            }
            Kind::Lease => {
                let lease = client.get_lease(name).expect("get lease");
                lease
                    .status
                    .unwrap_or_default()
                    .holder
                    .into_iter()
                    .collect()
            }
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Kind, String> {
        match text {
            "semaphore" => Ok(Kind::Semaphore),
            "lease" => Ok(Kind::Lease),
            other => Err(format!("expected semaphore or lease, not {other:?}")),
        }
    }
}

/// A held slot of either kind; dropping it releases.
#[derive(Debug)]
pub enum Slot {
    /// A semaphore permit.
    Permit(Permit),
    /// A lease.
    Lease(Lease),
}

impl Slot {
    /// The fencing token of the grant.
    pub fn token(&self) -> u64 {
        match self {
            Slot::Permit(permit) => permit.token(),
            Slot::Lease(lease) => lease.token(),
        }
    }

    /// Cancelled when the holder learns it lost the slot.
    pub fn lost_token(&self) -> CancelToken {
        match self {
            Slot::Permit(permit) => permit.lost_token(),
            Slot::Lease(lease) => lease.lost_token(),
        }
    }

    /// True once the holder knows it no longer holds the slot.
    pub fn is_lost(&self) -> bool {
        match self {
            Slot::Permit(permit) => permit.is_lost(),
            Slot::Lease(lease) => lease.is_lost(),
        }
    }

    /// Renews the hold; fails with `Lost` once the slot is gone.
    pub fn renew(&self) -> Result<()> {
        match self {
            Slot::Permit(permit) => permit.renew(),
            Slot::Lease(lease) => lease.renew(),
        }
    }

    /// Releases the slot; fails when the release cannot be written.
    pub fn release(&self) -> Result<()> {
        match self {
            Slot::Permit(permit) => permit.release(),
            Slot::Lease(lease) => lease.release(),
        }
    }
}

/// Declares the test `$semaphore`, which runs `$check(Kind::Semaphore)`, and
/// the test `$lease`, which runs `$check(Kind::Lease)`: one check, a test per kind.
#[macro_export]
macro_rules! test_each_kind {
    ($check:ident: $semaphore:ident, $lease:ident) => {
        #[test]
        fn $semaphore() {
            $check($crate::kind::Kind::Semaphore);
        }

        #[test]
        fn $lease() {
            $check($crate::kind::Kind::Lease);
        }
    };
}
