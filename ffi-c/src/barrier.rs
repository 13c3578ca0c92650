//! Barriers: recording an arrival, and running work once enough holders arrived.

use std::ffi::{c_char, c_void};

use crate::callback::{callback_arguments, callback_status, konductor_barrier_callback};
use crate::client::{konductor_client, on_object, on_object_written};
use crate::options::{self, konductor_options};
use crate::result::konductor_result;

/// Records the arrival of `options.holder` at barrier `name` (idempotent per
/// holder; NULL options or holder: a generated identity). The arrival that
/// reaches the threshold opens the barrier. Writes the barrier as written to
/// `*out_json` unless `out_json` is NULL. `KONDUCTOR_FAILED` if the barrier
/// already failed. `konductor_client_wait()` waits until it opens.
#[no_mangle]
pub extern "C" fn konductor_client_arrive_barrier(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
    out_json: *mut *mut c_char,
) -> konductor_result {
    on_object_written(client, name, out_json, |client, name| {
        Ok(client.arrive_barrier(name, &options::read(options)?)?)
    })
}

/// Arrives at barrier `name`, waits until it opens, then runs
/// `callback(user_data)`: every participant starts its work only once all
/// expected holders are there. Returns the arrive or wait error, else
/// `KONDUCTOR_CALLBACK_FAILED` if the callback returned non-zero, else
/// `KONDUCTOR_OK`.
#[no_mangle]
pub extern "C" fn konductor_client_with_barrier(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
    callback: konductor_barrier_callback,
    user_data: *mut c_void,
) -> konductor_result {
    on_object(client, name, |client, name| {
        let (options, callback) = callback_arguments(options, callback)?;
        client.with_barrier(name, &options, || callback_status(callback(user_data)))
    })
}
