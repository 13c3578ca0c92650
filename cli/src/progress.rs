//! A progress line on a terminal while a command waits: what for, the queue position, the time so far.

use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How often the line is redrawn.
const TICK: Duration = Duration::from_secs(1);

/// How often `detail` (a request, usually) is asked again.
const DETAIL_EVERY: u32 = 3;

/// The line being shown; dropping it stops and erases it.
pub struct Progress {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Shows "waiting for `what`" on stderr when stderr is a terminal (else
    /// nothing), with `detail` (e.g. the queue position) asked every few seconds.
    pub fn start(what: String, detail: impl Fn() -> Option<String> + Send + 'static) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress {
                stop: None,
                thread: None,
            };
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("konductor-progress".to_owned())
            .spawn(move || {
                let started = Instant::now();
                let mut known = None;
                let mut tick = 0u32;
                loop {
                    if tick % DETAIL_EVERY == 0 {
                        known = detail();
                    }
                    tick += 1;
                    let elapsed = crate::output::human(started.elapsed());
                    let line = match &known {
                        Some(detail) => format!("waiting for {what} ({detail}), {elapsed}"),
                        None => format!("waiting for {what}, {elapsed}"),
                    };
                    let mut err = std::io::stderr().lock();
                    let _ = write!(err, "\r\x1b[K{line}");
                    let _ = err.flush();
                    drop(err);
                    match stopped.recv_timeout(TICK) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => break,
                    }
                }
                let _ = write!(std::io::stderr(), "\r\x1b[K");
            })
            .ok();
        Progress {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
