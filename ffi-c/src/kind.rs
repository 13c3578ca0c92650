//! `konductor_kind`: the kinds of object, and what the C layer can do with each.

use std::ffi::c_char;

use konductor_core::protocol::Slotted;
use konductor_core::resource::{
    Barrier, Gate, Lease, Mutex, Once, RWMutex, Resource, Semaphore, WaitGroup,
};
use konductor_core::{Client, Options, Result};

use crate::held::konductor_held;
use crate::panic::{failed, Failed};
use crate::result::konductor_result::KONDUCTOR_INVALID_ARGUMENT;
use crate::strings::json;

/// A kind of Konductor object, for the calls that work on every kind
/// (`konductor_client_get()`, `_list`, `_delete`) or on several
/// (`konductor_client_acquire()`, `konductor_client_wait()`). Numbering
/// starts at 1 so that a zeroed value is rejected rather than read as a kind.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum konductor_kind {
    /// A Semaphore: at most `permits` holders at a time. Slotted: acquire
    /// gives a permit.
    KONDUCTOR_KIND_SEMAPHORE = 1,
    /// A Barrier: opens once enough holders arrived. Waitable.
    KONDUCTOR_KIND_BARRIER = 2,
    /// A Lease: one holder at a time. Slotted: acquire gives the lease.
    KONDUCTOR_KIND_LEASE = 3,
    /// A Gate: opens once all its conditions hold. Waitable.
    KONDUCTOR_KIND_GATE = 4,
    /// A Mutex: one holder at a time. Slotted: acquire locks it.
    KONDUCTOR_KIND_MUTEX = 5,
    /// A WaitGroup: a counter raised by add, lowered once per holder by
    /// done. Waitable: the wait returns when the counter is zero.
    KONDUCTOR_KIND_WAITGROUP = 6,
    /// A Once: runs work in exactly one caller. Run it with
    /// `konductor_client_do_once()`.
    KONDUCTOR_KIND_ONCE = 7,
    /// An RWMutex: many readers or one writer. Lock it with
    /// `konductor_client_lock_rwmutex()`.
    KONDUCTOR_KIND_RWMUTEX = 8,
}

use konductor_kind::*;

/// Every kind with what it can do: a new kind costs one line here (and its
/// variant above).
static KINDS: [Kind; 8] = [
    Kind::slotted::<Semaphore>(KONDUCTOR_KIND_SEMAPHORE),
    Kind::waitable::<Barrier>(KONDUCTOR_KIND_BARRIER, Client::wait_barrier),
    Kind::slotted::<Lease>(KONDUCTOR_KIND_LEASE),
    Kind::waitable::<Gate>(KONDUCTOR_KIND_GATE, Client::wait_gate),
    Kind::slotted::<Mutex>(KONDUCTOR_KIND_MUTEX),
    Kind::of::<Once>(KONDUCTOR_KIND_ONCE),
    Kind::waitable::<WaitGroup>(KONDUCTOR_KIND_WAITGROUP, Client::wait_waitgroup),
    Kind::of::<RWMutex>(KONDUCTOR_KIND_RWMUTEX),
];

/// Whether an acquire waits in the queue or tries once.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Attempt {
    /// Waits as the options allow.
    Queue,
    /// Takes a slot only if one is free now.
    Once,
}

type Acquire = fn(&Client, &str, &Options, Attempt) -> Result<konductor_held>;
type Wait = fn(&Client, &str, &Options) -> Result<()>;

/// What the C layer can do with objects of one kind, written once per shape
/// by the generic functions below (as core's `Api<K>`).
pub(crate) struct Kind {
    constant: konductor_kind,
    kind: &'static str,
    get: fn(&Client, &str) -> std::result::Result<*mut c_char, Failed>,
    list: fn(&Client) -> std::result::Result<*mut c_char, Failed>,
    delete: fn(&Client, &str) -> Result<()>,
    acquire: Option<Acquire>,
    wait: Option<Wait>,
}

impl Kind {
    const fn of<K: Resource>(constant: konductor_kind) -> Kind {
        Kind {
            constant,
            kind: K::KIND,
            get: get::<K>,
            list: list::<K>,
            delete: delete::<K>,
            acquire: None,
            wait: None,
        }
    }

    const fn slotted<K: Slotted>(constant: konductor_kind) -> Kind {
        Kind {
            acquire: Some(acquire::<K>),
            ..Kind::of::<K>(constant)
        }
    }

    const fn waitable<K: Resource>(constant: konductor_kind, wait: Wait) -> Kind {
        Kind {
            wait: Some(wait),
            ..Kind::of::<K>(constant)
        }
    }

    /// The kind numbered `kind`; `KONDUCTOR_INVALID_ARGUMENT` for a number
    /// that is none.
    pub(crate) fn numbered(kind: u32) -> std::result::Result<&'static Kind, Failed> {
        KINDS
            .iter()
            .find(|known| known.constant as u32 == kind)
            .ok_or_else(|| {
                failed(
                    KONDUCTOR_INVALID_ARGUMENT,
                    format!("kind is {kind}: not a konductor_kind"),
                )
            })
    }

    /// The object as JSON.
    pub(crate) fn get(
        &self,
        client: &Client,
        name: &str,
    ) -> std::result::Result<*mut c_char, Failed> {
        (self.get)(client, name)
    }

    /// The namespace's objects as a JSON array.
    pub(crate) fn list(&self, client: &Client) -> std::result::Result<*mut c_char, Failed> {
        (self.list)(client)
    }

    /// Deletes the object.
    pub(crate) fn delete(&self, client: &Client, name: &str) -> Result<()> {
        (self.delete)(client, name)
    }

    /// Acquires a slot; `KONDUCTOR_INVALID_ARGUMENT` for a kind without slots.
    pub(crate) fn acquire(
        &self,
        client: &Client,
        name: &str,
        options: &Options,
        attempt: Attempt,
    ) -> std::result::Result<konductor_held, Failed> {
        let acquire = self.acquire.ok_or_else(|| self.cannot("acquire"))?;
        Ok(acquire(client, name, options, attempt)?)
    }

    /// Waits until the object opens; `KONDUCTOR_INVALID_ARGUMENT` for a kind
    /// that does not open.
    pub(crate) fn wait(
        &self,
        client: &Client,
        name: &str,
        options: &Options,
    ) -> std::result::Result<(), Failed> {
        let wait = self.wait.ok_or_else(|| self.cannot("wait for"))?;
        Ok(wait(client, name, options)?)
    }

    fn cannot(&self, what: &str) -> Failed {
        failed(
            KONDUCTOR_INVALID_ARGUMENT,
            format!("kind is {:?}: cannot {what} a {}", self.constant, self.kind),
        )
    }
}

fn get<K: Resource>(client: &Client, name: &str) -> std::result::Result<*mut c_char, Failed> {
    json(&client.api::<K>().get(name)?)
}

fn list<K: Resource>(client: &Client) -> std::result::Result<*mut c_char, Failed> {
    json(&client.api::<K>().list()?)
}

fn delete<K: Resource>(client: &Client, name: &str) -> Result<()> {
    client.api::<K>().delete(name)
}

fn acquire<K: Slotted>(
    client: &Client,
    name: &str,
    options: &Options,
    attempt: Attempt,
) -> Result<konductor_held> {
    let api = client.api::<K>();
    let held = match attempt {
        Attempt::Queue => api.acquire(name, options)?,
        Attempt::Once => api.try_acquire(name, options)?,
    };
    Ok(konductor_held::new(held))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_in_the_table_once_and_unknown_numbers_are_rejected() {
        for kind in [
            KONDUCTOR_KIND_SEMAPHORE,
            KONDUCTOR_KIND_BARRIER,
            KONDUCTOR_KIND_LEASE,
            KONDUCTOR_KIND_GATE,
            KONDUCTOR_KIND_MUTEX,
            KONDUCTOR_KIND_ONCE,
            KONDUCTOR_KIND_WAITGROUP,
            KONDUCTOR_KIND_RWMUTEX,
        ] {
            let found = KINDS.iter().filter(|known| known.constant == kind).count();
            assert_eq!(found, 1, "{kind:?} must be in KINDS once");
            assert!(Kind::numbered(kind as u32).is_ok());
        }
        for number in [0, 9, 42] {
            let err = Kind::numbered(number).err().expect("no such kind");
            assert_eq!(err.0, KONDUCTOR_INVALID_ARGUMENT);
        }
    }

    #[test]
    fn slots_and_waits_belong_to_the_kinds_that_have_them() {
        let kind = |k: konductor_kind| Kind::numbered(k as u32).unwrap();
        assert!(kind(KONDUCTOR_KIND_SEMAPHORE).acquire.is_some());
        assert!(kind(KONDUCTOR_KIND_LEASE).acquire.is_some());
        assert!(kind(KONDUCTOR_KIND_MUTEX).acquire.is_some());
        assert!(kind(KONDUCTOR_KIND_BARRIER).acquire.is_none());
        assert!(kind(KONDUCTOR_KIND_GATE).acquire.is_none());
        assert!(kind(KONDUCTOR_KIND_BARRIER).wait.is_some());
        assert!(kind(KONDUCTOR_KIND_GATE).wait.is_some());
        assert!(kind(KONDUCTOR_KIND_WAITGROUP).wait.is_some());
        assert!(kind(KONDUCTOR_KIND_WAITGROUP).acquire.is_none());
        assert!(kind(KONDUCTOR_KIND_SEMAPHORE).wait.is_none());
        let code = kind(KONDUCTOR_KIND_BARRIER).cannot("acquire").0;
        assert_eq!(code, KONDUCTOR_INVALID_ARGUMENT);
        let message =
            unsafe { std::ffi::CStr::from_ptr(crate::last_error::konductor_last_error()) };
        assert_eq!(
            message.to_str().unwrap(),
            "kind is KONDUCTOR_KIND_BARRIER: cannot acquire a Barrier"
        );
    }
}
