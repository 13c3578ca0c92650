//! A shard coordinator, shown in the crate docs and run by core/examples/run:
//! it hands out 4 shards, each worker reports done once under its own name,
//! and the coordinator merges the results when the counter reaches zero.

use std::thread;
use std::time::Duration;

use konductor::{Client, Options};

const SHARDS: u32 = 4;

fn main() -> konductor::Result<()> {
    let client = Client::new(None)?;
    let group = format!("shards-{:x}", std::process::id());
    // Deleted by the operator 10 minutes after the last shard is done.
    client.create_waitgroup(&group, SHARDS, Some(Duration::from_secs(600)))?;
    let workers: Vec<_> = (0..SHARDS)
        .map(|shard| {
            let (client, group) = (client.clone(), group.clone());
            thread::spawn(move || -> konductor::Result<()> {
                println!("shard-{shard} indexing");
                thread::sleep(Duration::from_millis(100 * u64::from(shard)));
                // The holder name makes a retried done count once.
                let me = Options::new().holder(format!("shard-{shard}"));
                let group = client.done_waitgroup(&group, &me)?;
                let left = group.counter();
                println!("shard-{shard} done, {left} left");
                Ok(())
            })
        })
        .collect();
    client.wait_waitgroup(&group, &Options::new().timeout(Duration::from_secs(300)))?;
    println!("coordinator: all {SHARDS} shards done, merging");
    for worker in workers {
        worker.join().expect("a shard worker panicked")?;
    }
    client.delete_waitgroup(&group)
}
