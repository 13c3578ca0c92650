//! A cache rebuilt under the write lock while readers serve from it under
//! read locks: three reader threads serve concurrently, a rebuilder writes
//! the cache in two steps (a half-written cache would be torn), and no
//! reader ever sees a torn cache. A rebuild that queues blocks new readers,
//! so readers cannot starve it.
//!
//! `cargo run -p konductor --example rwmutex_cache`

#[path = "common/timeline.rs"]
mod timeline;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use konductor::{Client, Error, Options};
use timeline::log;

const REBUILDS: u32 = 3;
const READS_EACH: u32 = 6;

fn main() -> konductor::Result<()> {
    timeline::start();
    let client = Client::new(None)?;
    // A fresh lock and cache per run, so an interrupted run leaves nothing behind.
    let name = format!("demo-cache-{:x}", std::process::id());
    client.create_rwmutex(&name, Some(Duration::from_secs(10)), None, None)?;
    let cache = Arc::new(std::env::temp_dir().join(format!("{name}.txt")));
    write_cache(&cache, 0);
    log(
        "main",
        format!("rwmutex {name}; 3 readers serve, 1 rebuilder writes"),
    );

    let readers: Vec<_> = (1..=3)
        .map(|i| {
            let (client, name, cache) = (client.clone(), name.clone(), cache.clone());
            std::thread::spawn(move || serve(&client, &name, &cache, &format!("reader-{i}")))
        })
        .collect();
    let rebuilder = {
        let (client, name, cache) = (client.clone(), name.clone(), cache.clone());
        std::thread::spawn(move || rebuild(&client, &name, &cache))
    };
    rebuilder.join().expect("rebuilder")?;
    for reader in readers {
        reader.join().expect("reader")?;
    }
    log("main", "no reader ever saw a torn cache");
    std::fs::remove_file(cache.as_path()).ok();
    client.delete_rwmutex(&name)?;
    Ok(())
}

fn serve(client: &Client, name: &str, cache: &Path, me: &str) -> konductor::Result<()> {
    let options = Options::new().holder(me).timeout(Duration::from_secs(60));
    for _ in 0..READS_EACH {
        client.with_read(name, &options, |lock| {
            let version = read_cache(cache);
            log(
                me,
                format!(
                    "serves version {version} (read lock, token {})",
                    lock.token()
                ),
            );
            std::thread::sleep(Duration::from_millis(100));
            Ok::<_, Error>(())
        })?;
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn rebuild(client: &Client, name: &str, cache: &Path) -> konductor::Result<()> {
    let options = Options::new()
        .holder("rebuilder")
        .timeout(Duration::from_secs(60));
    for version in 1..=REBUILDS {
        std::thread::sleep(Duration::from_millis(200));
        client.with_write(name, &options, |lock| {
            log(
                "rebuilder",
                format!(
                    "rebuilds version {version} (write lock, token {})",
                    lock.token()
                ),
            );
            write_cache(cache, version);
            Ok::<_, Error>(())
        })?;
    }
    Ok(())
}

/// Writes the cache in two steps: between them it is torn.
fn write_cache(cache: &Path, version: u32) {
    std::fs::write(cache, format!("version {version}\n")).expect("write the cache");
    std::thread::sleep(Duration::from_millis(150));
    std::fs::write(cache, format!("version {version}\nchecksum {version}\n"))
        .expect("write the cache");
}

/// The cache's version; panics on a torn cache, which the locks rule out.
fn read_cache(cache: &Path) -> u32 {
    let text = std::fs::read_to_string(cache).expect("read the cache");
    let mut lines = text.lines();
    let version = lines.next().and_then(|l| l.strip_prefix("version "));
    let checksum = lines.next().and_then(|l| l.strip_prefix("checksum "));
    match (version, checksum) {
        (Some(v), Some(c)) if v == c => v.parse().expect("a version number"),
        _ => panic!("a reader saw a torn cache: {text:?}"),
    }
}
