//! Creating objects: one call per kind, as their specs differ.

use std::ffi::c_char;
use std::time::Duration;

use konductor_core::Argument;

use crate::arguments::count;
use crate::client::{konductor_client, on_object_written};
use crate::gate::{given_conditions, konductor_gate_condition};
use crate::options::{optional_duration, KONDUCTOR_PRIORITY_DEFAULT};
use crate::panic::Failed;
use crate::result::konductor_result;

/// Creates a semaphore with `permits` slots (at least 1) and a default
/// permit TTL (`ttl_ms`, 0 for `KONDUCTOR_DEFAULT_TTL_MS`). Writes the
/// created object as JSON to `*out_json` unless `out_json` is NULL (free it
/// with `konductor_string_free()`). `KONDUCTOR_ALREADY_EXISTS` if the name
/// is taken.
#[no_mangle]
pub extern "C" fn konductor_client_create_semaphore(
    client: *const konductor_client,
    name: *const c_char,
    permits: i32,
    ttl_ms: i64,
    out_json: *mut *mut c_char,
) -> konductor_result {
    on_object_written(client, name, out_json, |client, name| {
        let permits = count(Argument::Permits, permits)?;
        let ttl = optional_duration(Argument::Ttl, ttl_ms)?;
        Ok(client.create_semaphore(name, permits, ttl)?)
    })
}

/// Creates a lease with a default TTL (`ttl_ms`, 0 for
/// `KONDUCTOR_DEFAULT_TTL_MS`) and a default acquirer priority
/// (`KONDUCTOR_PRIORITY_DEFAULT` for none). Writes the created object as
/// JSON to `*out_json` unless `out_json` is NULL (free it with
/// `konductor_string_free()`). `KONDUCTOR_ALREADY_EXISTS` if the name is
/// taken.
#[no_mangle]
pub extern "C" fn konductor_client_create_lease(
    client: *const konductor_client,
    name: *const c_char,
    ttl_ms: i64,
    priority: i32,
    out_json: *mut *mut c_char,
) -> konductor_result {
    on_object_written(client, name, out_json, |client, name| {
        let (ttl, priority) = ttl_and_priority(ttl_ms, priority)?;
        Ok(client.create_lease(name, ttl, priority)?)
    })
}

/// Creates a mutex with a default lock TTL (`ttl_ms`, 0 for
/// `KONDUCTOR_DEFAULT_TTL_MS`) and a default locker priority
/// (`KONDUCTOR_PRIORITY_DEFAULT` for none). Lock it with
/// `konductor_client_acquire(client, KONDUCTOR_KIND_MUTEX, ...)` (or
/// `_try_acquire`, which fails with `KONDUCTOR_LOCKED`). Writes the created
/// object as JSON to `*out_json` unless `out_json` is NULL (free it with
/// `konductor_string_free()`). `KONDUCTOR_ALREADY_EXISTS` if the name is
/// taken.
#[no_mangle]
pub extern "C" fn konductor_client_create_mutex(
    client: *const konductor_client,
    name: *const c_char,
    ttl_ms: i64,
    priority: i32,
    out_json: *mut *mut c_char,
) -> konductor_result {
    on_object_written(client, name, out_json, |client, name| {
        let (ttl, priority) = ttl_and_priority(ttl_ms, priority)?;
        Ok(client.create_mutex(name, ttl, priority)?)
    })
}

/// Creates a wait group whose counter starts at `expected` (0 to 2,000;
/// raise it with `konductor_client_add_waitgroup()`), deleted by the
/// operator `ttl_ms` after its counter reached zero (0: never). Writes the
/// created object as JSON to `*out_json` unless `out_json` is NULL (free it
/// with `konductor_string_free()`). `KONDUCTOR_ALREADY_EXISTS` if the name
/// is taken.
#[no_mangle]
pub extern "C" fn konductor_client_create_waitgroup(
    client: *const konductor_client,
    name: *const c_char,
    expected: i32,
    ttl_ms: i64,
    out_json: *mut *mut c_char,
) -> konductor_result {
    on_object_written(client, name, out_json, |client, name| {
        let expected = count(Argument::Expected, expected)?;
        let ttl = optional_duration(Argument::Ttl, ttl_ms)?;
        Ok(client.create_waitgroup(name, expected, ttl)?)
    })
}

/// Creates a barrier that opens after `expected` arrivals (at least 1), or
/// after `quorum` arrivals when `quorum` is not 0 (at most `expected`), and
/// fails if still closed `timeout_ms` after creation (0: never). Writes the
/// created object as JSON to `*out_json` unless `out_json` is NULL (free it
/// with `konductor_string_free()`). `KONDUCTOR_ALREADY_EXISTS` if the name
/// is taken.
#[no_mangle]
pub extern "C" fn konductor_client_create_barrier(
    client: *const konductor_client,
    name: *const c_char,
    expected: i32,
    quorum: i32,
    timeout_ms: i64,
    out_json: *mut *mut c_char,
) -> konductor_result {
    on_object_written(client, name, out_json, |client, name| {
        let expected = count(Argument::Expected, expected)?;
        let quorum = match quorum {
            0 => None,
            quorum => Some(count(Argument::Quorum, quorum)?),
        };
        let timeout = optional_duration(Argument::Timeout, timeout_ms)?;
        Ok(client.create_barrier(name, expected, quorum, timeout)?)
    })
}

/// Creates a gate that opens once all `conditions_len` conditions hold (as
/// evaluated by the operator), and fails if still closed `timeout_ms` after
/// creation (0: never). `conditions` may be NULL when `conditions_len` is 0.
/// Writes the created object as JSON to `*out_json` unless `out_json` is
/// NULL (free it with `konductor_string_free()`). `KONDUCTOR_ALREADY_EXISTS`
/// if the name is taken.
#[no_mangle]
pub extern "C" fn konductor_client_create_gate(
    client: *const konductor_client,
    name: *const c_char,
    conditions: *const konductor_gate_condition,
    conditions_len: usize,
    timeout_ms: i64,
    out_json: *mut *mut c_char,
) -> konductor_result {
    on_object_written(client, name, out_json, |client, name| {
        let conditions = given_conditions(conditions, conditions_len)?;
        let timeout = optional_duration(Argument::Timeout, timeout_ms)?;
        Ok(client.create_gate(name, conditions, timeout)?)
    })
}

/// The default TTL (0: none, the client default) and priority
/// (`KONDUCTOR_PRIORITY_DEFAULT`: none) of a create call, checked.
pub(crate) fn ttl_and_priority(
    ttl_ms: i64,
    priority: i32,
) -> Result<(Option<Duration>, Option<i32>), Failed> {
    let ttl = optional_duration(Argument::Ttl, ttl_ms)?;
    Ok((
        ttl,
        (priority != KONDUCTOR_PRIORITY_DEFAULT).then_some(priority),
    ))
}
