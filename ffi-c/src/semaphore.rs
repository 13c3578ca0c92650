//! Semaphores: create, read, delete, and acquire permits (waiting, trying, or around a callback).

use std::ffi::{c_char, c_void};
use std::time::Duration;

use crate::arguments::{arg_out, arg_ref, arg_str, count, Out};
use crate::callback::{callback_status, konductor_permit_callback, required};
use crate::client::konductor_client;
use crate::options::{self, konductor_options, optional_millis};
use crate::panic::ffi_boundary;
use crate::permit::konductor_permit;
use crate::result::konductor_result;
use crate::strings::json;

/// Creates a semaphore with `permits` slots (at least 1) and a default
/// permit TTL (`ttl_ms`, 0 for the built-in default). Writes the created
/// object as JSON to `*out_json` unless `out_json` is NULL (free it with
/// `konductor_string_free()`). `KONDUCTOR_ALREADY_EXISTS` if the name is taken.
#[no_mangle]
pub extern "C" fn konductor_semaphore_create(
    client: *const konductor_client,
    name: *const c_char,
    permits: i32,
    ttl_ms: i64,
    out_json: *mut *mut c_char,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let permits = count(permits, "permits")?;
        let ttl = optional_millis(ttl_ms, "ttl_ms")?;
        let created = client.client.create_semaphore(name, permits, ttl)?;
        if let Some(out) = Out::optional(out_json) {
            out.write(json(&created)?);
        }
        Ok(())
    }
}

/// Reads a semaphore (spec and status: holders, waiters, available, …) as
/// JSON into `*out_json`; free it with `konductor_string_free()`.
#[no_mangle]
pub extern "C" fn konductor_semaphore_get(
    client: *const konductor_client,
    name: *const c_char,
    out_json: *mut *mut c_char,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let out = arg_out!(out_json);
        out.write(json(&client.client.get_semaphore(name)?)?);
        Ok(())
    }
}

/// Lists the client namespace's semaphores as a JSON array into
/// `*out_json`; free it with `konductor_string_free()`.
#[no_mangle]
pub extern "C" fn konductor_semaphore_list(
    client: *const konductor_client,
    out_json: *mut *mut c_char,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let out = arg_out!(out_json);
        out.write(json(&client.client.list_semaphores()?)?);
        Ok(())
    }
}

/// Deletes a semaphore; its holders lose their permits.
#[no_mangle]
pub extern "C" fn konductor_semaphore_delete(
    client: *const konductor_client,
    name: *const c_char,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        client.client.delete_semaphore(name)?;
        Ok(())
    }
}

/// Acquires a permit of semaphore `name`, queueing as `options` allow (NULL:
/// defaults, i.e. wait without limit). Writes the permit handle to
/// `*out_permit`. Fails with `KONDUCTOR_NOT_FOUND`, `KONDUCTOR_TIMEOUT`,
/// `KONDUCTOR_CANCELLED`, or `KONDUCTOR_ALREADY_HELD` when this holder
/// already holds or waits.
#[no_mangle]
pub extern "C" fn konductor_semaphore_acquire(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
    out_permit: *mut *mut konductor_permit,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let options = options::read(options)?;
        let out = arg_out!(out_permit);
        let permit = client.client.acquire_semaphore(name, &options)?;
        out.write(Box::into_raw(Box::new(konductor_permit::new(permit))));
        Ok(())
    }
}

/// Takes a permit only if one is free now (ignores `options.timeout_ms`);
/// `KONDUCTOR_TIMEOUT` when none is.
#[no_mangle]
pub extern "C" fn konductor_semaphore_try_acquire(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
    out_permit: *mut *mut konductor_permit,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let options = options::read(options)?.timeout(Duration::ZERO);
        let out = arg_out!(out_permit);
        let permit = client.client.acquire_semaphore(name, &options)?;
        out.write(Box::into_raw(Box::new(konductor_permit::new(permit))));
        Ok(())
    }
}

/// Acquires a permit as `konductor_semaphore_acquire()` does, runs
/// `callback(permit, user_data)`, and releases the permit whatever the
/// callback returned. Returns the acquire error, else
/// `KONDUCTOR_CALLBACK_FAILED` if the callback returned non-zero, else the
/// release error, else `KONDUCTOR_OK`.
#[no_mangle]
pub extern "C" fn konductor_semaphore_with(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
    callback: konductor_permit_callback,
    user_data: *mut c_void,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let options = options::read(options)?;
        let callback = required(callback)?;
        let permit = konductor_permit::new(client.client.acquire_semaphore(name, &options)?);
        let status = callback(&permit, user_data);
        let released = permit.permit.release();
        callback_status(status)?;
        released?;
        Ok(())
    }
}
