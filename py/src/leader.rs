//! Leader election for Python callables: core's `run_as_leader` on a worker
//! thread, with the leader's work run on the calling Python thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use konductor::{Argument, CancelToken};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::options::{seconds, Args};
use crate::worker::{Received, Worker};

/// How often `Leadership.sleep` looks for loss and runs signal handlers.
const STEP: Duration = Duration::from_millis(20);

/// What the leader's work gets: the term's fencing token and a loss signal.
#[pyclass(frozen, module = "konductor._native")]
pub(crate) struct Leadership {
    /// Cancelled by core the moment the lease is lost.
    lost: CancelToken,
    /// Set when the work returned and the lease is being given up.
    ended: AtomicBool,
    token: u64,
    holder: String,
}

#[pymethods]
impl Leadership {
    /// True while this process is still the leader.
    #[getter]
    fn is_leader(&self) -> bool {
        !self.lost.is_cancelled() && !self.ended.load(Ordering::SeqCst)
    }

    /// Fencing token of this term.
    #[getter]
    fn token(&self) -> u64 {
        self.token
    }

    /// Holder identity of the leader (this process).
    #[getter]
    fn holder(&self) -> &str {
        &self.holder
    }

    /// Sleeps `seconds` or until leadership is lost; true if still leader.
    #[pyo3(signature = (seconds_, /))]
    fn sleep(&self, py: Python<'_>, seconds_: f64) -> PyResult<bool> {
        let duration = seconds(py, Argument::Duration, Some(seconds_))?.unwrap_or_default();
        let deadline = Instant::now() + duration;
        loop {
            if !self.is_leader() {
                return Ok(false);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(true);
            }
            py.detach(|| std::thread::sleep(left.min(STEP)));
            py.check_signals()?;
        }
    }
}

/// What the election thread reports.
enum Report {
    /// Leadership was won; the thread waits until the work has ended.
    Elected(Leadership),
    /// `run_as_leader` returned (after stepping down, or without being elected).
    Finished(konductor::Result<()>),
}

/// Waits to be elected leader of `name`, calls `work(leadership)` on this
/// thread, steps down when it returns, and returns its result.
///
/// Errors: the work's exception; else the election's (`LostError` when
/// leadership was lost while the work ran).
pub(crate) fn run_as_leader(
    py: Python<'_>,
    client: &konductor::Client,
    name: String,
    work: &Bound<'_, PyAny>,
    args: Args,
    cancel: Option<&CancelToken>,
) -> PyResult<Py<PyAny>> {
    let (work_ended, wait_for_work) = mpsc::channel::<()>();
    let client = client.clone();
    let mut worker = Worker::spawn(move |token, reports: mpsc::Sender<Report>| {
        let elected = reports.clone();
        let result = client.run_as_leader(&name, &args.options(&token), |leadership| {
            let _ = elected.send(Report::Elected(Leadership {
                lost: leadership.lost_token(),
                ended: AtomicBool::new(false),
                token: leadership.token(),
                holder: leadership.holder().to_owned(),
            }));
            // Returns once the work has ended or the caller stopped waiting.
            let _ = wait_for_work.recv();
        });
        let _ = reports.send(Report::Finished(result));
    })?;

    let leadership = match worker.receive(py, cancel)? {
        Received::Message(Report::Elected(leadership)) => Bound::new(py, leadership)?,
        Received::Message(Report::Finished(result)) => {
            return Err(match result {
                Err(error) => to_py(py, error),
                Ok(()) => {
                    PyRuntimeError::new_err("run_as_leader returned without electing a leader")
                }
            });
        }
        Received::Interrupted(interrupt) => {
            drop(work_ended);
            worker.withdraw(py);
            return Err(interrupt);
        }
    };

    let outcome = work.call1((leadership.clone(),));
    leadership.get().ended.store(true, Ordering::SeqCst);
    drop(work_ended);
    let stepped_down = loop {
        match worker.receive(py, None)? {
            Received::Message(Report::Finished(result)) => break result,
            Received::Message(Report::Elected(_)) => {}
            Received::Interrupted(interrupt) => {
                worker.withdraw(py);
                return Err(interrupt);
            }
        }
    };
    let value = outcome?;
    stepped_down.map_err(|e| to_py(py, e))?;
    Ok(value.unbind())
}
