//! Checks of the pointers and strings C hands in, each failing with its own code.

use std::ffi::{c_char, CStr};
use std::ptr::NonNull;

use konductor_core::{Argument, Error};

use crate::panic::{failed, ffi_boundary, Failed};
use crate::result::konductor_result::{self, *};

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

/// A count argument (permits, expected arrivals, quorum) as core takes it:
/// a negative one is rejected here as core would reject zero, which core
/// checks itself (it knows where zero means "none").
pub(crate) fn count(argument: Argument, value: i32) -> Result<u32, Error> {
    u32::try_from(value).map_err(|_| Error::Invalid {
        argument,
        value: value.to_string(),
        reason: "must be at least 1".to_owned(),
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

/// The whole body of an accessor: checks the handle and the out-parameter
/// (failing with `KONDUCTOR_NULL_ARGUMENT` naming them) and writes what
/// `read` takes from the handle.
pub(crate) fn access<H, T>(
    handle: *const H,
    handle_argument: &str,
    out: *mut T,
    out_argument: &str,
    read: impl FnOnce(&H) -> T,
) -> konductor_result {
    ffi_boundary! {
        let handle = reference(handle, handle_argument)?;
        Out::new(out, out_argument)?.write(read(handle));
        Ok(())
    }
}

/// [`access`] naming the arguments after the variables:
/// `accessor!(held, out_token, |held| held.token())`.
macro_rules! accessor {
    ($handle:ident, $out:ident, $read:expr) => {
        $crate::arguments::access($handle, stringify!($handle), $out, stringify!($out), $read)
    };
}

pub(crate) use {accessor, arg_opt_str, arg_out, arg_ref, arg_str};

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
    fn negative_counts_are_invalid_and_name_their_argument() {
        assert_eq!(count(Argument::Permits, 1).unwrap(), 1);
        assert_eq!(count(Argument::Permits, 0).unwrap(), 0);
        let err = count(Argument::Expected, -3).unwrap_err();
        assert!(
            matches!(&err, Error::Invalid { argument: Argument::Expected, value, .. } if value == "-3"),
            "got {err:?}"
        );
        assert_eq!(konductor_result::from(&err), KONDUCTOR_INVALID_COUNT);
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
