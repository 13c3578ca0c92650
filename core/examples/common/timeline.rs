//! What the examples share: a readable timeline and create-if-missing.

// Each example uses only part of this module.
#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Prints `[+1.234s] who  what` lines relative to the demo's start, which
/// child processes inherit through `KONDUCTOR_DEMO_T0` so their lines line up.
pub fn log(who: &str, what: impl std::fmt::Display) {
    println!("[+{:>7.3}s] {who:<10} {what}", elapsed().as_secs_f64());
}

fn elapsed() -> Duration {
    static T0: OnceLock<u128> = OnceLock::new();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let t0 = *T0.get_or_init(|| {
        std::env::var("KONDUCTOR_DEMO_T0")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::env::set_var("KONDUCTOR_DEMO_T0", now.to_string());
                now
            })
    });
    Duration::from_millis(now.saturating_sub(t0) as u64)
}

/// Starts the timeline now (and exports it to child processes).
pub fn start() {
    elapsed();
}

/// Accepts "already exists" from a create call, so examples can run again.
pub fn ensure<T>(created: konductor::Result<T>) -> konductor::Result<()> {
    match created {
        Ok(_) => Ok(()),
        Err(konductor::Error::AlreadyExists { .. }) => Ok(()),
        Err(konductor::Error::Api(status)) if status.code == 409 => Ok(()),
        Err(error) => Err(error),
    }
}
