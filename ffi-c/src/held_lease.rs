//! `konductor_lease`: a held lease, renewed and released through its handle.

use std::ffi::{c_char, CString};
use std::time::UNIX_EPOCH;

use konductor_core::Lease;

use crate::arguments::{arg_out, arg_ref};
use crate::cancel::konductor_cancel;
use crate::options::to_millis;
use crate::panic::{ffi_boundary, ffi_boundary_or};
use crate::result::konductor_result;
use crate::strings::borrowable;

/// A held lease. Thread-safe. `konductor_lease_free()` releases it if still
/// held, then frees the handle.
pub struct konductor_lease {
    pub(crate) lease: Lease,
    name: CString,
    holder: CString,
}

impl konductor_lease {
    pub(crate) fn new(lease: Lease) -> konductor_lease {
        konductor_lease {
            name: borrowable(lease.name()),
            holder: borrowable(lease.holder()),
            lease,
        }
    }
}

/// Writes the lease's name. The string lives as long as the lease handle.
#[no_mangle]
pub extern "C" fn konductor_lease_name(
    lease: *const konductor_lease,
    out_name: *mut *const c_char,
) -> konductor_result {
    ffi_boundary! {
        let lease = arg_ref!(lease);
        arg_out!(out_name).write(lease.name.as_ptr());
        Ok(())
    }
}

/// Writes the holder identity the lease is recorded under. The string lives
/// as long as the lease handle.
#[no_mangle]
pub extern "C" fn konductor_lease_holder(
    lease: *const konductor_lease,
    out_holder: *mut *const c_char,
) -> konductor_result {
    ffi_boundary! {
        let lease = arg_ref!(lease);
        arg_out!(out_holder).write(lease.holder.as_ptr());
        Ok(())
    }
}

/// Writes the fencing token (the lease's transition count): it strictly
/// increases with every grant, so downstream systems can reject a stale leader.
#[no_mangle]
pub extern "C" fn konductor_lease_token(
    lease: *const konductor_lease,
    out_token: *mut u64,
) -> konductor_result {
    ffi_boundary! {
        let lease = arg_ref!(lease);
        arg_out!(out_token).write(lease.lease.token());
        Ok(())
    }
}

/// Writes the granted time-to-live in milliseconds; renew within it.
#[no_mangle]
pub extern "C" fn konductor_lease_ttl_ms(
    lease: *const konductor_lease,
    out_ttl_ms: *mut i64,
) -> konductor_result {
    ffi_boundary! {
        let lease = arg_ref!(lease);
        arg_out!(out_ttl_ms).write(to_millis(lease.lease.ttl()));
        Ok(())
    }
}

/// Writes when the lease runs out unless renewed, in milliseconds since the
/// Unix epoch by this machine's clock.
#[no_mangle]
pub extern "C" fn konductor_lease_expires_at_ms(
    lease: *const konductor_lease,
    out_unix_ms: *mut i64,
) -> konductor_result {
    ffi_boundary! {
        let lease = arg_ref!(lease);
        let out = arg_out!(out_unix_ms);
        let since_epoch = lease.lease.expires_at().duration_since(UNIX_EPOCH).unwrap_or_default();
        out.write(to_millis(since_epoch));
        Ok(())
    }
}

/// Writes true once the lease is no longer held (expired, reclaimed, released).
#[no_mangle]
pub extern "C" fn konductor_lease_is_lost(
    lease: *const konductor_lease,
    out_lost: *mut bool,
) -> konductor_result {
    ffi_boundary! {
        let lease = arg_ref!(lease);
        arg_out!(out_lost).write(lease.lease.is_lost());
        Ok(())
    }
}

/// Creates a cancel handle that is triggered the moment the lease is lost.
/// Pass it in `konductor_options.cancel` to waits that must stop then, or
/// poll it with `konductor_cancel_is_triggered()`. Free it with
/// `konductor_cancel_free()`; it may outlive the lease.
#[no_mangle]
pub extern "C" fn konductor_lease_lost_cancel(
    lease: *const konductor_lease,
    out_cancel: *mut *mut konductor_cancel,
) -> konductor_result {
    ffi_boundary! {
        let lease = arg_ref!(lease);
        let out = arg_out!(out_cancel);
        out.write(konductor_cancel::boxed(lease.lease.lost_token()));
        Ok(())
    }
}

/// Extends the lease by its TTL. `KONDUCTOR_LOST` when it is no longer held
/// (expired and reclaimed, or released).
#[no_mangle]
pub extern "C" fn konductor_lease_renew(lease: *const konductor_lease) -> konductor_result {
    ffi_boundary! {
        arg_ref!(lease).lease.renew()?;
        Ok(())
    }
}

/// Gives the lease back, handing it to the first waiter. Idempotent; the
/// handle must still be freed.
#[no_mangle]
pub extern "C" fn konductor_lease_release(lease: *const konductor_lease) -> konductor_result {
    ffi_boundary! {
        arg_ref!(lease).lease.release()?;
        Ok(())
    }
}

/// Releases the lease if still held (errors ignored; call
/// `konductor_lease_release()` first to see them) and frees the handle.
/// NULL is ignored.
#[no_mangle]
pub extern "C" fn konductor_lease_free(lease: *mut konductor_lease) {
    ffi_boundary_or!((), {
        if !lease.is_null() {
            // SAFETY: the pointer came from Box::into_raw in this crate and
            // the caller gives up its ownership here.
            drop(unsafe { Box::from_raw(lease) });
        }
    })
}
