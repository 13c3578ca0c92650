//! Exit codes: one per kind of failure, and the failure that carries one.

use std::fmt;

use konductor::Error;

/// How `konductor` exits. `run` commands pass the command's own status
/// through instead; these codes are in a band that commands rarely use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// `gate check`: the gate is not open.
    Closed = 1,
    /// Bad flags, arguments or values (names, durations, counts).
    Usage = 64,
    /// The object does not exist.
    NotFound = 65,
    /// The object to create exists already.
    AlreadyExists = 66,
    /// No free permit now, or the lease or mutex is held by another holder.
    Busy = 67,
    /// The holder already holds (or waits for) the object.
    AlreadyHeld = 68,
    /// The wait ran out of time (`--timeout`).
    Timeout = 69,
    /// The permit or lease was lost, or the holder holds nothing to renew or release.
    Lost = 70,
    /// The barrier or gate failed (its timeout passed).
    Failed = 71,
    /// The API server refused the credentials or the request (401, 403).
    Denied = 72,
    /// A wait group's done found its counter at zero.
    BelowZero = 75,
    /// The kubeconfig or context cannot be used.
    Config = 73,
    /// The API server could not be reached or answered with an error.
    Server = 74,
    /// The command could not be started (not executable).
    CannotRun = 126,
    /// The command was not found.
    CommandNotFound = 127,
}

/// Every code with the line `--help` and the README give it, in order.
pub const TABLE: [(Exit, &str); 16] = [
    (
        Exit::Ok,
        "success (run: the command's own exit status is passed through)",
    ),
    (Exit::Closed, "gate check: the gate is not open"),
    (Exit::Usage, "bad flags, arguments or values"),
    (Exit::NotFound, "the object does not exist"),
    (Exit::AlreadyExists, "the object to create exists already"),
    (
        Exit::Busy,
        "no free permit now, or the lease or mutex is held by another holder",
    ),
    (
        Exit::AlreadyHeld,
        "this holder already holds or waits for the object",
    ),
    (Exit::Timeout, "the wait ran out of time (--timeout)"),
    (
        Exit::Lost,
        "the permit or lease was lost, or the holder holds nothing there",
    ),
    (Exit::Failed, "the barrier or gate failed"),
    (
        Exit::Denied,
        "the API server refused the credentials or the request",
    ),
    (Exit::Config, "the kubeconfig or context cannot be used"),
    (
        Exit::Server,
        "the API server could not be reached or answered with an error",
    ),
    (
        Exit::BelowZero,
        "waitgroup done: the counter is already zero",
    ),
    (Exit::CannotRun, "the command could not be started"),
    (Exit::CommandNotFound, "the command was not found"),
];

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// The exit codes as `--help` lists them.
pub fn help() -> String {
    let mut text = String::from("Exit codes:\n");
    for (exit, meaning) in TABLE {
        text.push_str(&format!("  {:>3}  {meaning}\n", exit.code()));
    }
    text.push_str("  128+N  interrupted by signal N while waiting (130 SIGINT, 143 SIGTERM)");
    text
}

/// A failure: what to print on one line and how to exit.
#[derive(Debug)]
pub struct Failure {
    /// The exit status: an [`Exit`] code, or 128 + a signal's number.
    pub code: u8,
    /// The message, without the program name.
    pub message: String,
}

impl Failure {
    /// A failure with its own message.
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            code: exit.code(),
            message: message.into(),
        }
    }

    /// A wait ended by signal `signal`: the shell's 128 + its number.
    pub fn interrupted(signal: i32, what: &str) -> Failure {
        Failure {
            code: 128u8.saturating_add(signal.clamp(0, 127) as u8),
            message: format!("interrupted by signal {signal} while {what}"),
        }
    }

    /// A bad argument or value.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(Exit::Usage, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The exit code of a client error.
pub fn exit_of(error: &Error) -> Exit {
    match error {
        Error::NotFound { .. } => Exit::NotFound,
        Error::AlreadyExists { .. } => Exit::AlreadyExists,
        Error::AlreadyHeld { .. } => Exit::AlreadyHeld,
        Error::LeaseHeld { .. } | Error::Locked { .. } => Exit::Busy,
        Error::Timeout { .. } => Exit::Timeout,
        Error::Lost { .. } => Exit::Lost,
        Error::Failed { .. } => Exit::Failed,
        Error::BelowZero { .. } => Exit::BelowZero,
        Error::Forbidden(_) | Error::Unauthorized(_) => Exit::Denied,
        Error::Invalid { .. } => Exit::Usage,
        Error::Config { .. } => Exit::Config,
        _ => Exit::Server,
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::new(exit_of(&error), error.chain())
    }
}

/// What a command returns: its exit status, or the failure to report.
pub type Outcome = Result<u8, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_code_is_distinct_and_listed_once() {
        let mut codes: Vec<u8> = TABLE.iter().map(|(e, _)| e.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), TABLE.len(), "duplicate codes in {TABLE:?}");
    }

    #[test]
    fn the_readme_lists_every_exit_code() {
        let readme = include_str!("../README.md");
        for (exit, meaning) in TABLE {
            let row = format!("| {} | {meaning} |", exit.code());
            assert!(readme.contains(&row), "README.md lacks the row {row:?}");
        }
    }
}
