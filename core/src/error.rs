//! The one error type of the crate, with kinds that callers branch on.

use std::fmt;

/// Everything that can go wrong in Konductor.
///
/// Match on the variant to decide what to do: [`Error::Timeout`],
/// [`Error::LeaseHeld`] and [`Error::Locked`] are expected outcomes of contention, [`Error::Invalid`]
/// is a bug in the caller's input, [`Error::BelowZero`] a wait group's
/// `done` with nothing left to count, [`Error::Api`] carries the API server's
/// answer whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The named object does not exist.
    #[error("{kind} {namespace}/{name} not found")]
    NotFound {
        /// Kind of the object, e.g. `Semaphore`.
        kind: &'static str,
        /// Namespace that was searched.
        namespace: String,
        /// Name that was not found.
        name: String,
    },
    /// This holder already holds (or is already queued for) the object.
    #[error("holder {holder:?} already holds {kind} {name}")]
    AlreadyHeld {
        /// Kind of the object.
        kind: &'static str,
        /// Name of the object.
        name: String,
        /// The holder identity that is already present.
        holder: String,
    },
    /// The lease is held by someone else (returned by try-acquire).
    #[error("lease {name} is held by {holder:?}")]
    LeaseHeld {
        /// Name of the lease.
        name: String,
        /// The current holder.
        holder: String,
    },
    /// The mutex is locked by someone else (returned by try-lock).
    #[error("{kind} {name} is locked by {holder:?}")]
    Locked {
        /// Kind of the object, e.g. `Mutex`.
        kind: &'static str,
        /// Name of the object.
        name: String,
        /// The current holder.
        holder: String,
    },
    /// A wait group's `done` would take its counter below zero: more
    /// holders called done than were added.
    #[error("done by holder {holder:?} would take {kind} {name} below zero (counter {counter}, {done} holders done)")]
    BelowZero {
        /// Kind of the object, e.g. `WaitGroup`.
        kind: &'static str,
        /// Name of the object.
        name: String,
        /// The holder whose done did not count.
        holder: String,
        /// The counter it found (0).
        counter: u32,
        /// How many holders had called done already.
        done: u32,
    },
    /// The wait ran out of time before it succeeded.
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        /// What was being waited for, e.g. `semaphore api-quota`.
        what: String,
        /// How long the caller waited.
        waited: std::time::Duration,
    },
    /// The operation was cancelled through a [`crate::CancelToken`].
    #[error("cancelled while waiting for {what}")]
    Cancelled {
        /// What was being waited for.
        what: String,
    },
    /// The permit or lease is no longer held by this holder: it expired
    /// before it could be renewed, or it was taken away.
    #[error("{kind} {name} is no longer held by {holder:?}: {reason}")]
    Lost {
        /// Kind of the object.
        kind: &'static str,
        /// Name of the object.
        name: String,
        /// The holder that lost it.
        holder: String,
        /// Why it was lost.
        reason: String,
    },
    /// The object to create exists already (HTTP 409 `AlreadyExists`).
    #[error("{kind} {namespace}/{name} already exists")]
    AlreadyExists {
        /// Kind of the object, e.g. `Semaphore`.
        kind: &'static str,
        /// Namespace of the object.
        namespace: String,
        /// Name that is taken.
        name: String,
    },
    /// A barrier or gate reached phase `Failed` (for example its timeout passed).
    #[error("{kind} {name} failed: {message}")]
    Failed {
        /// Kind of the object.
        kind: &'static str,
        /// Name of the object.
        name: String,
        /// The reason recorded in the object's status.
        message: String,
    },
    /// The API server refused the request for lack of permission (HTTP 403).
    #[error("forbidden: {0}")]
    Forbidden(Box<ApiStatus>),
    /// The API server did not accept the credentials (HTTP 401).
    #[error("unauthorized: {0}")]
    Unauthorized(Box<ApiStatus>),
    /// An argument was rejected: before any request was made, or (a wait
    /// group's `add` past [`crate::resource::MAX_WAITGROUP_COUNT`]) against
    /// the object's current state, without writing it.
    #[error("invalid {argument} {value:?}: {reason}")]
    Invalid {
        /// Which argument.
        argument: Argument,
        /// The rejected value, as given.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Any other error answer from the API server, kept whole.
    #[error("API server error: {0}")]
    Api(Box<ApiStatus>),
    /// The request did not get an HTTP answer (connection, TLS, timeout, bad body).
    #[error("failed to talk to the API server: {message}")]
    Transport {
        /// What failed.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Configuration could not be loaded (kubeconfig, in-cluster files, exec plugin).
    #[error("invalid configuration: {message}")]
    Config {
        /// What is wrong, naming the file and field.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// The argument an [`Error::Invalid`] rejected, so that callers and bindings
/// can branch on it (C maps it to a result code, Python to an attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Argument {
    /// An object name (RFC 1123 subdomain).
    Name,
    /// The name of an object a gate condition refers to.
    ConditionName,
    /// A namespace (RFC 1123 label).
    Namespace,
    /// A holder identity.
    Holder,
    /// A semaphore's number of permits.
    Permits,
    /// A barrier's expected number of arrivals.
    Expected,
    /// A barrier's quorum.
    Quorum,
    /// How much a wait group's `add` raises its counter (or its initial count).
    Count,
    /// A time-to-live of a permit, lease or object.
    Ttl,
    /// How long a call may wait.
    Timeout,
    /// A duration given as text (`30s`, `1h30m`).
    Duration,
    /// Any other argument.
    Other,
}

impl Argument {
    /// The argument's name as messages spell it, e.g. `condition name`.
    pub fn as_str(self) -> &'static str {
        match self {
            Argument::Name => "name",
            Argument::ConditionName => "condition name",
            Argument::Namespace => "namespace",
            Argument::Holder => "holder",
            Argument::Permits => "permits",
            Argument::Expected => "expected",
            Argument::Quorum => "quorum",
            Argument::Count => "count",
            Argument::Ttl => "ttl",
            Argument::Timeout => "timeout",
            Argument::Duration => "duration",
            Argument::Other => "argument",
        }
    }
}

impl fmt::Display for Argument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Kubernetes `Status` answer: the HTTP code and what the server said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiStatus {
    /// HTTP status code.
    pub code: u16,
    /// Machine-readable reason, e.g. `Conflict`, `AlreadyExists`, `Invalid`.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// The response body as received (a `Status` object in JSON, usually).
    pub body: String,
}

impl fmt::Display for ApiStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}

impl ApiStatus {
    /// Builds a status from an HTTP code and the response body.
    pub fn from_body(code: u16, body: &str) -> ApiStatus {
        let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
        let field = |k: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        ApiStatus {
            code,
            reason: field("reason").unwrap_or_default(),
            message: field("message").unwrap_or_else(|| body.chars().take(500).collect()),
            body: body.to_owned(),
        }
    }
}

impl Error {
    /// The HTTP status code, for errors that came from the API server.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            Error::Forbidden(s) | Error::Unauthorized(s) | Error::Api(s) => Some(s.code),
            Error::NotFound { .. } => Some(404),
            Error::AlreadyExists { .. } => Some(409),
            _ => None,
        }
    }

    /// The message followed by every source not already part of it, e.g.
    /// `failed to talk to the API server: connect: connection refused`: what
    /// the bindings show as one line.
    pub fn chain(&self) -> String {
        let mut message = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        message
    }

    pub(crate) fn invalid(
        argument: Argument,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Error {
        Error::Invalid {
            argument,
            value: value.into(),
            reason: reason.into(),
        }
    }

    /// A barrier's or gate's failure, with its recorded reason (or a generic one).
    pub(crate) fn failed(kind: &'static str, name: &str, message: &str) -> Error {
        Error::Failed {
            kind,
            name: name.to_owned(),
            message: if message.is_empty() {
                format!("the {} failed", kind.to_lowercase())
            } else {
                message.to_owned()
            },
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::Config {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn config_with(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Config {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn transport(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Transport {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// Maps a non-success HTTP answer to the matching error kind.
    pub(crate) fn from_status(status: ApiStatus) -> Error {
        match status.code {
            401 => Error::Unauthorized(Box::new(status)),
            403 => Error::Forbidden(Box::new(status)),
            _ => Error::Api(Box::new(status)),
        }
    }

    /// True for failures worth another try: no answer, or the server busy (429, 5xx).
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } => true,
            Error::Api(s) => s.code == 429 || s.code >= 500,
            _ => false,
        }
    }

    /// True for an optimistic-concurrency conflict (HTTP 409 Conflict).
    pub(crate) fn is_conflict(&self) -> bool {
        matches!(self, Error::Api(s) if s.code == 409)
    }
}

/// The result type of every fallible call in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
