//! Wall-clock timestamps as Kubernetes writes them, and deadlines counted from creation.
//!
//! Only deadlines that the spec defines from `creationTimestamp` (barrier and
//! gate timeouts) use the wall clock; holder expiry never does (see
//! `konductor::protocol::Staleness`).

use std::time::{Duration, SystemTime};

use konductor::resource::Resource;
use konductor::{format_rfc3339, parse_rfc3339};

/// The current time as `2026-01-02T03:04:05.678Z`, the format the clients write.
pub fn now_rfc3339() -> String {
    format_rfc3339(SystemTime::now())
}

/// `creationTimestamp` has whole seconds: the object was created up to this
/// much after the time it shows.
const CREATION_PRECISION: Duration = Duration::from_secs(1);

/// How long until `timeout` has surely passed since `created` (RFC 3339);
/// zero when it has. Counted from the latest instant the object can have been
/// created, so a timeout never fires early. `None` when the creation time is
/// missing or unreadable.
fn remaining(created: Option<&str>, timeout: Duration, now: SystemTime) -> Option<Duration> {
    let deadline =
        parse_rfc3339(created?)?.checked_add(timeout.checked_add(CREATION_PRECISION)?)?;
    Some(deadline.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Where a timeout that the spec counts from creation stands.
#[derive(Debug, PartialEq, Eq)]
pub enum Deadline {
    /// The spec sets no timeout.
    Unset,
    /// Time is left; look again after this long.
    Pending(Duration),
    /// The timeout, which has surely passed.
    Passed(Duration),
    /// The timeout cannot be applied, for this reason.
    Invalid(String),
}

impl Deadline {
    /// When to look again and why the timeout cannot apply; once it has
    /// passed, calls `expire` with the start of a message (`timed out after 30s`).
    pub fn split(self, expire: impl FnOnce(String)) -> (Option<Duration>, Option<String>) {
        match self {
            Deadline::Unset => (None, None),
            Deadline::Pending(left) => (Some(left), None),
            Deadline::Passed(timeout) => {
                expire(format!(
                    "timed out after {}",
                    konductor::format_duration(timeout)
                ));
                (None, None)
            }
            Deadline::Invalid(why) => (None, Some(why)),
        }
    }
}

/// Where `timeout` (the spec's text, if any) stands for `object`, as seen at `now`.
pub fn deadline<K: Resource>(object: &K, timeout: Option<&str>, now: SystemTime) -> Deadline {
    let created = object.metadata().creation_timestamp.as_deref();
    let timeout = match timeout.map(konductor::parse_duration) {
        None => return Deadline::Unset,
        Some(Err(error)) => return Deadline::Invalid(format!("spec.timeout: {error}")),
        Some(Ok(timeout)) => timeout,
    };
    match remaining(created, timeout, now) {
        Some(Duration::ZERO) => Deadline::Passed(timeout),
        Some(left) => Deadline::Pending(left),
        None => Deadline::Invalid(
            "metadata.creationTimestamp is missing; the timeout cannot be applied".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_clients() {
        let text = now_rfc3339();
        assert_eq!(text.len(), "2026-01-02T03:04:05.678Z".len(), "{text}");
        assert!(text.ends_with('Z'));
    }

    #[test]
    fn remaining_counts_down_from_creation_and_stops_at_zero() {
        let now = parse_rfc3339("2026-01-01T00:00:10Z").unwrap();
        let t = Some("2026-01-01T00:00:00Z");
        assert_eq!(
            remaining(t, Duration::from_secs(30), now),
            Some(Duration::from_secs(21))
        );
        assert_eq!(
            remaining(t, Duration::from_secs(9), now),
            Some(Duration::ZERO)
        );
        assert_eq!(remaining(None, Duration::from_secs(5), now), None);
        assert_eq!(
            remaining(Some("garbage"), Duration::from_secs(5), now),
            None
        );
    }

    #[test]
    fn a_deadline_is_unset_pending_passed_or_says_why_it_cannot_apply() {
        let now = parse_rfc3339("2026-01-01T00:00:10Z").unwrap();
        let mut gate = konductor::resource::Gate::new("g", Default::default());
        gate.metadata.creation_timestamp = Some("2026-01-01T00:00:00Z".into());
        assert_eq!(deadline(&gate, None, now), Deadline::Unset);
        assert_eq!(
            deadline(&gate, Some("30s"), now),
            Deadline::Pending(Duration::from_secs(21))
        );
        assert_eq!(
            deadline(&gate, Some("9s"), now),
            Deadline::Passed(Duration::from_secs(9))
        );
        assert!(
            matches!(deadline(&gate, Some("soon"), now), Deadline::Invalid(m) if m.starts_with("spec.timeout: ")),
            "an unparsable timeout names the field"
        );
        gate.metadata.creation_timestamp = None;
        assert!(
            matches!(deadline(&gate, Some("9s"), now), Deadline::Invalid(m) if m.contains("creationTimestamp")),
            "a missing creation time names the field"
        );
    }
}
