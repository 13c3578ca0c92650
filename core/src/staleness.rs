//! Deciding that a holder or waiter record is stale, by this process's own clock.
//!
//! A record is stale when this observer has seen it unchanged for longer than
//! its TTL (plus a margin for clock-rate differences), as client-go's leader
//! election does. Remote timestamps are never compared with the local wall
//! clock, so clock skew between machines cannot cause an early eviction.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Extra time an observer waits past a TTL before it calls a record stale.
pub fn margin(ttl: Duration) -> Duration {
    Duration::from_millis(50) + ttl / 100
}

/// First-seen times of records, shared by all waits of one client.
#[derive(Default)]
pub struct Staleness {
    seen: Mutex<HashMap<String, HashMap<String, Instant>>>,
}

/// One record as the observer sees it: a key that changes whenever the record
/// is renewed, and its TTL.
pub struct Observed {
    /// Identifies the record version; must change when the record is renewed.
    pub key: String,
    /// How long the record lives unrenewed.
    pub ttl: Duration,
}

/// The verdict for the records of one object.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Keys of the records that are stale now.
    pub stale: Vec<String>,
    /// When the next of the others turns stale, if it stays unchanged.
    pub next_expiry: Option<Instant>,
}

impl Staleness {
    /// Notes the current records of object `object` (forgetting vanished ones)
    /// and says which are stale at `now`.
    pub fn observe(&self, object: &str, records: &[Observed], now: Instant) -> Verdict {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let first_seen = seen.entry(object.to_owned()).or_default();
        first_seen.retain(|key, _| records.iter().any(|r| &r.key == key));
        let mut verdict = Verdict::default();
        for record in records {
            let since = *first_seen.entry(record.key.clone()).or_insert(now);
            let ttl = record.ttl.min(crate::options::MAX_TTL);
            let expiry = since + ttl + margin(ttl);
            if now >= expiry {
                verdict.stale.push(record.key.clone());
            } else {
                verdict.next_expiry = Some(verdict.next_expiry.map_or(expiry, |e| e.min(expiry)));
            }
        }
        if first_seen.is_empty() {
            seen.remove(object);
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(key: &str, secs: u64) -> Observed {
        Observed {
            key: key.into(),
            ttl: Duration::from_secs(secs),
        }
    }

    #[test]
    fn a_record_is_stale_only_after_ttl_of_local_observation() {
        let s = Staleness::default();
        let t0 = Instant::now();
        let v = s.observe("o", &[rec("a", 10)], t0);
        assert!(v.stale.is_empty());
        assert_eq!(
            v.next_expiry,
            Some(t0 + Duration::from_secs(10) + margin(Duration::from_secs(10)))
        );
        let v = s.observe("o", &[rec("a", 10)], t0 + Duration::from_secs(10));
        assert!(v.stale.is_empty(), "margin not yet passed");
        let v = s.observe("o", &[rec("a", 10)], t0 + Duration::from_secs(11));
        assert_eq!(v.stale, ["a"]);
    }

    #[test]
    fn a_renewed_record_restarts_the_clock() {
        let s = Staleness::default();
        let t0 = Instant::now();
        s.observe("o", &[rec("a#0", 10)], t0);
        let v = s.observe("o", &[rec("a#1", 10)], t0 + Duration::from_secs(9));
        let v2 = s.observe("o", &[rec("a#1", 10)], t0 + Duration::from_secs(15));
        assert!(v.stale.is_empty() && v2.stale.is_empty());
        let v3 = s.observe("o", &[rec("a#1", 10)], t0 + Duration::from_secs(20));
        assert_eq!(v3.stale, ["a#1"]);
    }

    #[test]
    fn objects_are_tracked_separately() {
        let s = Staleness::default();
        let t0 = Instant::now();
        s.observe("o1", &[rec("a", 1)], t0);
        let v = s.observe("o2", &[rec("a", 1)], t0 + Duration::from_secs(5));
        assert!(v.stale.is_empty(), "first sight of o2/a is now");
    }

    #[test]
    fn an_absurd_ttl_from_the_server_is_capped_not_a_panic() {
        let s = Staleness::default();
        let t0 = Instant::now();
        let v = s.observe("o", &[rec("a", 10_000_000_000_000_000_000)], t0);
        assert!(v.stale.is_empty());
        let expiry = v.next_expiry.expect("it still expires");
        assert!(expiry <= t0 + crate::MAX_TTL + margin(crate::MAX_TTL));
    }
}
