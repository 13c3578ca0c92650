//! Running the command of `… run`: signals passed on, its exit status passed through, loss acted on.

use std::ffi::OsString;
use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;

use clap::ValueEnum;
use konductor::CancelToken;
use rustix::process::{kill_process, Pid, Signal};

use crate::exit::{Exit, Failure};
use crate::signals::Signals;

/// How often the command's state and the grant's loss are looked at.
const POLL: Duration = Duration::from_millis(50);

/// What `run` does when the permit or lease is lost while the command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnLost {
    /// Send SIGTERM to the command at once; exit 70 once it ended.
    Terminate,
    /// Let the command finish; exit 70 then.
    Finish,
}

/// How the command ended.
pub struct Ended {
    /// Its exit code, or 128 + the signal that killed it (as shells say it).
    pub status: u8,
    /// True when the grant was lost while it ran.
    pub lost: bool,
}

/// Runs `command` with the extra environment `env` until it exits. A signal
/// to this process is passed on to it; when `lost` is cancelled, `loss` says
/// so on stderr and `on_lost` is applied.
pub fn run(
    command: &[OsString],
    env: &[(&str, String)],
    signals: &Signals,
    lost: Option<(&CancelToken, OnLost, &dyn Fn() -> String)>,
) -> Result<Ended, Failure> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| Failure::usage("no command given after --"))?;
    let shown = program.to_string_lossy();
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .spawn()
        .map_err(|e| match e.kind() {
            ErrorKind::NotFound => Failure::new(
                Exit::CommandNotFound,
                format!("command {shown:?} not found"),
            ),
            _ => Failure::new(Exit::CannotRun, format!("cannot run {shown:?}: {e}")),
        })?;
    signals.forward_to(child.id());
    let mut lost_seen = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                signals.forward_to(0);
                return Err(Failure::new(
                    Exit::CannotRun,
                    format!("cannot wait for {shown:?}: {e}"),
                ));
            }
        }
        let now_lost = match lost {
            Some((token, _, _)) if !lost_seen => token.wait(Some(POLL)),
            _ => {
                std::thread::sleep(POLL);
                false
            }
        };
        if let (true, Some((_, on_lost, loss))) = (now_lost, lost) {
            lost_seen = true;
            eprintln!("konductor: {}", loss());
            if on_lost == OnLost::Terminate {
                eprintln!("konductor: sending SIGTERM to {shown:?}");
                let _ = kill_process(Pid::from_child(&child), Signal::TERM);
            }
        }
    };
    signals.forward_to(0);
    let status = match (status.code(), status.signal()) {
        (Some(code), _) => code as u8,
        (None, Some(signal)) => 128u8.saturating_add(signal as u8),
        (None, None) => Exit::CannotRun.code(),
    };
    Ok(Ended {
        status,
        lost: lost_seen,
    })
}
