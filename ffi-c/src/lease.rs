//! Leases: create, read, delete, and acquire them (waiting, trying, or around a callback).

use std::ffi::{c_char, c_void};

use crate::arguments::{arg_out, arg_ref, arg_str, Out};
use crate::callback::{callback_status, konductor_lease_callback, required};
use crate::client::konductor_client;
use crate::held_lease::konductor_lease;
use crate::options::{self, konductor_options, optional_millis, KONDUCTOR_PRIORITY_DEFAULT};
use crate::panic::ffi_boundary;
use crate::result::konductor_result;
use crate::strings::json;

/// Creates a lease with a default TTL (`ttl_ms`, 0 for the built-in default)
/// and a default acquirer priority (`KONDUCTOR_PRIORITY_DEFAULT` for none).
/// Writes the created object as JSON to `*out_json` unless `out_json` is
/// NULL (free it with `konductor_string_free()`). `KONDUCTOR_ALREADY_EXISTS`
/// if the name is taken.
#[no_mangle]
pub extern "C" fn konductor_lease_create(
    client: *const konductor_client,
    name: *const c_char,
    ttl_ms: i64,
    priority: i32,
    out_json: *mut *mut c_char,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let ttl = optional_millis(ttl_ms, "ttl_ms")?;
        let priority = (priority != KONDUCTOR_PRIORITY_DEFAULT).then_some(priority);
        let created = client.client.create_lease(name, ttl, priority)?;
        if let Some(out) = Out::optional(out_json) {
            out.write(json(&created)?);
        }
        Ok(())
    }
}

/// Reads a lease (spec and status: holder, transitions, expiry, waiters) as
/// JSON into `*out_json`; free it with `konductor_string_free()`.
#[no_mangle]
pub extern "C" fn konductor_lease_get(
    client: *const konductor_client,
    name: *const c_char,
    out_json: *mut *mut c_char,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let out = arg_out!(out_json);
        out.write(json(&client.client.get_lease(name)?)?);
        Ok(())
    }
}

/// Lists the client namespace's leases as a JSON array into `*out_json`;
/// free it with `konductor_string_free()`.
#[no_mangle]
pub extern "C" fn konductor_lease_list(
    client: *const konductor_client,
    out_json: *mut *mut c_char,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let out = arg_out!(out_json);
        out.write(json(&client.client.list_leases()?)?);
        Ok(())
    }
}

/// Deletes a lease; its holder loses it.
#[no_mangle]
pub extern "C" fn konductor_lease_delete(
    client: *const konductor_client,
    name: *const c_char,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        client.client.delete_lease(name)?;
        Ok(())
    }
}

/// Acquires lease `name`, queueing as `options` allow (NULL: defaults, i.e.
/// wait without limit). Writes the lease handle to `*out_lease`. Fails with
/// `KONDUCTOR_NOT_FOUND`, `KONDUCTOR_TIMEOUT`, `KONDUCTOR_CANCELLED`,
/// `KONDUCTOR_LEASE_HELD` for a zero timeout while someone holds it, or
/// `KONDUCTOR_ALREADY_HELD` when this holder already holds or waits.
#[no_mangle]
pub extern "C" fn konductor_lease_acquire(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
    out_lease: *mut *mut konductor_lease,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let options = options::read(options)?;
        let out = arg_out!(out_lease);
        let lease = client.client.acquire_lease(name, &options)?;
        out.write(Box::into_raw(Box::new(konductor_lease::new(lease))));
        Ok(())
    }
}

/// Takes the lease only if it is free now (ignores `options.timeout_ms`);
/// `KONDUCTOR_LEASE_HELD` otherwise, with the holder in the last error.
#[no_mangle]
pub extern "C" fn konductor_lease_try_acquire(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
    out_lease: *mut *mut konductor_lease,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let options = options::read(options)?;
        let out = arg_out!(out_lease);
        let lease = client.client.try_acquire_lease(name, &options)?;
        out.write(Box::into_raw(Box::new(konductor_lease::new(lease))));
        Ok(())
    }
}

/// Acquires the lease as `konductor_lease_acquire()` does, runs
/// `callback(lease, user_data)`, and releases the lease whatever the callback
/// returned. Returns the acquire error, else `KONDUCTOR_CALLBACK_FAILED` if
/// the callback returned non-zero, else the release error, else `KONDUCTOR_OK`.
#[no_mangle]
pub extern "C" fn konductor_lease_with(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
    callback: konductor_lease_callback,
    user_data: *mut c_void,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let options = options::read(options)?;
        let callback = required(callback)?;
        let lease = konductor_lease::new(client.client.acquire_lease(name, &options)?);
        let status = callback(&lease, user_data);
        let released = lease.lease.release();
        callback_status(status)?;
        released?;
        Ok(())
    }
}
