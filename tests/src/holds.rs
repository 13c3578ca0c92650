//! The hold log that contender processes append to, and the safety checks run on it.
//!
//! Every line records one grant as seen by its holder, stamped with
//! `CLOCK_MONOTONIC`, which is one clock for all processes on a Linux machine
//! (unlike `std::time::Instant`, whose values cannot cross a process).
//! `acquired..releasing` lies inside the real hold (after the grant was
//! written, before the release is), so an overlap of logged intervals beyond
//! the capacity is a real violation.

use std::fmt;
use std::str::FromStr;

/// Nanoseconds on the system-wide monotonic clock.
pub fn monotonic_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// One acquire/hold/release cycle as recorded by its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// Contender process number.
    pub process: u32,
    /// Thread number within the process.
    pub thread: u32,
    /// Fencing token of the grant.
    pub token: u64,
    /// When the acquire call started.
    pub called: u64,
    /// When the acquire call returned.
    pub acquired: u64,
    /// When the holder started to release.
    pub releasing: u64,
}

impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hold {} {} {} {} {} {}",
            self.process, self.thread, self.token, self.called, self.acquired, self.releasing
        )
    }
}

impl FromStr for Hold {
    type Err = String;

    fn from_str(line: &str) -> Result<Hold, String> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let number = |i: usize| -> Result<u64, String> {
            fields
                .get(i)
                .and_then(|f| f.parse().ok())
                .ok_or_else(|| format!("bad hold line {line:?}: field {i}"))
        };
        if fields.len() != 7 || fields[0] != "hold" {
            return Err(format!("bad hold line {line:?}"));
        }
        Ok(Hold {
            process: number(1)? as u32,
            thread: number(2)? as u32,
            token: number(3)?,
            called: number(4)?,
            acquired: number(5)?,
            releasing: number(6)?,
        })
    }
}

/// Parses every line of a log.
pub fn parse_log(text: &str) -> Result<Vec<Hold>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// The largest number of logged holds that were in progress at one instant.
pub fn max_overlap(holds: &[Hold]) -> usize {
    // Ends sort before starts at the same instant: touching intervals do not overlap.
    let mut edges: Vec<(u64, i32)> = holds
        .iter()
        .flat_map(|h| [(h.acquired, 1), (h.releasing, -1)])
        .collect();
    edges.sort();
    let (mut now, mut max) = (0i32, 0i32);
    for (_, step) in edges {
        now += step;
        max = max.max(now);
    }
    max as usize
}

/// Checks the fencing tokens of a log: unique, and ordered like the grants.
///
/// A grant is written after its acquire call started and before it returned.
/// Tokens grow with every grant, so whenever `a.token < b.token`, `a` was
/// granted before `b`, hence `a.called < b.acquired`. With capacity 1 the
/// holds are disjoint, and sorted by acquire time the tokens must strictly
/// increase. Returns a description of the first violation.
pub fn check_tokens(holds: &[Hold], capacity: usize) -> Result<(), String> {
    let mut by_token = holds.to_vec();
    by_token.sort_by_key(|h| h.token);
    for pair in by_token.windows(2) {
        if pair[0].token == pair[1].token {
            return Err(format!(
                "token {} was granted twice: {} and {}",
                pair[0].token, pair[0], pair[1]
            ));
        }
    }
    let mut latest_call: Option<Hold> = None;
    for hold in &by_token {
        if let Some(earlier) = latest_call {
            if earlier.called >= hold.acquired {
                return Err(format!(
                    "token {} was granted before token {}: expected the grant of {} (acquire called at {}) \
                     before {} returned (at {})",
                    hold.token, earlier.token, earlier.token, earlier.called, hold.token, hold.acquired
                ));
            }
        }
        if latest_call.is_none_or(|l| hold.called > l.called) {
            latest_call = Some(*hold);
        }
    }
    if capacity == 1 {
        let mut by_time = holds.to_vec();
        by_time.sort_by_key(|h| h.acquired);
        for pair in by_time.windows(2) {
            if pair[0].token >= pair[1].token {
                return Err(format!(
                    "in acquire order, token {} came after token {}: {} then {}",
                    pair[1].token, pair[0].token, pair[0], pair[1]
                ));
            }
        }
    }
    Ok(())
}

/// The `p`-th percentile (0..=100) of `values`, by nearest rank; 0 when empty.
pub fn percentile(values: &[u64], p: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hold(token: u64, called: u64, acquired: u64, releasing: u64) -> Hold {
        Hold {
            process: 0,
            thread: 0,
            token,
            called,
            acquired,
            releasing,
        }
    }

    #[test]
    fn lines_round_trip() {
        let h = hold(7, 1, 2, 3);
        assert_eq!(h.to_string().parse::<Hold>(), Ok(h));
        assert!("hold 1 2".parse::<Hold>().is_err());
    }

    #[test]
    fn overlap_counts_concurrent_holds_only() {
        let holds = [
            hold(1, 0, 0, 10),
            hold(2, 0, 5, 15),
            hold(3, 0, 10, 20),
            hold(4, 0, 12, 13),
        ];
        assert_eq!(max_overlap(&holds), 3);
        assert_eq!(max_overlap(&holds[..1]), 1);
    }

    #[test]
    fn tokens_must_follow_grant_order() {
        assert!(
            check_tokens(&[hold(1, 0, 5, 6), hold(2, 1, 4, 7)], 3).is_ok(),
            "concurrent grants may return in any order"
        );
        assert!(
            check_tokens(&[hold(1, 0, 5, 6), hold(1, 1, 7, 8)], 3).is_err(),
            "duplicate"
        );
        assert!(
            check_tokens(&[hold(2, 0, 1, 2), hold(1, 3, 4, 5)], 3).is_err(),
            "later call got the smaller token"
        );
        assert!(
            check_tokens(&[hold(2, 0, 1, 2), hold(1, 0, 3, 4)], 1).is_err(),
            "capacity 1: tokens increase in time"
        );
    }

    #[test]
    fn percentile_by_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&[], 50.0), 0);
    }
}
