//! Quick start: rate-limit work with a semaphore permit (the SDK guide's first example).
//!
//! Run against any cluster with the Konductor CRDs installed:
//! `cargo run -p konductor --example quick_start`

#[path = "common/timeline.rs"]
mod timeline;

use std::time::Duration;

use konductor::{Client, Options};
use timeline::{ensure, log};

fn main() -> konductor::Result<()> {
    timeline::start();
    let client = Client::new(None)?;
    ensure(client.create_semaphore("api-quota", 2, Some(Duration::from_secs(300))))?;

    let permit =
        client.acquire_semaphore("api-quota", &Options::new().ttl(Duration::from_secs(300)))?;
    log(
        permit.holder(),
        format!("acquired api-quota (fencing token {})", permit.token()),
    );
    call_external_api();
    permit.release()?;
    log("main", "released api-quota");

    // The same, with the release done for you on every exit path.
    client.with_semaphore(
        "api-quota",
        &Options::new().timeout(Duration::from_secs(30)),
        |permit| {
            log(
                permit.holder(),
                format!("in with_semaphore (token {})", permit.token()),
            );
            call_external_api();
            Ok::<_, konductor::Error>(())
        },
    )?;
    let semaphore = client.get_semaphore("api-quota")?;
    let status = semaphore.status.unwrap_or_default();
    log(
        "main",
        format!(
            "api-quota: {} permits, {} in use",
            semaphore.spec.permits, status.in_use
        ),
    );
    Ok(())
}

fn call_external_api() {
    std::thread::sleep(Duration::from_millis(200));
}
