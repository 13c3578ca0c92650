//! Several worker processes contend for a semaphore with 2 permits; the
//! timeline shows that never more than 2 hold it and that each release hands
//! the permit straight to the next waiter.
//!
//! `cargo run -p konductor --example semaphore_workers`

#[path = "common/timeline.rs"]
mod timeline;

use std::process::Command;
use std::time::Duration;

use konductor::{Client, Options};
use timeline::log;

const WORKERS: usize = 4;
const ROUNDS: usize = 2;

fn main() -> konductor::Result<()> {
    timeline::start();
    let args: Vec<String> = std::env::args().collect();
    if let [_, semaphore, worker] = args.as_slice() {
        return work(semaphore, worker);
    }
    let client = Client::new(None)?;
    // A fresh semaphore per run, so an interrupted run leaves nothing behind.
    let semaphore = format!("demo-workers-{:x}", std::process::id());
    client.create_semaphore(&semaphore, 2, Some(Duration::from_secs(30)))?;
    log(
        "main",
        format!("semaphore {semaphore} has 2 permits; starting {WORKERS} worker processes"),
    );
    let exe = std::env::current_exe().expect("path of this example");
    let children: Vec<_> = (1..=WORKERS)
        .map(|i| {
            Command::new(&exe)
                .arg(&semaphore)
                .arg(format!("worker-{i}"))
                .spawn()
                .expect("start worker")
        })
        .collect();
    for mut child in children {
        let status = child.wait().expect("wait for worker");
        assert!(status.success(), "a worker failed: {status}");
    }
    client.delete_semaphore(&semaphore)?;
    log("main", "all workers done");
    Ok(())
}

fn work(semaphore: &str, worker: &str) -> konductor::Result<()> {
    let client = Client::new(None)?;
    for round in 1..=ROUNDS {
        log(worker, "waiting for a permit");
        let options = Options::new()
            .holder(worker)
            .ttl(Duration::from_secs(30))
            .timeout(Duration::from_secs(60));
        let permit = client.acquire_semaphore(semaphore, &options)?;
        log(
            worker,
            format!("ACQUIRED (token {}, round {round})", permit.token()),
        );
        std::thread::sleep(Duration::from_millis(400));
        permit.release()?;
        log(worker, "released");
    }
    Ok(())
}
