//! Wall-clock timestamps as Kubernetes writes them, and deadlines counted from creation.
//!
//! Only deadlines that the spec defines from `creationTimestamp` (barrier and
//! gate timeouts) use the wall clock; holder expiry never does (see
//! `konductor::protocol::Staleness`).

use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// The current time as `2026-01-02T03:04:05.678Z`, the format the clients write.
pub fn now_rfc3339() -> String {
    format!("{:.3}", Timestamp::now())
}

/// `creationTimestamp` has whole seconds: the object was created up to this
/// much after the time it shows.
const CREATION_PRECISION: Duration = Duration::from_secs(1);

/// How long until `timeout` has surely passed since `created` (RFC 3339);
/// zero when it has. Counted from the latest instant the object can have been
/// created, so a timeout never fires early. `None` when the creation time is
/// missing or unreadable.
pub fn remaining(created: Option<&str>, timeout: Duration, now: Timestamp) -> Option<Duration> {
    let created: Timestamp = created?.parse().ok()?;
    let deadline = created
        .checked_add(SignedDuration::try_from(timeout + CREATION_PRECISION).ok()?)
        .ok()?;
    let left = now.duration_until(deadline);
    Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
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
        let now: Timestamp = "2026-01-01T00:00:10Z".parse().unwrap();
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
}
