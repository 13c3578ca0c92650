//! Options of acquire and wait calls, with their defaults.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cancel::CancelToken;
use crate::observer::Observer;

/// Permit and lease time-to-live when neither the call nor the object sets one.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// The least time the requests of one call may take even when its timeout
/// is shorter (a zero timeout tries once: it still reads and writes).
pub const REQUEST_BUDGET: Duration = Duration::from_secs(5);

/// The longest TTL a permit, lease or waiter may have (366 days). Longer
/// ones are refused when given, and capped when read from the server, so
/// that no value can overflow a clock.
pub const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 3600);

/// How a call acquires or waits. Build with the chained setters:
///
/// ```
/// use std::time::Duration;
/// let options = konductor::Options::new()
///     .ttl(Duration::from_secs(60))
///     .timeout(Duration::from_secs(30))
///     .holder("worker-1");
/// ```
#[derive(Clone, Default)]
pub struct Options {
    pub(crate) ttl: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) priority: Option<i32>,
    pub(crate) holder: Option<String>,
    pub(crate) cancel: Option<CancelToken>,
    pub(crate) auto_renew: bool,
    pub(crate) observer: Option<Arc<dyn Observer>>,
}

impl Options {
    /// Defaults: the object's TTL (else [`DEFAULT_TTL`]), wait without limit,
    /// priority 0, a generated holder identity, no auto-renewal.
    pub fn new() -> Options {
        Options::default()
    }

    /// Time-to-live of the permit or lease; it is lost unless renewed within it.
    pub fn ttl(mut self, ttl: Duration) -> Options {
        self.ttl = Some(ttl);
        self
    }

    /// When a wait that starts at `started` must end: `None` without a
    /// timeout, and for a timeout so long that no clock reaches it.
    pub(crate) fn deadline(&self, started: Instant) -> Option<Instant> {
        self.timeout.and_then(|t| started.checked_add(t))
    }

    /// When the requests of a call that starts at `started` must end: the
    /// wait's deadline, but never sooner than [`REQUEST_BUDGET`] after the
    /// start, so that a zero timeout can still make its one attempt.
    pub(crate) fn request_deadline(&self, started: Instant) -> Option<Instant> {
        let floor = started.checked_add(REQUEST_BUDGET);
        self.deadline(started)
            .map(|deadline| floor.map_or(deadline, |floor| deadline.max(floor)))
    }

    /// Longest time to wait; zero tries once without queueing. The requests
    /// of the call end at the same deadline, but get at least
    /// [`REQUEST_BUDGET`], so a try-once can read and write.
    pub fn timeout(mut self, timeout: Duration) -> Options {
        self.timeout = Some(timeout);
        self
    }

    /// Sets or clears the wait limit (`None` waits until cancelled).
    pub fn timeout_opt(mut self, timeout: Option<Duration>) -> Options {
        self.timeout = timeout;
        self
    }

    /// Queue priority: higher is granted first; equal priorities in arrival order.
    pub fn priority(mut self, priority: i32) -> Options {
        self.priority = Some(priority);
        self
    }

    /// Holder identity (default: `POD_NAME` or the host name, plus a unique suffix).
    pub fn holder(mut self, holder: impl Into<String>) -> Options {
        self.holder = Some(holder.into());
        self
    }

    /// Makes the wait cancellable through `token` from another thread.
    pub fn cancel(mut self, token: &CancelToken) -> Options {
        self.cancel = Some(token.clone());
        self
    }

    /// Renews the permit or lease in the background at about a third of its
    /// TTL; a failure to renew in time is reported as loss.
    pub fn auto_renew(mut self, yes: bool) -> Options {
        self.auto_renew = yes;
        self
    }

    /// Receives acquire/release/wait/loss/error events, e.g. for metrics.
    pub fn observer(mut self, observer: Arc<dyn Observer>) -> Options {
        self.observer = Some(observer);
        self
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("ttl", &self.ttl)
            .field("timeout", &self.timeout)
            .field("priority", &self.priority)
            .field("holder", &self.holder)
            .field("cancel", &self.cancel)
            .field("auto_renew", &self.auto_renew)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

/// A holder identity unique to this process and call: `POD_NAME` (else the
/// host name) plus a random suffix.
pub fn default_holder() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);

    let base = std::env::var("POD_NAME")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(host_name)
        .unwrap_or_else(|| "konductor".to_owned());
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let suffix = hasher.finish() & 0xffff_ffff_ffff;
    let base: String = base
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take(200)
        .collect();
    format!("{base}-{suffix:012x}")
}

fn host_name() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_holders_are_unique_and_valid() {
        let a = default_holder();
        let b = default_holder();
        assert_ne!(a, b);
        crate::names::validate_holder(&a).unwrap();
    }

    #[test]
    fn a_timeout_beyond_the_clock_waits_without_limit() {
        let now = Instant::now();
        assert_eq!(Options::new().deadline(now), None);
        assert_eq!(
            Options::new().timeout(Duration::MAX).deadline(now),
            None,
            "no deadline rather than a panic"
        );
        assert_eq!(
            Options::new().timeout(Duration::from_secs(5)).deadline(now),
            Some(now + Duration::from_secs(5))
        );
    }

    #[test]
    fn a_zero_timeout_still_leaves_its_requests_time() {
        let now = Instant::now();
        let once = Options::new().timeout(Duration::ZERO);
        assert_eq!(once.deadline(now), Some(now));
        assert_eq!(once.request_deadline(now), Some(now + REQUEST_BUDGET));
        let long = Options::new().timeout(Duration::from_secs(60));
        assert_eq!(
            long.request_deadline(now),
            Some(now + Duration::from_secs(60))
        );
        assert_eq!(Options::new().request_deadline(now), None);
    }
}
