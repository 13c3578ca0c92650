//! A database migration guarded by a once in every replica's startup: four
//! replicas start together, exactly one runs the migration while the others
//! wait for it to finish, and then all serve. The first runner crashes
//! mid-migration (exits without finishing); after the once's TTL the next
//! replica runs the migration again, and nobody ever serves before it is
//! done.
//!
//! `cargo run -p konductor --example once_migration`

#[path = "common/timeline.rs"]
mod timeline;

use std::process::Command;
use std::time::Duration;

use konductor::{Client, Options};
use timeline::log;

const TTL: Duration = Duration::from_secs(2);

fn main() -> konductor::Result<()> {
    timeline::start();
    let args: Vec<String> = std::env::args().collect();
    if let [_, once, replica] = args.as_slice() {
        return replica_main(once, replica);
    }
    let client = Client::new(None)?;
    // A fresh once per run, so an interrupted run leaves nothing behind.
    let once = format!("demo-migrate-{:x}", std::process::id());
    client.create_once(&once, Some(TTL), None)?;
    log(
        "main",
        format!("once {once} with TTL {TTL:?}; starting 4 replicas"),
    );
    let exe = std::env::current_exe().expect("path of this example");
    let replicas: Vec<_> = ["replica-a", "replica-b", "replica-c", "replica-d"]
        .iter()
        .enumerate()
        .map(|(i, replica)| {
            // replica-a starts first, so that it is the one that crashes.
            std::thread::sleep(Duration::from_millis(if i == 1 { 300 } else { 0 }));
            Command::new(&exe)
                .arg(&once)
                .arg(replica)
                .spawn()
                .expect("start a replica")
        })
        .collect();
    for mut replica in replicas {
        replica.wait().expect("wait for a replica");
    }
    let status = client.get_once(&once)?.status.unwrap_or_default();
    log(
        "main",
        format!(
            "once is {:?}, run by {}",
            status.phase.map(|p| p.as_str()).unwrap_or(""),
            status.ran_by.unwrap_or_default()
        ),
    );
    client.delete_once(&once)?;
    Ok(())
}

fn replica_main(once: &str, me: &str) -> konductor::Result<()> {
    let client = Client::new(None)?;
    let options = Options::new().holder(me).timeout(Duration::from_secs(60));
    let ran = client.do_once(once, &options, |run| {
        log(
            me,
            format!("runs the migration (fencing token {})", run.token()),
        );
        if me == "replica-a" {
            std::thread::sleep(Duration::from_millis(300));
            log(me, "CRASHES mid-migration");
            std::process::exit(1); // No destructor runs: exactly like a crash.
        }
        std::thread::sleep(Duration::from_millis(500));
        log(me, "migration done");
        Ok::<_, konductor::Error>(())
    })?;
    if ran.is_none() {
        log(me, "the migration is done: serving");
    } else {
        log(me, "serving");
    }
    Ok(())
}
