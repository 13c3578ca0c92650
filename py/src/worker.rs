//! Blocking core calls run on a worker thread while the calling Python thread
//! waits with the GIL released, so other threads run and Ctrl-C is noticed.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use konductor::CancelToken;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::errors::to_py;

/// How often a waiting thread runs Python's signal handlers (Ctrl-C latency).
const STEP: Duration = Duration::from_millis(50);

/// How long an interrupted call may take to withdraw (leave the queue, give
/// back a grant that raced with the interrupt) before the caller stops
/// waiting for it. The worker still withdraws after that; it is only no
/// longer waited for.
const WITHDRAW_GRACE: Duration = Duration::from_secs(10);

/// A worker thread running core calls, and the channel it reports on.
pub(crate) struct Worker<M> {
    /// Taken out while the GIL is released: a receiver cannot be shared.
    messages: Option<Receiver<M>>,
    /// Cancels the worker's waits; fired on interrupt or by the caller's token.
    token: CancelToken,
}

/// What the waiting thread saw.
pub(crate) enum Received<M> {
    /// The worker sent this.
    Message(M),
    /// A signal handler raised (usually KeyboardInterrupt); the worker's
    /// token is cancelled.
    Interrupted(PyErr),
}

impl<M: Send + 'static> Worker<M> {
    /// Starts `work` on a new thread with the token to pass to core waits
    /// and the sender to report on. Messages the caller no longer receives
    /// are dropped on the worker thread, which releases any grant in them.
    pub(crate) fn spawn(
        work: impl FnOnce(CancelToken, Sender<M>) + Send + 'static,
    ) -> PyResult<Worker<M>> {
        let (sender, messages) = mpsc::channel();
        let token = CancelToken::new();
        let worker_token = token.clone();
        thread::Builder::new()
            .name("konductor-call".to_owned())
            .spawn(move || work(worker_token, sender))
            .map_err(|e| {
                PyRuntimeError::new_err(format!("failed to start a konductor worker thread: {e}"))
            })?;
        Ok(Worker {
            messages: Some(messages),
            token,
        })
    }

    /// Waits for the next message with the GIL released, running signal
    /// handlers every [`STEP`] and forwarding the caller's `cancel` token.
    pub(crate) fn receive(
        &mut self,
        py: Python<'_>,
        cancel: Option<&CancelToken>,
    ) -> PyResult<Received<M>> {
        loop {
            let Some(messages) = self.messages.take() else {
                return Err(PyRuntimeError::new_err(
                    "a konductor worker was waited for after it finished",
                ));
            };
            let (messages, next) = py.detach(move || {
                let next = messages.recv_timeout(STEP);
                (messages, next)
            });
            self.messages = Some(messages);
            match next {
                Ok(message) => return Ok(Received::Message(message)),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(PyRuntimeError::new_err(
                        "a konductor worker thread stopped without an answer",
                    ))
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            if let Err(interrupt) = py.check_signals() {
                self.token.cancel();
                return Ok(Received::Interrupted(interrupt));
            }
            if cancel.is_some_and(CancelToken::is_cancelled) && !self.token.is_cancelled() {
                self.token.cancel();
            }
        }
    }

    /// Cancels the worker and waits (GIL released, up to [`WITHDRAW_GRACE`])
    /// until it has finished, dropping what it still sends.
    pub(crate) fn withdraw(self, py: Python<'_>) {
        self.token.cancel();
        let Some(messages) = self.messages else {
            return;
        };
        py.detach(move || {
            let deadline = Instant::now() + WITHDRAW_GRACE;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match messages.recv_timeout(left) {
                    Ok(message) => drop(message),
                    Err(_) => return,
                }
            }
        });
    }
}

/// What an interrupted call does with its worker.
#[derive(Clone, Copy)]
pub(crate) enum OnInterrupt {
    /// Cancel it and wait until it withdrew (acquire and wait calls), so
    /// that nothing stays held or queued when KeyboardInterrupt reaches the
    /// caller.
    Withdraw,
    /// Leave it to finish in the background (reads, creates, deletes).
    Abandon,
}

/// Runs one core call interruptibly and maps its error.
pub(crate) fn run<T: Send + 'static>(
    py: Python<'_>,
    cancel: Option<&CancelToken>,
    on_interrupt: OnInterrupt,
    call: impl FnOnce(&CancelToken) -> konductor::Result<T> + Send + 'static,
) -> PyResult<T> {
    let mut worker = Worker::spawn(move |token, sender| {
        let _ = sender.send(call(&token));
    })?;
    match worker.receive(py, cancel)? {
        Received::Message(result) => result.map_err(|e| to_py(py, e)),
        Received::Interrupted(interrupt) => {
            if let OnInterrupt::Withdraw = on_interrupt {
                worker.withdraw(py);
            }
            Err(interrupt)
        }
    }
}
