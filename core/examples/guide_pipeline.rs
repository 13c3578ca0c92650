//! The crate guide's multi-stage pipeline, shown in the crate docs and run by core/examples/run.

use std::time::Duration;

use konductor::{Client, Error, Options};

fn stage(number: u32) {
    println!("worker-1 runs stage {number}");
}

fn main() -> konductor::Result<()> {
    let client = Client::new(None)?;
    // A one-worker pipeline here; a real one creates the barrier with its worker count.
    match client.create_barrier("stage-1-done", 1, None, None) {
        Ok(_) | Err(Error::AlreadyExists { .. }) => {}
        Err(other) => return Err(other),
    }
    let me = Options::new().holder("worker-1");
    stage(1);
    client.arrive_barrier("stage-1-done", &me)?;
    client.wait_barrier(
        "stage-1-done",
        &me.clone().timeout(Duration::from_secs(1800)),
    )?;
    stage(2);
    Ok(())
}
