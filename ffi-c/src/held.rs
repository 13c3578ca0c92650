//! `konductor_held`: a held semaphore permit or lease, renewed and released through its handle.

use std::ffi::{c_char, CString};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use konductor_core::protocol::Slotted;
use konductor_core::{CancelToken, Held, Result};

use crate::arguments::{accessor, arg_ref};
use crate::cancel::konductor_cancel;
use crate::handle::{self, Handle};
use crate::options::to_millis;
use crate::panic::{ffi_boundary, ffi_boundary_or};
use crate::result::konductor_result;
use crate::strings::borrowable;

/// A held slot of a slotted kind: a semaphore permit or a lease, from
/// `konductor_client_acquire()`. Thread-safe. `konductor_held_free()`
/// releases it if still held, then frees the handle.
pub struct konductor_held {
    slot: Box<dyn Slot>,
    name: CString,
    holder: CString,
}

impl Handle for konductor_held {}

impl konductor_held {
    pub(crate) fn new<K: Slotted>(held: Held<K>) -> konductor_held
    where
        Held<K>: Send + Sync,
    {
        konductor_held {
            name: borrowable(held.name()),
            holder: borrowable(held.holder()),
            slot: Box::new(held),
        }
    }

    /// `Ok` while the slot is ours by our own clock; core's `Error::Lost`
    /// (and the loss reported) once it expired unrenewed or was taken away.
    pub(crate) fn still_held(&self) -> Result<()> {
        self.slot.still_held()
    }

    /// Gives the slot back; idempotent.
    pub(crate) fn release(&self) -> Result<()> {
        self.slot.release()
    }
}

/// Core's `Held<K>` with its kind erased: one handle type for every slotted kind.
trait Slot: Send + Sync {
    fn token(&self) -> u64;
    fn ttl(&self) -> Duration;
    fn expires_at(&self) -> SystemTime;
    fn is_lost(&self) -> bool;
    fn still_held(&self) -> Result<()>;
    fn lost_token(&self) -> CancelToken;
    fn renew(&self) -> Result<()>;
    fn release(&self) -> Result<()>;
}

impl<K: Slotted> Slot for Held<K>
where
    Held<K>: Send + Sync,
{
    fn token(&self) -> u64 {
        Held::token(self)
    }
    fn ttl(&self) -> Duration {
        Held::ttl(self)
    }
    fn expires_at(&self) -> SystemTime {
        Held::expires_at(self)
    }
    fn is_lost(&self) -> bool {
        Held::is_lost(self)
    }
    fn still_held(&self) -> Result<()> {
        Held::still_held(self)
    }
    fn lost_token(&self) -> CancelToken {
        Held::lost_token(self)
    }
    fn renew(&self) -> Result<()> {
        Held::renew(self)
    }
    fn release(&self) -> Result<()> {
        Held::release(self)
    }
}

/// Writes the name of the semaphore or lease. The string lives as long as
/// the handle.
#[no_mangle]
pub extern "C" fn konductor_held_name(
    held: *const konductor_held,
    out_name: *mut *const c_char,
) -> konductor_result {
    accessor!(held, out_name, |held| held.name.as_ptr())
}

/// Writes the holder identity the grant is recorded under. The string lives
/// as long as the handle.
#[no_mangle]
pub extern "C" fn konductor_held_holder(
    held: *const konductor_held,
    out_holder: *mut *const c_char,
) -> konductor_result {
    accessor!(held, out_holder, |held| held.holder.as_ptr())
}

/// Writes the fencing token: it strictly increases with every grant of the
/// object (for a lease, its transition count), so downstream systems can
/// reject writes from a stale holder.
#[no_mangle]
pub extern "C" fn konductor_held_token(
    held: *const konductor_held,
    out_token: *mut u64,
) -> konductor_result {
    accessor!(held, out_token, |held| held.slot.token())
}

/// Writes the granted time-to-live in milliseconds; renew within it.
#[no_mangle]
pub extern "C" fn konductor_held_ttl_ms(
    held: *const konductor_held,
    out_ttl_ms: *mut i64,
) -> konductor_result {
    accessor!(held, out_ttl_ms, |held| to_millis(held.slot.ttl()))
}

/// Writes when the grant runs out unless renewed, in milliseconds since the
/// Unix epoch by this machine's clock.
#[no_mangle]
pub extern "C" fn konductor_held_expires_at_ms(
    held: *const konductor_held,
    out_unix_ms: *mut i64,
) -> konductor_result {
    accessor!(held, out_unix_ms, |held| {
        let expires_at = held.slot.expires_at();
        to_millis(expires_at.duration_since(UNIX_EPOCH).unwrap_or_default())
    })
}

/// Writes true once the grant is no longer held (expired, reclaimed,
/// released, or the object deleted).
#[no_mangle]
pub extern "C" fn konductor_held_is_lost(
    held: *const konductor_held,
    out_lost: *mut bool,
) -> konductor_result {
    accessor!(held, out_lost, |held| held.slot.is_lost())
}

/// Creates a cancel handle that is triggered the moment the grant is lost.
/// Pass it in `konductor_options.cancel` to waits that must stop then, or
/// poll it with `konductor_cancel_is_triggered()`. Free it with
/// `konductor_cancel_free()`; it may outlive the held handle.
#[no_mangle]
pub extern "C" fn konductor_held_lost_cancel(
    held: *const konductor_held,
    out_cancel: *mut *mut konductor_cancel,
) -> konductor_result {
    accessor!(held, out_cancel, |held| {
        konductor_cancel::new(held.slot.lost_token()).into_raw()
    })
}

/// Extends the grant by its TTL. `KONDUCTOR_LOST` when it is no longer held
/// (expired and reclaimed, released, or the object deleted).
#[no_mangle]
pub extern "C" fn konductor_held_renew(held: *const konductor_held) -> konductor_result {
    ffi_boundary! {
        arg_ref!(held).slot.renew()?;
        Ok(())
    }
}

/// Gives the permit or lease back, handing it to the first waiter.
/// Idempotent; the handle must still be freed.
#[no_mangle]
pub extern "C" fn konductor_held_release(held: *const konductor_held) -> konductor_result {
    ffi_boundary! {
        arg_ref!(held).release()?;
        Ok(())
    }
}

/// Releases the permit or lease if still held (errors ignored; call
/// `konductor_held_release()` first to see them) and frees the handle.
/// NULL is ignored.
#[no_mangle]
pub extern "C" fn konductor_held_free(held: *mut konductor_held) {
    ffi_boundary_or!((), handle::free(held))
}
