//! Wait groups: raising the counter and reporting done; waiting for zero is
//! `konductor_client_wait()` with `KONDUCTOR_KIND_WAITGROUP`.

use std::ffi::c_char;

use konductor_core::Argument;

use crate::client::{konductor_client, on_object_written};
use crate::options::{self, konductor_options};
use crate::result::konductor_result;

/// Raises the counter of wait group `name` by `count` (1 to 2,000), once
/// even if the write is retried after a lost answer. `options` may be NULL
/// (its timeout and cancel bound the call). Writes the wait group as
/// written to `*out_json` unless `out_json` is NULL (free it with
/// `konductor_string_free()`). `KONDUCTOR_INVALID_COUNT` for a count out of
/// range or one that would take the group's total (expected plus every add)
/// past 2,000.
#[no_mangle]
pub extern "C" fn konductor_client_add_waitgroup(
    client: *const konductor_client,
    name: *const c_char,
    count: i32,
    options: *const konductor_options,
    out_json: *mut *mut c_char,
) -> konductor_result {
    on_object_written(client, name, out_json, |client, name| {
        let added = crate::arguments::count(Argument::Count, count)?;
        Ok(client.add_waitgroup(name, added, &options::read(options)?)?)
    })
}

/// Lowers the counter of wait group `name` by one for `options.holder`
/// (NULL options or holder: a generated identity), once per holder: a
/// holder that already called done counts nothing and succeeds, so a
/// retry cannot release waiters early. Writes the wait group as written to
/// `*out_json` unless `out_json` is NULL (free it with
/// `konductor_string_free()`). `KONDUCTOR_BELOW_ZERO` if the counter is
/// already zero.
#[no_mangle]
pub extern "C" fn konductor_client_done_waitgroup(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
    out_json: *mut *mut c_char,
) -> konductor_result {
    on_object_written(client, name, out_json, |client, name| {
        Ok(client.done_waitgroup(name, &options::read(options)?)?)
    })
}
