//! `konductor_permit`: a held semaphore permit, renewed and released through its handle.

use std::ffi::{c_char, CString};
use std::time::UNIX_EPOCH;

use konductor_core::Permit;

use crate::arguments::{arg_out, arg_ref};
use crate::cancel::konductor_cancel;
use crate::options::to_millis;
use crate::panic::{ffi_boundary, ffi_boundary_or};
use crate::result::konductor_result;
use crate::strings::borrowable;

/// A held semaphore permit. Thread-safe. `konductor_permit_free()`
/// releases it if still held, then frees the handle.
pub struct konductor_permit {
    pub(crate) permit: Permit,
    name: CString,
    holder: CString,
}

impl konductor_permit {
    pub(crate) fn new(permit: Permit) -> konductor_permit {
        konductor_permit {
            name: borrowable(permit.name()),
            holder: borrowable(permit.holder()),
            permit,
        }
    }
}

/// Writes the semaphore's name. The string lives as long as the permit handle.
#[no_mangle]
pub extern "C" fn konductor_permit_name(
    permit: *const konductor_permit,
    out_name: *mut *const c_char,
) -> konductor_result {
    ffi_boundary! {
        let permit = arg_ref!(permit);
        arg_out!(out_name).write(permit.name.as_ptr());
        Ok(())
    }
}

/// Writes the holder identity the permit is recorded under. The string lives
/// as long as the permit handle.
#[no_mangle]
pub extern "C" fn konductor_permit_holder(
    permit: *const konductor_permit,
    out_holder: *mut *const c_char,
) -> konductor_result {
    ffi_boundary! {
        let permit = arg_ref!(permit);
        arg_out!(out_holder).write(permit.holder.as_ptr());
        Ok(())
    }
}

/// Writes the fencing token: it strictly increases with every grant of this
/// semaphore, so downstream systems can reject writes from a stale holder.
#[no_mangle]
pub extern "C" fn konductor_permit_token(
    permit: *const konductor_permit,
    out_token: *mut u64,
) -> konductor_result {
    ffi_boundary! {
        let permit = arg_ref!(permit);
        arg_out!(out_token).write(permit.permit.token());
        Ok(())
    }
}

/// Writes the granted time-to-live in milliseconds; renew within it.
#[no_mangle]
pub extern "C" fn konductor_permit_ttl_ms(
    permit: *const konductor_permit,
    out_ttl_ms: *mut i64,
) -> konductor_result {
    ffi_boundary! {
        let permit = arg_ref!(permit);
        arg_out!(out_ttl_ms).write(to_millis(permit.permit.ttl()));
        Ok(())
    }
}

/// Writes when the permit runs out unless renewed, in milliseconds since the
/// Unix epoch by this machine's clock.
#[no_mangle]
pub extern "C" fn konductor_permit_expires_at_ms(
    permit: *const konductor_permit,
    out_unix_ms: *mut i64,
) -> konductor_result {
    ffi_boundary! {
        let permit = arg_ref!(permit);
        let out = arg_out!(out_unix_ms);
        let since_epoch = permit.permit.expires_at().duration_since(UNIX_EPOCH).unwrap_or_default();
        out.write(to_millis(since_epoch));
        Ok(())
    }
}

/// Writes true once the permit is no longer held (expired, reclaimed, released).
#[no_mangle]
pub extern "C" fn konductor_permit_is_lost(
    permit: *const konductor_permit,
    out_lost: *mut bool,
) -> konductor_result {
    ffi_boundary! {
        let permit = arg_ref!(permit);
        arg_out!(out_lost).write(permit.permit.is_lost());
        Ok(())
    }
}

/// Creates a cancel handle that is triggered the moment the permit is lost.
/// Pass it in `konductor_options.cancel` to waits that must stop then, or
/// poll it with `konductor_cancel_is_triggered()`. Free it with
/// `konductor_cancel_free()`; it may outlive the permit.
#[no_mangle]
pub extern "C" fn konductor_permit_lost_cancel(
    permit: *const konductor_permit,
    out_cancel: *mut *mut konductor_cancel,
) -> konductor_result {
    ffi_boundary! {
        let permit = arg_ref!(permit);
        let out = arg_out!(out_cancel);
        out.write(konductor_cancel::boxed(permit.permit.lost_token()));
        Ok(())
    }
}

/// Extends the permit by its TTL. `KONDUCTOR_LOST` when it is no longer held
/// (expired and reclaimed, or released).
#[no_mangle]
pub extern "C" fn konductor_permit_renew(permit: *const konductor_permit) -> konductor_result {
    ffi_boundary! {
        arg_ref!(permit).permit.renew()?;
        Ok(())
    }
}

/// Gives the permit back, handing it to the first waiter. Idempotent; the
/// handle must still be freed.
#[no_mangle]
pub extern "C" fn konductor_permit_release(permit: *const konductor_permit) -> konductor_result {
    ffi_boundary! {
        arg_ref!(permit).permit.release()?;
        Ok(())
    }
}

/// Releases the permit if still held (errors ignored; call
/// `konductor_permit_release()` first to see them) and frees the handle.
/// NULL is ignored.
#[no_mangle]
pub extern "C" fn konductor_permit_free(permit: *mut konductor_permit) {
    ffi_boundary_or!((), {
        if !permit.is_null() {
            // SAFETY: the pointer came from Box::into_raw in this crate and
            // the caller gives up its ownership here.
            drop(unsafe { Box::from_raw(permit) });
        }
    })
}
