//! A 3-stage pipeline: three workers must all finish a stage before any
//! starts the next (the SDK guide's multi-stage pipeline with barriers).
//!
//! `cargo run -p konductor --example pipeline`

#[path = "common/timeline.rs"]
mod timeline;

use std::thread;
use std::time::Duration;

use konductor::{Client, Options};
use timeline::{ensure, log};

const WORKERS: u32 = 3;
const STAGES: u32 = 3;

fn main() -> konductor::Result<()> {
    timeline::start();
    let client = Client::new(None)?;
    let run = format!("{:x}", std::process::id());
    for stage in 1..=STAGES {
        ensure(client.create_barrier(
            &barrier(&run, stage),
            WORKERS,
            None,
            Some(Duration::from_secs(600)),
        ))?;
    }
    log(
        "main",
        format!("{WORKERS} workers, {STAGES} stages, one barrier per stage"),
    );
    let workers: Vec<_> = (1..=WORKERS)
        .map(|w| {
            let client = client.clone();
            let run = run.clone();
            thread::spawn(move || run_pipeline(&client, &run, w))
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker panicked")?;
    }
    for stage in 1..=STAGES {
        client.delete_barrier(&barrier(&run, stage))?;
    }
    log("main", "pipeline complete");
    Ok(())
}

fn barrier(run: &str, stage: u32) -> String {
    format!("pipeline-{run}-stage-{stage}")
}

fn run_pipeline(client: &Client, run: &str, worker: u32) -> konductor::Result<()> {
    let me = format!("worker-{worker}");
    let options = Options::new().holder(&me).timeout(Duration::from_secs(60));
    for stage in 1..=STAGES {
        log(&me, format!("working on stage {stage}"));
        // Workers take different times; the barrier makes the fast ones wait.
        thread::sleep(Duration::from_millis(150 * u64::from(worker)));
        let name = barrier(run, stage);
        let barrier = client.arrive_barrier(&name, &options)?;
        let arrived = barrier.status.map(|s| s.arrived).unwrap_or_default();
        log(
            &me,
            format!("arrived at stage {stage} barrier ({arrived}/{WORKERS})"),
        );
        client.wait_barrier(&name, &options)?;
        log(&me, format!("stage {stage} barrier OPEN"));
    }
    Ok(())
}
