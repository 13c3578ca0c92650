//! Onces: work that runs in exactly one caller across the cluster.

use std::ffi::{c_char, c_int, c_void};
use std::fmt;

use konductor_core::resource::OnFailure;
use konductor_core::{Argument, Error};

use crate::arguments::arg_out;
use crate::callback::callback_arguments;
use crate::client::{konductor_client, on_object, on_object_written};
use crate::options::{konductor_options, optional_duration};
use crate::panic::failed;
use crate::result::konductor_result::{self, *};

/// The work of `konductor_client_do_once()`: gets the run's fencing token
/// and the `user_data` given. Returns 0 when the work is done; any other
/// value records the run as failed ("the callback returned N"). Must not
/// unwind or `longjmp` out.
pub type konductor_once_callback =
    Option<extern "C" fn(token: u64, user_data: *mut c_void) -> c_int>;

/// Creates a once whose runs last `ttl_ms` unrenewed (0 for
/// `KONDUCTOR_DEFAULT_TTL_MS`; the executor renews while it runs). After a
/// failed run every later caller gets `KONDUCTOR_FAILED`, unless
/// `retry_failed` is true: then the next caller runs the work again. Writes
/// the created object as JSON to `*out_json` unless `out_json` is NULL
/// (free it with `konductor_string_free()`). `KONDUCTOR_ALREADY_EXISTS` if
/// the name is taken.
#[no_mangle]
pub extern "C" fn konductor_client_create_once(
    client: *const konductor_client,
    name: *const c_char,
    ttl_ms: i64,
    retry_failed: bool,
    out_json: *mut *mut c_char,
) -> konductor_result {
    on_object_written(client, name, out_json, |client, name| {
        let ttl = optional_duration(Argument::Ttl, ttl_ms)?;
        let on_failure = retry_failed.then_some(OnFailure::Retry);
        Ok(client.create_once(name, ttl, on_failure)?)
    })
}

/// Runs `callback(token, user_data)` in exactly one caller of once `name`
/// across the cluster; every other caller waits (up to `options`' timeout)
/// until it finished. `*out_ran` (unless NULL) says whether this caller ran
/// it. The executor holds the once while the callback runs, renewed in the
/// background; if it dies, the next caller runs the callback after the TTL.
///
/// Returns `KONDUCTOR_OK` when the work is done (here or elsewhere);
/// `KONDUCTOR_CALLBACK_FAILED` when this caller's callback returned non-zero
/// (recorded as the once's failure unless the run was lost meanwhile); `KONDUCTOR_FAILED` when a recorded
/// failure is final (`konductor_last_error()` has the executor's message);
/// `KONDUCTOR_LOST` when this executor lost the once while the callback ran;
/// `KONDUCTOR_TIMEOUT`, `KONDUCTOR_CANCELLED`, `KONDUCTOR_NOT_FOUND`.
#[no_mangle]
pub extern "C" fn konductor_client_do_once(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
    callback: konductor_once_callback,
    user_data: *mut c_void,
    out_ran: *mut bool,
) -> konductor_result {
    on_object(client, name, |client, name| {
        let (options, callback) = callback_arguments(options, callback)?;
        let ran = client.do_once(name, &options, |run| {
            match callback(run.token(), user_data) {
                0 => Ok(()),
                status => Err(Work::Callback(status)),
            }
        });
        let ran = match ran {
            Ok(ran) => ran.is_some(),
            Err(Work::Core(error)) => return Err(error.into()),
            Err(Work::Callback(status)) => {
                return Err(failed(
                    KONDUCTOR_CALLBACK_FAILED,
                    format!("the callback returned {status}"),
                ))
            }
        };
        if !out_ran.is_null() {
            arg_out!(out_ran).write(ran);
        }
        Ok(())
    })
}

/// Why the work of a once did not finish: the core's error or the callback's.
enum Work {
    Core(Error),
    Callback(c_int),
}

impl From<Error> for Work {
    fn from(error: Error) -> Work {
        Work::Core(error)
    }
}

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Work::Core(error) => write!(f, "{error}"),
            Work::Callback(status) => write!(f, "the callback returned {status}"),
        }
    }
}
