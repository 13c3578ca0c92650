//! A blocking call run on a thread of its own, with its own handle on the client, so that the test can act while it waits.

use std::thread::{self, JoinHandle};
use std::time::Instant;

use konductor::Client;

/// Runs `wait` with a clone of `client` on a new thread; joining the handle gives its result.
pub fn spawn_waiter<T: Send + 'static>(
    client: &Client,
    wait: impl FnOnce(Client) -> T + Send + 'static,
) -> JoinHandle<T> {
    let client = client.clone();
    thread::spawn(move || wait(client))
}

/// Like [`spawn_waiter`], and joining gives the instant `wait` returned with its result.
pub fn spawn_timed_waiter<T: Send + 'static>(
    client: &Client,
    wait: impl FnOnce(Client) -> T + Send + 'static,
) -> JoinHandle<(T, Instant)> {
    spawn_waiter(client, |client| {
        let result = wait(client);
        (result, Instant::now())
    })
}
