//! SIGINT, SIGTERM and SIGHUP: they end a wait cleanly, and reach the child of `run`.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::thread;

use konductor::CancelToken;
use rustix::process::Signal;
use rustix::process::{kill_process, Pid};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::exit::Failure;

/// The signals received so far and where they go: a wait's cancel token,
/// and the running child once there is one.
#[derive(Clone)]
pub struct Signals {
    received: Arc<AtomicI32>,
    child: Arc<AtomicI32>,
    cancel: CancelToken,
}

impl Signals {
    /// Takes over SIGINT, SIGTERM and SIGHUP for this process: from now on
    /// they cancel [`Signals::cancel`] and are passed to the child, if any.
    pub fn install() -> Result<Signals, Failure> {
        let mut incoming =
            signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]).map_err(|e| {
                Failure::new(
                    crate::exit::Exit::Server,
                    format!("cannot handle signals: {e}"),
                )
            })?;
        let signals = Signals {
            received: Arc::new(AtomicI32::new(0)),
            child: Arc::new(AtomicI32::new(0)),
            cancel: CancelToken::new(),
        };
        let handler = signals.clone();
        thread::Builder::new()
            .name("konductor-signals".to_owned())
            .spawn(move || {
                for signal in incoming.forever() {
                    handler.received.store(signal, Ordering::SeqCst);
                    handler.cancel.cancel();
                    handler.pass_on(signal);
                }
            })
            .map_err(|e| {
                Failure::new(
                    crate::exit::Exit::Server,
                    format!("cannot handle signals: {e}"),
                )
            })?;
        Ok(signals)
    }

    /// Cancelled at the first signal: give it to waits.
    pub fn cancel(&self) -> &CancelToken {
        &self.cancel
    }

    /// The last signal received, if any.
    pub fn received(&self) -> Option<i32> {
        Some(self.received.load(Ordering::SeqCst)).filter(|&s| s != 0)
    }

    /// Passes later signals to the process `pid` (0: to nobody). A signal
    /// that came before the child existed is passed on now.
    pub fn forward_to(&self, pid: u32) {
        self.child.store(pid as i32, Ordering::SeqCst);
        if let Some(signal) = self.received() {
            self.pass_on(signal);
        }
    }

    /// Sends `signal` to the child, if there is one.
    pub fn pass_on(&self, signal: i32) {
        let pid = Pid::from_raw(self.child.load(Ordering::SeqCst));
        if let (Some(pid), Some(signal)) = (pid, Signal::from_named_raw(signal)) {
            // The child may have exited just now: nothing to tell then.
            let _ = kill_process(pid, signal);
        }
    }
}
