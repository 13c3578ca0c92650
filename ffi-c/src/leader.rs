//! Leader election: run a callback while holding a lease, and learn when leadership is lost.

use std::ffi::{c_char, c_void, CString};

use konductor_core::{duration_from_millis, Argument, Leadership};

use crate::arguments::{accessor, arg_out, arg_ref};
use crate::callback::{callback_arguments, callback_status, konductor_leader_callback};
use crate::cancel::konductor_cancel;
use crate::client::{konductor_client, on_object};
use crate::handle::Handle;
use crate::options::konductor_options;
use crate::panic::ffi_boundary;
use crate::result::konductor_result;
use crate::strings::borrowable;

/// What the leader's callback gets: the fencing token, the holder identity
/// and the loss signal. Borrowed for the callback's duration only.
pub struct konductor_leadership {
    /// The `Leadership` of the running `run_as_leader` call, type-erased
    /// because it borrows from that call's stack frame.
    leadership: *const c_void,
    holder: CString,
}

impl konductor_leadership {
    fn get(&self) -> &Leadership<'_> {
        // SAFETY: `leadership` points to the Leadership that
        // konductor_client_run_as_leader keeps alive while the callback runs,
        // and C may use this handle only during the callback.
        unsafe { &*self.leadership.cast::<Leadership<'_>>() }
    }
}

/// Waits to become leader of lease `name` (acquiring it with automatic
/// renewal, whatever `options.auto_renew` says), runs
/// `callback(leadership, user_data)` while leader, then steps down. If the
/// lease could not be renewed in time, leadership is lost before anyone else
/// can be granted it, and this returns `KONDUCTOR_LOST` after the callback
/// returned. Otherwise the acquire error, else `KONDUCTOR_CALLBACK_FAILED`
/// for a non-zero callback result, else the release error, else `KONDUCTOR_OK`.
#[no_mangle]
pub extern "C" fn konductor_client_run_as_leader(
    client: *const konductor_client,
    name: *const c_char,
    options: *const konductor_options,
    callback: konductor_leader_callback,
    user_data: *mut c_void,
) -> konductor_result {
    on_object(client, name, |client, name| {
        let (options, callback) = callback_arguments(options, callback)?;
        let status = client.run_as_leader(name, &options, |leadership| {
            let handle = konductor_leadership {
                leadership: (leadership as *const Leadership<'_>).cast(),
                holder: borrowable(leadership.holder()),
            };
            callback(&handle, user_data)
        })?;
        callback_status(status)
    })
}

/// Writes true while this process is still the leader.
#[no_mangle]
pub extern "C" fn konductor_leadership_is_leader(
    leadership: *const konductor_leadership,
    out_leader: *mut bool,
) -> konductor_result {
    accessor!(leadership, out_leader, |leadership| leadership
        .get()
        .is_leader())
}

/// Writes the fencing token of this term: larger than every earlier leader's.
#[no_mangle]
pub extern "C" fn konductor_leadership_token(
    leadership: *const konductor_leadership,
    out_token: *mut u64,
) -> konductor_result {
    accessor!(leadership, out_token, |leadership| leadership.get().token())
}

/// Writes the leader's holder identity (this process). The string lives as
/// long as the callback runs.
#[no_mangle]
pub extern "C" fn konductor_leadership_holder(
    leadership: *const konductor_leadership,
    out_holder: *mut *const c_char,
) -> konductor_result {
    accessor!(leadership, out_holder, |leadership| leadership
        .holder
        .as_ptr())
}

/// Sleeps `ms` milliseconds or until leadership is lost, whichever comes
/// first, and writes whether this process is still the leader.
/// `KONDUCTOR_INVALID_DURATION` for a negative `ms`.
#[no_mangle]
pub extern "C" fn konductor_leadership_sleep(
    leadership: *const konductor_leadership,
    ms: i64,
    out_leader: *mut bool,
) -> konductor_result {
    ffi_boundary! {
        let leadership = arg_ref!(leadership);
        let out = arg_out!(out_leader);
        let duration = duration_from_millis(Argument::Duration, ms)?;
        out.write(leadership.get().sleep(duration));
        Ok(())
    }
}

/// Creates a cancel handle that triggers the moment leadership is lost; pass
/// it to waits the leader's work makes. Free it with `konductor_cancel_free()`;
/// it may outlive the callback.
#[no_mangle]
pub extern "C" fn konductor_leadership_lost_cancel(
    leadership: *const konductor_leadership,
    out_cancel: *mut *mut konductor_cancel,
) -> konductor_result {
    accessor!(leadership, out_cancel, |leadership| {
        konductor_cancel::new(leadership.get().lost_token()).into_raw()
    })
}
