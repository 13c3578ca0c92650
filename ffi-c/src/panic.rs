//! The panic boundary every exported function runs inside: no unwinding into C.

use std::any::Any;

use crate::last_error::{fail, fail_with};
use crate::result::konductor_result;

/// A failure whose message is already in the thread's last error; the `Err`
/// of every exported body.
#[derive(Debug)]
pub(crate) struct Failed(pub(crate) konductor_result);

impl From<konductor_core::Error> for Failed {
    fn from(error: konductor_core::Error) -> Failed {
        Failed(fail_with(&error))
    }
}

/// Fails with `code` and `message` (recorded as the last error).
pub(crate) fn failed(code: konductor_result, message: impl Into<String>) -> Failed {
    Failed(fail(code, message))
}

/// Records a caught panic as the last error.
pub(crate) fn panicked(payload: Box<dyn Any + Send>) -> konductor_result {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned());
    fail(
        konductor_result::KONDUCTOR_PANIC,
        format!("libkonductor panicked (please report this bug): {message}"),
    )
}

/// Runs the body of a fallible exported function: clears the thread's last
/// error, runs `body` (a block evaluating to `Result<(), Failed>`, in which
/// `?` works on core errors and argument checks), and turns the outcome or
/// a panic into a `konductor_result`.
macro_rules! ffi_boundary {
    ($($body:tt)*) => {{
        $crate::last_error::clear();
        let outcome = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(
            || -> ::std::result::Result<(), $crate::panic::Failed> { $($body)* },
        ));
        match outcome {
            Ok(Ok(())) => $crate::result::konductor_result::KONDUCTOR_OK,
            Ok(Err($crate::panic::Failed(code))) => code,
            Err(payload) => $crate::panic::panicked(payload),
        }
    }};
}

/// Runs the body of an infallible exported function (a `_free`, or a getter
/// that cannot fail): a panic is recorded as the last error and `$on_panic`
/// returned instead. The last error is left alone otherwise.
macro_rules! ffi_boundary_or {
    ($on_panic:expr, $($body:tt)*) => {{
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($body)* })) {
            Ok(value) => value,
            Err(payload) => {
                $crate::panic::panicked(payload);
                $on_panic
            }
        }
    }};
}

pub(crate) use {ffi_boundary, ffi_boundary_or};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::konductor_result::*;
    use std::ffi::CStr;

    fn last_error() -> String {
        let message = unsafe { CStr::from_ptr(crate::last_error::konductor_last_error()) };
        message.to_string_lossy().into_owned()
    }

    fn exploding(explode: bool) -> konductor_result {
        ffi_boundary! {
            if explode {
                panic!("boom {}", 42);
            }
            Ok(())
        }
    }

    #[test]
    fn a_panic_becomes_the_panic_code_with_its_message() {
        assert_eq!(exploding(true), KONDUCTOR_PANIC);
        assert!(last_error().contains("boom 42"), "got {:?}", last_error());
        assert_eq!(exploding(false), KONDUCTOR_OK);
        assert_eq!(last_error(), "", "a successful call clears the last error");
    }

    #[test]
    fn core_errors_pass_through_question_mark() {
        let code = ffi_boundary! {
            konductor_core::validate_name("Not A Name")?;
            Ok(())
        };
        assert_eq!(code, KONDUCTOR_INVALID_NAME);
        assert!(
            last_error().contains("Not A Name"),
            "got {:?}",
            last_error()
        );
    }

    #[test]
    fn infallible_bodies_return_the_fallback_on_panic() {
        let value: i32 = ffi_boundary_or!(-1, {
            if last_error().is_empty() {
                panic!("static str payload");
            }
            7
        });
        assert_eq!(value, -1);
        assert!(last_error().contains("static str payload"));
    }
}
