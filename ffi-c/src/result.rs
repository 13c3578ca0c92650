//! The result code every fallible call returns, and the mapping from core errors to it.

use std::ffi::{c_char, CStr};

use konductor_core::{Argument, Error};

use crate::panic::ffi_boundary_or;

/// What a call did. `KONDUCTOR_OK` is 0; errors come in bands: 1xx the
/// arguments were rejected before any request, 2xx coordination outcomes,
/// 3xx the API server refused, 4xx transport or configuration, 5xx the
/// caller's callback, 9xx a bug inside the library. Numbers never change
/// meaning; retired numbers stay reserved.
///
/// `konductor_last_error()` has the detail of the latest failure.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum konductor_result {
    /// Success.
    KONDUCTOR_OK = 0,
    /// A pointer argument that must not be NULL was NULL.
    KONDUCTOR_NULL_ARGUMENT = 100,
    /// A string argument was not valid UTF-8.
    KONDUCTOR_INVALID_UTF8 = 101,
    /// An object name is not an RFC 1123 subdomain (empty, too long, bad characters).
    KONDUCTOR_INVALID_NAME = 102,
    /// A namespace is not an RFC 1123 label.
    KONDUCTOR_INVALID_NAMESPACE = 103,
    /// A holder identity is empty, longer than 253 bytes, or contains whitespace.
    KONDUCTOR_INVALID_HOLDER = 104,
    /// A count (permits, expected, quorum, a wait group's add) is zero,
    /// negative, inconsistent or past its cap.
    KONDUCTOR_INVALID_COUNT = 105,
    /// A duration is negative, too short (TTL under 100 ms) or malformed.
    KONDUCTOR_INVALID_DURATION = 106,
    /// The options' `struct_size` is smaller than the first version of
    /// `konductor_options` or absurdly large: not set by `konductor_options_init()`.
    KONDUCTOR_INVALID_OPTIONS = 107,
    /// Another argument was rejected, e.g. a number that is no
    /// `konductor_kind`, a kind the call does not apply to, or an unknown
    /// gate condition kind.
    KONDUCTOR_INVALID_ARGUMENT = 108,
    /// The named object does not exist.
    KONDUCTOR_NOT_FOUND = 200,
    /// This holder already holds, or is already queued for, the object.
    KONDUCTOR_ALREADY_HELD = 201,
    /// The lease is held by someone else (try-acquire, or a zero timeout).
    KONDUCTOR_LEASE_HELD = 202,
    /// The wait ran out of time; also a try-acquire that found no free permit.
    KONDUCTOR_TIMEOUT = 203,
    /// The wait was cancelled through a `konductor_cancel`.
    KONDUCTOR_CANCELLED = 204,
    /// The permit or lease is no longer held: it expired or was taken away.
    KONDUCTOR_LOST = 205,
    /// The barrier or gate failed (for example its timeout passed).
    KONDUCTOR_FAILED = 206,
    /// The mutex is locked by someone else (try-lock, or a zero timeout).
    KONDUCTOR_LOCKED = 207,
    /// A wait group's done would take its counter below zero: more holders
    /// called done than were added.
    KONDUCTOR_BELOW_ZERO = 208,
    /// The API server refused the request for lack of permission (HTTP 403).
    KONDUCTOR_FORBIDDEN = 300,
    /// The API server did not accept the credentials (HTTP 401).
    KONDUCTOR_UNAUTHORIZED = 301,
    /// Any other error answer of the API server; see `konductor_last_error_status()`.
    KONDUCTOR_API = 302,
    /// The object to create exists already (HTTP 409 AlreadyExists).
    KONDUCTOR_ALREADY_EXISTS = 303,
    /// No HTTP answer: connection, TLS, timeout or an unreadable body.
    KONDUCTOR_TRANSPORT = 400,
    /// The configuration could not be loaded (kubeconfig, in-cluster files, exec plugin).
    KONDUCTOR_CONFIG = 401,
    /// The callback given to a `_with` call returned non-zero.
    KONDUCTOR_CALLBACK_FAILED = 500,
    /// A bug: the library panicked. The call had no effect or an unknown one.
    KONDUCTOR_PANIC = 900,
    /// A bug: the core library reported an error kind this version does not know.
    KONDUCTOR_INTERNAL = 901,
}

use konductor_result::*;

impl konductor_result {
    /// Every code, in numeric order.
    pub(crate) const ALL: [konductor_result; 28] = [
        KONDUCTOR_OK,
        KONDUCTOR_NULL_ARGUMENT,
        KONDUCTOR_INVALID_UTF8,
        KONDUCTOR_INVALID_NAME,
        KONDUCTOR_INVALID_NAMESPACE,
        KONDUCTOR_INVALID_HOLDER,
        KONDUCTOR_INVALID_COUNT,
        KONDUCTOR_INVALID_DURATION,
        KONDUCTOR_INVALID_OPTIONS,
        KONDUCTOR_INVALID_ARGUMENT,
        KONDUCTOR_NOT_FOUND,
        KONDUCTOR_ALREADY_HELD,
        KONDUCTOR_LEASE_HELD,
        KONDUCTOR_TIMEOUT,
        KONDUCTOR_CANCELLED,
        KONDUCTOR_LOST,
        KONDUCTOR_FAILED,
        KONDUCTOR_LOCKED,
        KONDUCTOR_BELOW_ZERO,
        KONDUCTOR_FORBIDDEN,
        KONDUCTOR_UNAUTHORIZED,
        KONDUCTOR_API,
        KONDUCTOR_ALREADY_EXISTS,
        KONDUCTOR_TRANSPORT,
        KONDUCTOR_CONFIG,
        KONDUCTOR_CALLBACK_FAILED,
        KONDUCTOR_PANIC,
        KONDUCTOR_INTERNAL,
    ];

    /// The code for a number, if it is one.
    pub(crate) fn from_u32(code: u32) -> Option<konductor_result> {
        Self::ALL.into_iter().find(|r| *r as u32 == code)
    }

    /// The constant's name, NUL-terminated.
    fn name(self) -> &'static CStr {
        match self {
            KONDUCTOR_OK => c"KONDUCTOR_OK",
            KONDUCTOR_NULL_ARGUMENT => c"KONDUCTOR_NULL_ARGUMENT",
            KONDUCTOR_INVALID_UTF8 => c"KONDUCTOR_INVALID_UTF8",
            KONDUCTOR_INVALID_NAME => c"KONDUCTOR_INVALID_NAME",
            KONDUCTOR_INVALID_NAMESPACE => c"KONDUCTOR_INVALID_NAMESPACE",
            KONDUCTOR_INVALID_HOLDER => c"KONDUCTOR_INVALID_HOLDER",
            KONDUCTOR_INVALID_COUNT => c"KONDUCTOR_INVALID_COUNT",
            KONDUCTOR_INVALID_DURATION => c"KONDUCTOR_INVALID_DURATION",
            KONDUCTOR_INVALID_OPTIONS => c"KONDUCTOR_INVALID_OPTIONS",
            KONDUCTOR_INVALID_ARGUMENT => c"KONDUCTOR_INVALID_ARGUMENT",
            KONDUCTOR_NOT_FOUND => c"KONDUCTOR_NOT_FOUND",
            KONDUCTOR_ALREADY_HELD => c"KONDUCTOR_ALREADY_HELD",
            KONDUCTOR_LEASE_HELD => c"KONDUCTOR_LEASE_HELD",
            KONDUCTOR_TIMEOUT => c"KONDUCTOR_TIMEOUT",
            KONDUCTOR_CANCELLED => c"KONDUCTOR_CANCELLED",
            KONDUCTOR_LOST => c"KONDUCTOR_LOST",
            KONDUCTOR_FAILED => c"KONDUCTOR_FAILED",
            KONDUCTOR_LOCKED => c"KONDUCTOR_LOCKED",
            KONDUCTOR_BELOW_ZERO => c"KONDUCTOR_BELOW_ZERO",
            KONDUCTOR_FORBIDDEN => c"KONDUCTOR_FORBIDDEN",
            KONDUCTOR_UNAUTHORIZED => c"KONDUCTOR_UNAUTHORIZED",
            KONDUCTOR_API => c"KONDUCTOR_API",
            KONDUCTOR_ALREADY_EXISTS => c"KONDUCTOR_ALREADY_EXISTS",
            KONDUCTOR_TRANSPORT => c"KONDUCTOR_TRANSPORT",
            KONDUCTOR_CONFIG => c"KONDUCTOR_CONFIG",
            KONDUCTOR_CALLBACK_FAILED => c"KONDUCTOR_CALLBACK_FAILED",
            KONDUCTOR_PANIC => c"KONDUCTOR_PANIC",
            KONDUCTOR_INTERNAL => c"KONDUCTOR_INTERNAL",
        }
    }

    /// A one-line description, NUL-terminated.
    fn message(self) -> &'static CStr {
        match self {
            KONDUCTOR_OK => c"success",
            KONDUCTOR_NULL_ARGUMENT => c"a required pointer argument was NULL",
            KONDUCTOR_INVALID_UTF8 => c"a string argument was not valid UTF-8",
            KONDUCTOR_INVALID_NAME => c"invalid object name (must be an RFC 1123 subdomain)",
            KONDUCTOR_INVALID_NAMESPACE => c"invalid namespace (must be an RFC 1123 label)",
            KONDUCTOR_INVALID_HOLDER => c"invalid holder identity",
            KONDUCTOR_INVALID_COUNT => c"invalid count (must be at least 1)",
            KONDUCTOR_INVALID_DURATION => c"invalid duration",
            KONDUCTOR_INVALID_OPTIONS => {
                c"invalid options (struct_size not set by konductor_options_init)"
            }
            KONDUCTOR_INVALID_ARGUMENT => c"invalid argument",
            KONDUCTOR_NOT_FOUND => c"object not found",
            KONDUCTOR_ALREADY_HELD => c"this holder already holds or waits for the object",
            KONDUCTOR_LEASE_HELD => c"the lease is held by someone else",
            KONDUCTOR_TIMEOUT => c"timed out",
            KONDUCTOR_CANCELLED => c"cancelled",
            KONDUCTOR_LOST => c"the permit or lease is no longer held",
            KONDUCTOR_FAILED => c"the barrier or gate failed",
            KONDUCTOR_LOCKED => c"the mutex is locked by someone else",
            KONDUCTOR_BELOW_ZERO => c"the wait group's counter would go below zero",
            KONDUCTOR_FORBIDDEN => c"forbidden by the API server",
            KONDUCTOR_UNAUTHORIZED => c"unauthorized: the API server rejected the credentials",
            KONDUCTOR_API => c"the API server returned an error",
            KONDUCTOR_ALREADY_EXISTS => c"the object already exists",
            KONDUCTOR_TRANSPORT => c"failed to talk to the API server",
            KONDUCTOR_CONFIG => c"invalid configuration",
            KONDUCTOR_CALLBACK_FAILED => c"the callback returned non-zero",
            KONDUCTOR_PANIC => c"internal error: the library panicked",
            KONDUCTOR_INTERNAL => c"internal error: unknown error kind",
        }
    }
}

impl From<&Error> for konductor_result {
    fn from(error: &Error) -> konductor_result {
        match error {
            Error::NotFound { .. } => KONDUCTOR_NOT_FOUND,
            Error::AlreadyHeld { .. } => KONDUCTOR_ALREADY_HELD,
            Error::LeaseHeld { .. } => KONDUCTOR_LEASE_HELD,
            Error::Locked { .. } => KONDUCTOR_LOCKED,
            Error::BelowZero { .. } => KONDUCTOR_BELOW_ZERO,
            Error::Timeout { .. } => KONDUCTOR_TIMEOUT,
            Error::Cancelled { .. } => KONDUCTOR_CANCELLED,
            Error::Lost { .. } => KONDUCTOR_LOST,
            Error::Failed { .. } => KONDUCTOR_FAILED,
            Error::Forbidden(_) => KONDUCTOR_FORBIDDEN,
            Error::Unauthorized(_) => KONDUCTOR_UNAUTHORIZED,
            Error::AlreadyExists { .. } => KONDUCTOR_ALREADY_EXISTS,
            Error::Api(_) => KONDUCTOR_API,
            Error::Invalid { argument, .. } => match argument {
                Argument::Name | Argument::ConditionName => KONDUCTOR_INVALID_NAME,
                Argument::Namespace => KONDUCTOR_INVALID_NAMESPACE,
                Argument::Holder => KONDUCTOR_INVALID_HOLDER,
                Argument::Permits | Argument::Expected | Argument::Quorum | Argument::Count => {
                    KONDUCTOR_INVALID_COUNT
                }
                Argument::Duration | Argument::Ttl | Argument::Timeout => {
                    KONDUCTOR_INVALID_DURATION
                }
                _ => KONDUCTOR_INVALID_ARGUMENT,
            },
            Error::Transport { .. } => KONDUCTOR_TRANSPORT,
            Error::Config { .. } => KONDUCTOR_CONFIG,
            _ => KONDUCTOR_INTERNAL,
        }
    }
}

/// The name of a result code's constant, e.g. `"KONDUCTOR_TIMEOUT"`; for a
/// number that is no code, `"KONDUCTOR_UNKNOWN_RESULT"`. Static storage:
/// never free it.
#[no_mangle]
pub extern "C" fn konductor_result_name(result: u32) -> *const c_char {
    ffi_boundary_or!(c"KONDUCTOR_UNKNOWN_RESULT".as_ptr(), {
        match konductor_result::from_u32(result) {
            Some(known) => known.name().as_ptr(),
            None => c"KONDUCTOR_UNKNOWN_RESULT".as_ptr(),
        }
    })
}

/// A one-line English description of a result code (a generic one for a
/// number that is no code). Static storage: never free it. For the details
/// of the latest failure use `konductor_last_error()`.
#[no_mangle]
pub extern "C" fn konductor_result_message(result: u32) -> *const c_char {
    ffi_boundary_or!(c"unknown result code".as_ptr(), {
        match konductor_result::from_u32(result) {
            Some(known) => known.message().as_ptr(),
            None => c"unknown result code".as_ptr(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use konductor_core::ApiStatus;

    #[test]
    fn every_code_round_trips_and_has_its_own_name() {
        let mut names = std::collections::HashSet::new();
        for code in konductor_result::ALL {
            assert_eq!(konductor_result::from_u32(code as u32), Some(code));
            let name = code.name().to_str().unwrap();
            assert_eq!(format!("{code:?}"), name, "name() must match the constant");
            assert!(names.insert(name), "duplicate name {name}");
            assert!(!code.message().is_empty());
        }
        assert!(konductor_result::ALL
            .windows(2)
            .all(|w| (w[0] as u32) < (w[1] as u32)));
        assert_eq!(konductor_result::from_u32(1), None);
    }

    #[test]
    fn unknown_numbers_get_a_placeholder_name() {
        let name = unsafe { CStr::from_ptr(konductor_result_name(12345)) };
        assert_eq!(name, c"KONDUCTOR_UNKNOWN_RESULT");
        let name = unsafe { CStr::from_ptr(konductor_result_name(203)) };
        assert_eq!(name, c"KONDUCTOR_TIMEOUT");
    }

    #[test]
    fn invalid_errors_map_by_argument() {
        let invalid = |argument| Error::Invalid {
            argument,
            value: String::new(),
            reason: String::new(),
        };
        assert_eq!(
            konductor_result::from(&invalid(Argument::Name)),
            KONDUCTOR_INVALID_NAME
        );
        assert_eq!(
            konductor_result::from(&invalid(Argument::Permits)),
            KONDUCTOR_INVALID_COUNT
        );
        assert_eq!(
            konductor_result::from(&invalid(Argument::Ttl)),
            KONDUCTOR_INVALID_DURATION
        );
        assert_eq!(
            konductor_result::from(&invalid(Argument::Holder)),
            KONDUCTOR_INVALID_HOLDER
        );
        assert_eq!(
            konductor_result::from(&invalid(Argument::Other)),
            KONDUCTOR_INVALID_ARGUMENT
        );
    }

    #[test]
    fn already_exists_is_told_apart_from_other_conflicts() {
        let exists = Error::AlreadyExists {
            kind: "Semaphore",
            namespace: "ns".to_owned(),
            name: "s".to_owned(),
        };
        assert_eq!(konductor_result::from(&exists), KONDUCTOR_ALREADY_EXISTS);
        let api = |code, reason: &str| {
            Error::Api(Box::new(ApiStatus {
                code,
                reason: reason.to_owned(),
                ..ApiStatus::default()
            }))
        };
        assert_eq!(
            konductor_result::from(&api(409, "AlreadyExists")),
            KONDUCTOR_API
        );
        assert_eq!(konductor_result::from(&api(409, "Conflict")), KONDUCTOR_API);
        assert_eq!(konductor_result::from(&api(422, "Invalid")), KONDUCTOR_API);
    }
}
