//! The `Failed` error of a barrier or gate that can no longer open, taken apart for assertions.

use std::fmt::Debug;

use konductor::{Error, Result};

/// The message of the `Failed` error that `result` must be, for the object `kind`/`name`; panics when it is anything else.
pub fn failed_message<T: Debug>(result: Result<T>, kind: &str, name: &str) -> String {
    match result {
        Err(Error::Failed {
            kind: failed_kind,
            name: failed_name,
            message,
        }) if failed_kind == kind && failed_name == name => message,
        other => panic!("expected Failed for {kind} {name}, got {other:?}"),
    }
}
