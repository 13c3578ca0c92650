//! The callbacks of the `_with` calls, and what their return values mean.

use std::ffi::{c_int, c_void};

use konductor_core::Options;

use crate::held::konductor_held;
use crate::leader::konductor_leadership;
use crate::options::{self, konductor_options};
use crate::panic::{failed, Failed};
use crate::result::konductor_result::*;

/// Work run while a permit or lease is held, by `konductor_client_with()`.
/// Gets the held handle (borrowed for the call: do not free or release it)
/// and the `user_data` given. Returns 0 on success; any other value makes
/// the call return `KONDUCTOR_CALLBACK_FAILED`. Must not unwind or
/// `longjmp` out.
pub type konductor_held_callback =
    Option<extern "C" fn(held: *const konductor_held, user_data: *mut c_void) -> c_int>;

/// Work run once a barrier opened, by `konductor_client_with_barrier()`.
/// Gets the `user_data` given. Returns 0 on success; any other value makes
/// the call return `KONDUCTOR_CALLBACK_FAILED`. Must not unwind or
/// `longjmp` out.
pub type konductor_barrier_callback = Option<extern "C" fn(user_data: *mut c_void) -> c_int>;

/// Work run while leader. Gets the leadership (borrowed for the call) and
/// the `user_data` given. Must return promptly once leadership is lost
/// (`konductor_leadership_sleep()` returns false, the lost cancel handle
/// triggers). Returns 0 on success; any other value makes
/// `konductor_client_run_as_leader()` return `KONDUCTOR_CALLBACK_FAILED`.
/// Must not unwind or `longjmp` out.
pub type konductor_leader_callback =
    Option<extern "C" fn(leadership: *const konductor_leadership, user_data: *mut c_void) -> c_int>;

/// The options and the callback of a call that runs a callback, read from
/// their arguments: `options` NULL means defaults, `callback` must not be
/// NULL.
pub(crate) fn callback_arguments<F>(
    options: *const konductor_options,
    callback: Option<F>,
) -> Result<(Options, F), Failed> {
    let options = options::read(options)?;
    let callback =
        callback.ok_or_else(|| failed(KONDUCTOR_NULL_ARGUMENT, "argument `callback` is NULL"))?;
    Ok((options, callback))
}

/// `KONDUCTOR_CALLBACK_FAILED` for a non-zero callback result.
pub(crate) fn callback_status(status: c_int) -> Result<(), Failed> {
    if status == 0 {
        return Ok(());
    }
    Err(failed(
        KONDUCTOR_CALLBACK_FAILED,
        format!("the callback returned {status}"),
    ))
}
