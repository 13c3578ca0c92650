//! Acquiring a slot of a slotted kind (a semaphore permit, a lease): waiting, trying once, or around a callback.

use std::ffi::{c_char, c_void};

use crate::arguments::arg_out;
use crate::callback::{callback_arguments, callback_status, konductor_held_callback};
use crate::client::{konductor_client, on_object};
use crate::handle::Handle;
use crate::held::konductor_held;
use crate::kind::{Attempt, Kind};
use crate::options::{self, konductor_options};
use crate::result::konductor_result;

/// Acquires a slot of object `name` of a slotted kind
/// (`KONDUCTOR_KIND_SEMAPHORE`: a permit, `KONDUCTOR_KIND_LEASE`: the lease),
/// queueing as `options` allow (NULL: defaults, i.e. wait without limit).
/// Writes the held handle to `*out_held`. Fails with `KONDUCTOR_NOT_FOUND`,
/// `KONDUCTOR_TIMEOUT`, `KONDUCTOR_CANCELLED`, `KONDUCTOR_LEASE_HELD` for a
/// lease with a zero timeout while someone holds it, `KONDUCTOR_ALREADY_HELD`
/// when this holder already holds or waits, `KONDUCTOR_INVALID_ARGUMENT`
/// for a kind without slots.
#[no_mangle]
pub extern "C" fn konductor_client_acquire(
    client: *const konductor_client,
    kind: u32,
    name: *const c_char,
    options: *const konductor_options,
    out_held: *mut *mut konductor_held,
) -> konductor_result {
    acquire(client, kind, name, options, out_held, Attempt::Queue)
}

/// Takes a slot only if one is free now (ignores `options.timeout_ms`):
/// otherwise `KONDUCTOR_TIMEOUT` for a semaphore, `KONDUCTOR_LEASE_HELD`
/// (with the holder in the last error) for a lease.
#[no_mangle]
pub extern "C" fn konductor_client_try_acquire(
    client: *const konductor_client,
    kind: u32,
    name: *const c_char,
    options: *const konductor_options,
    out_held: *mut *mut konductor_held,
) -> konductor_result {
    acquire(client, kind, name, options, out_held, Attempt::Once)
}

fn acquire(
    client: *const konductor_client,
    kind: u32,
    name: *const c_char,
    options: *const konductor_options,
    out_held: *mut *mut konductor_held,
    attempt: Attempt,
) -> konductor_result {
    on_object(client, name, |client, name| {
        let kind = Kind::numbered(kind)?;
        let options = options::read(options)?;
        let out = arg_out!(out_held);
        out.write(kind.acquire(client, name, &options, attempt)?.into_raw());
        Ok(())
    })
}

/// Acquires a slot as `konductor_client_acquire()` does, runs
/// `callback(held, user_data)`, and releases the slot whatever the callback
/// returned. Returns the acquire error, else `KONDUCTOR_CALLBACK_FAILED` if
/// the callback returned non-zero, else `KONDUCTOR_LOST` if the slot was lost
/// while the callback ran (it outlived the TTL unrenewed, or was taken away),
/// else the release error, else `KONDUCTOR_OK`.
#[no_mangle]
pub extern "C" fn konductor_client_with(
    client: *const konductor_client,
    kind: u32,
    name: *const c_char,
    options: *const konductor_options,
    callback: konductor_held_callback,
    user_data: *mut c_void,
) -> konductor_result {
    on_object(client, name, |client, name| {
        let (options, callback) = callback_arguments(options, callback)?;
        let kind = Kind::numbered(kind)?;
        let held = kind.acquire(client, name, &options, Attempt::Queue)?;
        let status = callback(&held, user_data);
        let kept = held.still_held();
        let released = held.release();
        callback_status(status)?;
        kept?;
        Ok(released?)
    })
}
