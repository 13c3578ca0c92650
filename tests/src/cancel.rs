//! Cancelling a blocked wait from another thread, and how promptly it returns.

use std::fmt::Debug;
use std::thread;
use std::time::{Duration, Instant};

use konductor::{CancelToken, Error};

use crate::wait::ms;

/// How soon a cancelled wait must return.
pub const PROMPTLY: Duration = Duration::from_secs(1);

/// Runs `wait` on another thread with a fresh token, calls `until_waiting`
/// (which returns once the wait is under way), cancels the token, and returns
/// the `Cancelled` error; panics when the wait returned anything else or
/// returned later than [`PROMPTLY`] after the cancel.
pub fn cancel_while_waiting<T: Debug + Send + 'static>(
    what: &str,
    wait: impl FnOnce(&CancelToken) -> konductor::Result<T> + Send + 'static,
    until_waiting: impl FnOnce(),
) -> Error {
    let cancel = CancelToken::new();
    let waiter = {
        let cancel = cancel.clone();
        thread::spawn(move || {
            let result = wait(&cancel);
            (result, Instant::now())
        })
    };
    until_waiting();
    let cancelled_at = Instant::now();
    cancel.cancel();
    let (result, returned_at) = waiter.join().expect("waiter thread");
    let delay = returned_at - cancelled_at;
    println!("cancelled {what} returned after {:.1} ms", ms(delay));
    let error = match result {
        Err(error @ Error::Cancelled { .. }) => error,
        other => panic!("expected Cancelled from {what}, got {other:?}"),
    };
    assert!(
        delay < PROMPTLY,
        "expected {what} to return within {PROMPTLY:?} of cancel, took {delay:?}"
    );
    error
}
