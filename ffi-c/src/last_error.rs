//! The calling thread's last error: its message and HTTP status, kept until the next call.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

use konductor_core::Error;

use crate::panic::ffi_boundary_or;
use crate::result::konductor_result;

struct LastError {
    message: CString,
    status: u16,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError {
        message: CString::default(),
        status: 0,
    });
}

fn store(message: String, status: u16) {
    // Interior NULs would cut the message short in C; show them instead.
    let message = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    // `try_with`: during thread teardown the slot may be gone; the code still
    // tells the caller what happened.
    let _ = LAST_ERROR.try_with(|last| *last.borrow_mut() = LastError { message, status });
}

/// Forgets the last error, at the start of every fallible call.
pub(crate) fn clear() {
    let _ = LAST_ERROR.try_with(|last| {
        let mut last = last.borrow_mut();
        if !last.message.is_empty() || last.status != 0 {
            *last = LastError {
                message: CString::default(),
                status: 0,
            };
        }
    });
}

/// Records `message` and returns `code`, for failures found by this crate.
pub(crate) fn fail(code: konductor_result, message: impl Into<String>) -> konductor_result {
    store(message.into(), 0);
    code
}

/// Records a core error (its message and the chain of causes, as core
/// formats them for every binding) and returns its code.
pub(crate) fn fail_with(error: &Error) -> konductor_result {
    store(error.chain(), error.status_code().unwrap_or(0));
    konductor_result::from(error)
}

/// The message of the latest failed call on this thread, or `""` when the
/// latest call succeeded. For API server errors it includes the server's
/// message. The pointer stays valid until the next `konductor_` call on
/// this thread; copy the text to keep it. Never NULL; never free it.
#[no_mangle]
pub extern "C" fn konductor_last_error() -> *const c_char {
    ffi_boundary_or!(c"".as_ptr(), {
        LAST_ERROR
            .try_with(|last| last.borrow().message.as_ptr())
            .unwrap_or(c"".as_ptr())
    })
}

/// The HTTP status code of the latest failed call on this thread when the
/// API server answered it (e.g. 403, 404, 409, 422); 0 otherwise.
#[no_mangle]
pub extern "C" fn konductor_last_error_status() -> u16 {
    ffi_boundary_or!(0, {
        LAST_ERROR
            .try_with(|last| last.borrow().status)
            .unwrap_or(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn message() -> String {
        unsafe { CStr::from_ptr(konductor_last_error()) }
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn a_failure_is_kept_until_cleared() {
        assert_eq!(message(), "");
        let code = fail(
            konductor_result::KONDUCTOR_NULL_ARGUMENT,
            "argument `name` is NULL",
        );
        assert_eq!(code, konductor_result::KONDUCTOR_NULL_ARGUMENT);
        assert_eq!(message(), "argument `name` is NULL");
        clear();
        assert_eq!(message(), "");
    }

    #[test]
    fn api_errors_keep_the_server_message_and_status() {
        let error = Error::Forbidden(Box::new(konductor_core::ApiStatus {
            code: 403,
            reason: "Forbidden".to_owned(),
            message: "semaphores is forbidden: User \"worker\" cannot list".to_owned(),
            body: String::new(),
        }));
        assert_eq!(fail_with(&error), konductor_result::KONDUCTOR_FORBIDDEN);
        assert!(
            message().contains("User \"worker\" cannot list"),
            "{}",
            message()
        );
        assert_eq!(konductor_last_error_status(), 403);
    }

    #[test]
    fn interior_nuls_do_not_truncate_the_message() {
        fail(konductor_result::KONDUCTOR_INVALID_NAME, "a\0b");
        assert_eq!(message(), "a\\0b");
    }

    #[test]
    fn the_last_error_is_per_thread() {
        fail(konductor_result::KONDUCTOR_TIMEOUT, "here");
        std::thread::spawn(|| assert_eq!(message(), ""))
            .join()
            .unwrap();
        assert_eq!(message(), "here");
    }
}
