//! Checks of the pointers and strings C hands in, each failing with its own code.

use std::ffi::{c_char, CStr};
use std::ptr::NonNull;

use crate::panic::{failed, Failed};
use crate::result::konductor_result::*;

/// The value behind a pointer argument that must not be NULL.
///
/// The caller promises the pointer, when not NULL, points to a live `T` for
/// the whole call (the C API's documented contract).
pub(crate) fn reference<'a, T>(ptr: *const T, argument: &str) -> Result<&'a T, Failed> {
    // SAFETY: not NULL, and the C caller guarantees it points to a live T.
    unsafe { ptr.as_ref() }.ok_or_else(|| null(argument))
}

/// A NUL-terminated UTF-8 string argument that must not be NULL.
pub(crate) fn string<'a>(ptr: *const c_char, argument: &str) -> Result<&'a str, Failed> {
    if ptr.is_null() {
        return Err(null(argument));
    }
    // SAFETY: not NULL, and the C caller guarantees a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map_err(|error| {
        failed(
            KONDUCTOR_INVALID_UTF8,
            format!(
                "argument `{argument}` is not valid UTF-8 (invalid byte at offset {})",
                error.valid_up_to()
            ),
        )
    })
}

/// A string argument where NULL means "not given".
pub(crate) fn optional_string<'a>(
    ptr: *const c_char,
    argument: &str,
) -> Result<Option<&'a str>, Failed> {
    if ptr.is_null() {
        Ok(None)
    } else {
        string(ptr, argument).map(Some)
    }
}

/// An out-parameter: checked for NULL before any work, written only on success.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    pub(crate) fn new(ptr: *mut T, argument: &str) -> Result<Out<T>, Failed> {
        NonNull::new(ptr).map(Out).ok_or_else(|| null(argument))
    }

    /// An out-parameter the caller may pass as NULL when it does not want the value.
    pub(crate) fn optional(ptr: *mut T) -> Option<Out<T>> {
        NonNull::new(ptr).map(Out)
    }

    pub(crate) fn write(self, value: T) {
        // SAFETY: not NULL, and the C caller guarantees it points to writable
        // storage for a T. `write` does not read or drop the old contents,
        // which may be uninitialised.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// A count argument (permits, expected arrivals) that must be at least 1.
pub(crate) fn count(value: i32, argument: &str) -> Result<u32, Failed> {
    u32::try_from(value)
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            failed(
                KONDUCTOR_INVALID_COUNT,
                format!("{argument} is {value}: must be at least 1"),
            )
        })
}

fn null(argument: &str) -> Failed {
    failed(
        KONDUCTOR_NULL_ARGUMENT,
        format!("argument `{argument}` is NULL"),
    )
}

/// `&T` from a pointer argument, failing with `KONDUCTOR_NULL_ARGUMENT`
/// naming the argument.
macro_rules! arg_ref {
    ($ptr:ident) => {
        $crate::arguments::reference($ptr, stringify!($ptr))?
    };
}

/// `&str` from a `const char *` argument: NULL and invalid UTF-8 fail.
macro_rules! arg_str {
    ($ptr:ident) => {
        $crate::arguments::string($ptr, stringify!($ptr))?
    };
}

/// `Option<&str>` from a `const char *` argument that may be NULL.
macro_rules! arg_opt_str {
    ($ptr:ident) => {
        $crate::arguments::optional_string($ptr, stringify!($ptr))?
    };
}

/// An [`Out`] for a required out-parameter.
macro_rules! arg_out {
    ($ptr:ident) => {
        $crate::arguments::Out::new($ptr, stringify!($ptr))?
    };
}

pub(crate) use {arg_opt_str, arg_out, arg_ref, arg_str};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_bad_utf8_fail_with_their_codes() {
        let err = string(std::ptr::null(), "name").unwrap_err();
        assert_eq!(err.0, KONDUCTOR_NULL_ARGUMENT);
        let bad = c"ab\xffc";
        let err = string(bad.as_ptr(), "name").unwrap_err();
        assert_eq!(err.0, KONDUCTOR_INVALID_UTF8);
        assert_eq!(string(c"ok".as_ptr(), "name").unwrap(), "ok");
        assert_eq!(optional_string(std::ptr::null(), "holder").unwrap(), None);
    }

    #[test]
    fn counts_below_one_are_invalid() {
        assert_eq!(count(1, "permits").unwrap(), 1);
        assert_eq!(count(0, "permits").unwrap_err().0, KONDUCTOR_INVALID_COUNT);
        assert_eq!(count(-3, "permits").unwrap_err().0, KONDUCTOR_INVALID_COUNT);
    }

    #[test]
    fn out_parameters_are_written_once_checked() {
        let mut slot = 0u64;
        Out::new(&mut slot, "out").unwrap().write(9);
        assert_eq!(slot, 9);
        assert!(Out::<u64>::new(std::ptr::null_mut(), "out").is_err());
        assert!(Out::<u64>::optional(std::ptr::null_mut()).is_none());
    }
}
