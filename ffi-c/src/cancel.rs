//! `konductor_cancel`: interrupts blocking waits from another thread.

use konductor_core::CancelToken;

use crate::arguments::{accessor, arg_out, arg_ref};
use crate::handle::{self, Handle};
use crate::panic::{ffi_boundary, ffi_boundary_or};
use crate::result::konductor_result;

/// A cancel handle. Put it in `konductor_options.cancel`; calling
/// `konductor_cancel_trigger()` from any thread makes every wait using it
/// return `KONDUCTOR_CANCELLED` promptly, leaving nothing held or queued.
/// A triggered handle stays triggered. Thread-safe; free it with
/// `konductor_cancel_free()` once no call uses it any more.
pub struct konductor_cancel {
    pub(crate) token: CancelToken,
}

impl Handle for konductor_cancel {}

impl konductor_cancel {
    pub(crate) fn new(token: CancelToken) -> konductor_cancel {
        konductor_cancel { token }
    }
}

/// Creates a cancel handle that is not triggered yet, in `*out_cancel`.
#[no_mangle]
pub extern "C" fn konductor_cancel_new(out_cancel: *mut *mut konductor_cancel) -> konductor_result {
    ffi_boundary! {
        let out = arg_out!(out_cancel);
        out.write(konductor_cancel::new(CancelToken::new()).into_raw());
        Ok(())
    }
}

/// Triggers the handle: current and future waits using it return
/// `KONDUCTOR_CANCELLED`. Safe to call from any thread, any number of times.
#[no_mangle]
pub extern "C" fn konductor_cancel_trigger(cancel: *const konductor_cancel) -> konductor_result {
    ffi_boundary! {
        arg_ref!(cancel).token.cancel();
        Ok(())
    }
}

/// Writes whether the handle was triggered (or, for a handle from
/// `konductor_held_lost_cancel()`, whether the permit or lease was lost).
#[no_mangle]
pub extern "C" fn konductor_cancel_is_triggered(
    cancel: *const konductor_cancel,
    out_triggered: *mut bool,
) -> konductor_result {
    accessor!(cancel, out_triggered, |cancel| cancel.token.is_cancelled())
}

/// Frees a cancel handle. NULL is ignored. No call may still be using it.
#[no_mangle]
pub extern "C" fn konductor_cancel_free(cancel: *mut konductor_cancel) {
    ffi_boundary_or!((), handle::free(cancel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::konductor_result::*;

    #[test]
    fn triggering_is_seen_from_other_threads() {
        let mut cancel = std::ptr::null_mut();
        assert_eq!(konductor_cancel_new(&mut cancel), KONDUCTOR_OK);
        let mut triggered = true;
        assert_eq!(
            konductor_cancel_is_triggered(cancel, &mut triggered),
            KONDUCTOR_OK
        );
        assert!(!triggered);
        let address = cancel as usize;
        std::thread::spawn(move || konductor_cancel_trigger(address as *const konductor_cancel))
            .join()
            .unwrap();
        assert_eq!(
            konductor_cancel_is_triggered(cancel, &mut triggered),
            KONDUCTOR_OK
        );
        assert!(triggered);
        konductor_cancel_free(cancel);
        konductor_cancel_free(std::ptr::null_mut());
    }

    #[test]
    fn null_handles_are_rejected() {
        assert_eq!(
            konductor_cancel_trigger(std::ptr::null()),
            KONDUCTOR_NULL_ARGUMENT
        );
        assert_eq!(
            konductor_cancel_new(std::ptr::null_mut()),
            KONDUCTOR_NULL_ARGUMENT
        );
    }
}
