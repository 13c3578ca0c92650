//! The kinds whose slots are held with a fencing token, so that one test can cover each.

use std::fmt;
use std::str::FromStr;

use konductor::resource::{Lease as LeaseObject, Mutex, Semaphore};
use konductor::{CancelToken, Client, Lease, MutexLock, Options, Permit, Result};

use crate::namespace::Namespace;

/// A kind whose holders take a slot: a semaphore's permit, a lease or a mutex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A `Semaphore`: as many holders as it has permits.
    Semaphore,
    /// A Konductor `Lease`: one holder.
    Lease,
    /// A `Mutex`: one holder.
    Mutex,
}

impl Kind {
    /// The lower-case name, as in `--kind` and in the object's kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Semaphore => "semaphore",
            Kind::Lease => "lease",
            Kind::Mutex => "mutex",
        }
    }

    /// Creates `name` with `slots` permits (a lease or mutex always has one); panics when the create fails.
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
            Kind::Mutex => {
                assert_eq!(slots, 1, "a mutex has one slot");
                drop(client.create_mutex(name, None, None).expect("create mutex"));
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
            Kind::Mutex => Slot::Mutex(client.lock_mutex(name, options)?),
        })
    }

    /// The holders queued for `name`, in queue order; panics when the get fails.
    pub fn waiters(self, client: &Client, name: &str) -> Vec<String> {
        let waiters = match self {
            Kind::Semaphore => client.api::<Semaphore>().waiters(name),
            Kind::Lease => client.api::<LeaseObject>().waiters(name),
            Kind::Mutex => client.api::<Mutex>().waiters(name),
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
            Kind::Mutex => {
                let mutex = client.get_mutex(name).expect("get mutex");
                mutex
                    .status
                    .unwrap_or_default()
                    .holder
                    .into_iter()
                    .collect()
            }
        }
    }
}

impl Kind {
    /// The object's status, for a failure message.
    pub fn describe(self, client: &Client, name: &str) -> String {
        match self {
            Kind::Semaphore => format!("{:?}", client.get_semaphore(name).map(|s| s.status)),
            Kind::Lease => format!("{:?}", client.get_lease(name).map(|l| l.status)),
            Kind::Mutex => format!("{:?}", client.get_mutex(name).map(|m| m.status)),
        }
    }

    /// The object's fencing counter (the last token handed out); panics when the get fails.
    pub fn fencing(self, client: &Client, name: &str) -> u64 {
        match self {
            Kind::Semaphore => {
                let semaphore = client.get_semaphore(name).expect("get semaphore");
                semaphore.status.unwrap_or_default().fencing_token
            }
            Kind::Lease => {
                let lease = client.get_lease(name).expect("get lease");
                lease.status.unwrap_or_default().transitions
            }
            Kind::Mutex => {
                let mutex = client.get_mutex(name).expect("get mutex");
                mutex.status.unwrap_or_default().transitions
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
            "mutex" => Ok(Kind::Mutex),
            other => Err(format!("expected semaphore, lease or mutex, not {other:?}")),
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
    /// A locked mutex.
    Mutex(MutexLock),
}

impl Slot {
    /// The fencing token of the grant.
    pub fn token(&self) -> u64 {
        match self {
            Slot::Permit(permit) => permit.token(),
            Slot::Lease(lease) => lease.token(),
            Slot::Mutex(lock) => lock.token(),
        }
    }

    /// Cancelled when the holder learns it lost the slot.
    pub fn lost_token(&self) -> CancelToken {
        match self {
            Slot::Permit(permit) => permit.lost_token(),
            Slot::Lease(lease) => lease.lost_token(),
            Slot::Mutex(lock) => lock.lost_token(),
        }
    }

    /// True once the holder knows it no longer holds the slot.
    pub fn is_lost(&self) -> bool {
        match self {
            Slot::Permit(permit) => permit.is_lost(),
            Slot::Lease(lease) => lease.is_lost(),
            Slot::Mutex(lock) => lock.is_lost(),
        }
    }

    /// Renews the hold; fails with `Lost` once the slot is gone.
    pub fn renew(&self) -> Result<()> {
        match self {
            Slot::Permit(permit) => permit.renew(),
            Slot::Lease(lease) => lease.renew(),
            Slot::Mutex(lock) => lock.renew(),
        }
    }

    /// Releases the slot; fails when the release cannot be written.
    pub fn release(&self) -> Result<()> {
        match self {
            Slot::Permit(permit) => permit.release(),
            Slot::Lease(lease) => lease.release(),
            Slot::Mutex(lock) => lock.release(),
        }
    }
}

/// Declares the test `$semaphore`, which runs `$check(Kind::Semaphore)`,
/// the test `$lease`, which runs `$check(Kind::Lease)`, and, when named, the
/// test `$mutex`, which runs `$check(Kind::Mutex)`: one check, a test per kind.
#[macro_export]
macro_rules! test_each_kind {
    ($check:ident: $semaphore:ident, $lease:ident $(, $mutex:ident)?) => {
        #[test]
        fn $semaphore() {
            $check($crate::kind::Kind::Semaphore);
        }

        #[test]
        fn $lease() {
            $check($crate::kind::Kind::Lease);
        }

        $(
            #[test]
            fn $mutex() {
                $check($crate::kind::Kind::Mutex);
            }
        )?
    };
}
