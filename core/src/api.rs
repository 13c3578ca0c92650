//! `Api<K>`: create, read, list, delete and acquire objects of one kind, written once for every kind.

use std::marker::PhantomData;
use std::time::Duration;

use crate::acquire::{acquire_in, validate_ttl, Slotted};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::held::{release_recorded, renew_recorded, Grant, Held};
use crate::names::{validate_holder, validate_name};
use crate::options::Options;
use crate::queue::{order_of, selector_of};
use crate::resource::{LockMode, Resource, Waiter};

/// Typed access to the objects of kind `K` in the client's namespace, as
/// kube-rs's `Api<K>`: `client.api::<Semaphore>().get("api-quota")`.
/// Cheap to create and to clone; shares the client's connection pool.
pub struct Api<K> {
    client: Client,
    kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Api<K> {
    fn clone(&self) -> Self {
        Api {
            client: self.client.clone(),
            kind: PhantomData,
        }
    }
}

impl Client {
    /// The objects of kind `K` in this client's namespace.
    pub fn api<K: Resource>(&self) -> Api<K> {
        Api {
            client: self.clone(),
            kind: PhantomData,
        }
    }
}

impl<K: Resource> Api<K> {
    /// The namespace this handle works in.
    pub fn namespace(&self) -> &str {
        self.client.namespace()
    }

    /// Creates `object` (its spec as given; the API server checks it against
    /// the CRD's schema). [`Error::AlreadyExists`] if the name is taken.
    pub fn create(&self, object: &K) -> Result<K> {
        validate_name(&object.metadata().name)?;
        self.client.shared.objects.create(self.namespace(), object)
    }

    /// Reads one object; [`Error::NotFound`] if it does not exist.
    pub fn get(&self, name: &str) -> Result<K> {
        validate_name(name)?;
        self.client.shared.objects.get(self.namespace(), name)
    }

    /// Lists the namespace's objects of this kind.
    pub fn list(&self) -> Result<Vec<K>> {
        self.client.shared.objects.list(self.namespace())
    }

    /// Deletes an object (holders of a slotted kind lose their grants);
    /// [`Error::NotFound`] if it does not exist.
    pub fn delete(&self, name: &str) -> Result<()> {
        validate_name(name)?;
        self.client
            .shared
            .objects
            .delete::<K>(self.namespace(), name)
    }
}

impl<K: Slotted> Api<K> {
    /// Acquires a slot of object `name`, waiting in its queue as `options`
    /// allow.
    ///
    /// Errors: [`Error::NotFound`], [`Error::Timeout`], [`Error::Cancelled`],
    /// the kind's busy error for a zero timeout that found no free slot
    /// ([`Error::Timeout`] for a semaphore, [`Error::LeaseHeld`] for a lease),
    /// [`Error::AlreadyHeld`] when this holder name already holds a slot
    /// under another acquisition when the call starts (a queued call is an
    /// acquisition of its own, granted by its ticket).
    pub fn acquire(&self, name: &str, options: &Options) -> Result<Held<K>> {
        self.acquire_in(name, options, None)
    }

    /// [`Api::acquire`] in `mode`: an RWMutex's read or write lock (see
    /// [`Client::read_lock_rwmutex`]), which an RWMutex requires; `None`
    /// for the other kinds. Otherwise [`Error::Invalid`].
    pub fn acquire_in(
        &self,
        name: &str,
        options: &Options,
        mode: Option<LockMode>,
    ) -> Result<Held<K>> {
        let rwmutex = K::KIND == crate::resource::RWMutex::KIND;
        if mode.is_some() != rwmutex {
            return Err(Error::invalid(
                crate::error::Argument::Other,
                format!("{mode:?}"),
                match rwmutex {
                    true => "an RWMutex is locked for reading or for writing: give a lock mode"
                        .to_owned(),
                    false => format!("a lock mode applies to an RWMutex, not a {}", K::KIND),
                },
            ));
        }
        let shared = &self.client.shared;
        let granted = acquire_in::<K>(shared, name, options, mode)?;
        let grant = Grant::new(shared.clone(), name, granted, options.observer.clone());
        Ok(Held::new(grant, options.auto_renew))
    }

    /// The acquisitions queued for object `name`, in grant order (higher
    /// priority first, then arrival). Each is a [`Waiter`] object of its own;
    /// stale ones (whose process stopped heartbeating) are included until
    /// someone deletes them.
    pub fn waiters(&self, name: &str) -> Result<Vec<Waiter>> {
        let object = self.get(name)?;
        let selector = selector_of(&object.metadata().uid);
        let (mut waiters, _) = self
            .client
            .shared
            .objects
            .list_selected::<Waiter>(self.namespace(), &selector)?;
        waiters.sort_by(|a, b| order_of(a).cmp(&order_of(b)));
        Ok(waiters)
    }

    /// Renews the slot `holder` holds in object `name` (its grant with
    /// `token`, when given), e.g. one another process acquired and kept with
    /// [`Held::keep`]: its TTL (the recorded one, or `ttl`) counts again from
    /// now. Returns the grant's fencing token. [`Error::Lost`] when `holder`
    /// holds nothing there; [`Error::NotFound`], [`Error::Invalid`].
    pub fn renew_holder(
        &self,
        name: &str,
        holder: &str,
        token: Option<u64>,
        ttl: Option<Duration>,
    ) -> Result<u64> {
        validate_name(name)?;
        validate_holder(holder)?;
        ttl.map_or(Ok(()), validate_ttl)?;
        renew_recorded::<K>(&self.client.shared, name, holder, token, ttl)
    }

    /// Gives back the slot `holder` holds in object `name` (its grant with
    /// `token`, when given), e.g. one another process acquired and kept with
    /// [`Held::keep`]. [`Error::Lost`] when `holder` holds nothing there
    /// (it expired, was reclaimed or released already).
    pub fn release_holder(&self, name: &str, holder: &str, token: Option<u64>) -> Result<()> {
        validate_name(name)?;
        validate_holder(holder)?;
        release_recorded::<K>(&self.client.shared, name, holder, token)
    }

    /// Takes a slot only if one is free now: [`Api::acquire`] with a zero timeout.
    pub fn try_acquire(&self, name: &str, options: &Options) -> Result<Held<K>> {
        self.acquire(name, &options.clone().timeout(Duration::ZERO))
    }

    /// Runs `work` while holding a slot, releasing it afterwards whatever
    /// happens. `work`'s error comes first; then [`Error::Lost`] if the slot
    /// was lost while `work` ran (it expired unrenewed, or was taken away: its
    /// exclusivity was not guaranteed throughout); then the release's error.
    pub fn with<T, E: From<Error>>(
        &self,
        name: &str,
        options: &Options,
        work: impl FnOnce(&Held<K>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.with_in(name, options, None, work)
    }

    /// [`Api::with`] in `mode` (an RWMutex's read or write lock).
    pub(crate) fn with_in<T, E: From<Error>>(
        &self,
        name: &str,
        options: &Options,
        mode: Option<LockMode>,
        work: impl FnOnce(&Held<K>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let held = self.acquire_in(name, options, mode)?;
        let result = work(&held);
        let kept = held.still_held();
        let released = held.release();
        let value = result?;
        kept?;
        released?;
        Ok(value)
    }
}

/// The SDK-named shorthands of one kind (`get_semaphore`, `list_semaphores`,
/// `delete_semaphore`, and for slotted kinds `acquire_semaphore` and
/// `with_semaphore`), each one call of [`Api`]: written once for every kind.
macro_rules! shorthands {
    ($kind:ty, $noun:literal, $get:ident, $list:ident, $delete:ident) => {
        impl $crate::client::Client {
            #[doc = concat!("Reads a ", $noun, " (see [`Api::get`](crate::Api::get)).")]
            pub fn $get(&self, name: &str) -> $crate::error::Result<$kind> {
                self.api().get(name)
            }

            #[doc = concat!("Lists the ", $noun, "s of the namespace.")]
            pub fn $list(&self) -> $crate::error::Result<Vec<$kind>> {
                self.api().list()
            }

            #[doc = concat!("Deletes a ", $noun, "; holders of its slots, if any, lose them.")]
            pub fn $delete(&self, name: &str) -> $crate::error::Result<()> {
                self.api::<$kind>().delete(name)
            }
        }
    };
    ($kind:ty, $noun:literal, $get:ident, $list:ident, $delete:ident, $acquire:ident, $with:ident) => {
        shorthands!($kind, $noun, $get, $list, $delete);

        impl $crate::client::Client {
            #[doc = concat!(
                "Acquires a slot of a ", $noun,
                ", waiting in its queue as `options` allow (see [`Api::acquire`](crate::Api::acquire))."
            )]
            pub fn $acquire(
                &self,
                name: &str,
                options: &$crate::options::Options,
            ) -> $crate::error::Result<$crate::held::Held<$kind>> {
                self.api().acquire(name, options)
            }

            #[doc = concat!(
                "Runs `work` while holding a slot of a ", $noun,
                ", releasing it afterwards whatever happens (see [`Api::with`](crate::Api::with))."
            )]
            pub fn $with<T, E: From<$crate::error::Error>>(
                &self,
                name: &str,
                options: &$crate::options::Options,
                work: impl FnOnce(&$crate::held::Held<$kind>) -> std::result::Result<T, E>,
            ) -> std::result::Result<T, E> {
                self.api().with(name, options, work)
            }
        }
    };
}
pub(crate) use shorthands;
