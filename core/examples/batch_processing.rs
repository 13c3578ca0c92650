//! Batch processing: many batches, at most 2 processed at once cluster-wide,
//! each under `with_semaphore` so the permit is returned on every exit path
//! (the SDK guide's batch pattern).
//!
//! `cargo run -p konductor --example batch_processing`

#[path = "common/timeline.rs"]
mod timeline;

use std::thread;
use std::time::Duration;

use konductor::{Client, Options};
use timeline::{ensure, log};

const SEMAPHORE: &str = "batch-processor";

fn main() -> konductor::Result<()> {
    timeline::start();
    let client = Client::new(None)?;
    ensure(client.create_semaphore(SEMAPHORE, 2, Some(Duration::from_secs(1800))))?;
    let batches: Vec<_> = (1..=5)
        .map(|batch| {
            let client = client.clone();
            thread::spawn(move || process_batch(&client, batch))
        })
        .collect();
    for batch in batches {
        batch.join().expect("batch panicked")?;
    }
    log("main", "all batches processed");
    Ok(())
}

fn process_batch(client: &Client, batch: u32) -> konductor::Result<()> {
    let me = format!("batch-{batch}");
    let options = Options::new()
        .holder(&me)
        .ttl(Duration::from_secs(1800))
        .auto_renew(true);
    client.with_semaphore(SEMAPHORE, &options, |permit| {
        log(
            &me,
            format!("processing with permit token {}", permit.token()),
        );
        for _item in 0..3 {
            thread::sleep(Duration::from_millis(100));
        }
        log(&me, "done");
        Ok(())
    })
}
