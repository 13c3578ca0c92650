//! Barriers: create, read, delete, arrive, and wait until enough holders arrived.

use std::ffi::{c_char, c_void};

use crate::arguments::{arg_out, arg_ref, arg_str, count, Out};
use crate::callback::{callback_status, konductor_barrier_callback, required};
use crate::client::konductor_client;
use crate::options::{self, konductor_options, optional_millis};
use crate::panic::{failed, ffi_boundary};
use crate::result::konductor_result::{self, *};
use crate::strings::json;

/// Creates a barrier that opens after `expected` arrivals (at least 1), or
/// after `quorum` arrivals when `quorum` is not 0 (at most `expected`), and
/// fails if still closed `timeout_ms` after creation (0: never). Writes the
/// created object as JSON to `*out_json` unless `out_json` is NULL (free it
/// with `konductor_string_free()`). `KONDUCTOR_ALREADY_EXISTS` if the name
/// is taken.
#[no_mangle]
pub extern "C" fn konductor_barrier_create(
    client: *const konductor_client,
    name: *const c_char,
    expected: i32,
    quorum: i32,
    timeout_ms: i64,
    out_json: *mut *mut c_char,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let expected = count(expected, "expected")?;
        let quorum = match quorum {
            0 => None,
            q if q < 0 => {
                return Err(failed(KONDUCTOR_INVALID_COUNT, format!("quorum is {q}: use 0 for none, or 1 to expected")))
            }
            q => Some(q.unsigned_abs()),
        };
        let timeout = optional_millis(timeout_ms, "timeout_ms")?;
        let created = client.client.create_barrier(name, expected, quorum, timeout)?;
        if let Some(out) = Out::optional(out_json) {
            out.write(json(&created)?);
        }
        Ok(())
    }
}

/// Reads a barrier (spec and status: arrivals, phase) as JSON into
/// `*out_json`; free it with `konductor_string_free()`.
#[no_mangle]
pub extern "C" fn konductor_barrier_get(
    client: *const konductor_client,
    name: *const c_char,
    out_json: *mut *mut c_char,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let out = arg_out!(out_json);
        out.write(json(&client.client.get_barrier(name)?)?);
        Ok(())
    }
}

/// Lists the client namespace's barriers as a JSON array into `*out_json`;
/// free it with `konductor_string_free()`.
#[no_mangle]
pub extern "C" fn konductor_barrier_list(
    client: *const konductor_client,
    out_json: *mut *mut c_char,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let out = arg_out!(out_json);
        out.write(json(&client.client.list_barriers()?)?);
        Ok(())
    }
}

/// Deletes a barrier.
#[no_mangle]
pub extern "C" fn konductor_barrier_delete(
    client: *const konductor_client,
    name: *const c_char,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        client.client.delete_barrier(name)?;
        Ok(())
    }
}

/// Records the arrival of `options.holder` (idempotent per holder; NULL
/// options or holder: a generated identity). The arrival that reaches the
/// threshold opens the barrier. Writes the barrier as written to `*out_json`
/// unless `out_json` is NULL. `KONDUCTOR_FAILED` if the barrier already failed.
#[no_mangle]
pub extern "C" fn konductor_barrier_arrive(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
    out_json: *mut *mut c_char,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let options = options::read(options)?;
        let barrier = client.client.arrive_barrier(name, &options)?;
        if let Some(out) = Out::optional(out_json) {
            out.write(json(&barrier)?);
        }
        Ok(())
    }
}

/// Waits until the barrier is open, as long as `options.timeout_ms` allows.
/// `KONDUCTOR_FAILED` if it fails (e.g. its timeout passed),
/// `KONDUCTOR_TIMEOUT`, `KONDUCTOR_CANCELLED`, `KONDUCTOR_NOT_FOUND`.
#[no_mangle]
pub extern "C" fn konductor_barrier_wait(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let options = options::read(options)?;
        client.client.wait_barrier(name, &options)?;
        Ok(())
    }
}

/// Arrives, waits until the barrier opens, then runs `callback(user_data)`:
/// every participant starts its work only once all expected holders are
/// there. Returns the arrive or wait error, else `KONDUCTOR_CALLBACK_FAILED`
/// if the callback returned non-zero, else `KONDUCTOR_OK`.
#[no_mangle]
pub extern "C" fn konductor_barrier_with(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
    callback: konductor_barrier_callback,
    user_data: *mut c_void,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        let options = options::read(options)?;
        let callback = required(callback)?;
        client.client.with_barrier(name, &options, || callback_status(callback(user_data)))
    }
}
