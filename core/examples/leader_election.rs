//! Leader election with fail-over: two candidate processes; the leader works
//! while it holds the lease, then crashes (exits without releasing); the
//! standby takes over once the lease's TTL has passed, with a larger fencing
//! token.
//!
//! `cargo run -p konductor --example leader_election`

#[path = "common/timeline.rs"]
mod timeline;

use std::process::Command;
use std::time::Duration;

use konductor::{Client, Options};
use timeline::log;

const TTL: Duration = Duration::from_secs(3);

fn main() -> konductor::Result<()> {
    timeline::start();
    let args: Vec<String> = std::env::args().collect();
    if let [_, lease, candidate] = args.as_slice() {
        return candidate_main(lease, candidate);
    }
    let client = Client::new(None)?;
    // A fresh lease per run, so an interrupted run leaves nothing behind.
    let lease = format!("demo-leader-{:x}", std::process::id());
    client.create_lease(&lease, Some(TTL), None)?;
    log(
        "main",
        format!("lease {lease} with TTL {TTL:?}; starting two candidates"),
    );
    let exe = std::env::current_exe().expect("path of this example");
    let mut first = Command::new(&exe)
        .arg(&lease)
        .arg("candidate-a")
        .spawn()
        .expect("start candidate");
    std::thread::sleep(Duration::from_millis(500));
    let mut second = Command::new(&exe)
        .arg(&lease)
        .arg("candidate-b")
        .spawn()
        .expect("start candidate");
    let a = first.wait().expect("wait");
    let b = second.wait().expect("wait");
    assert!(a.success() && b.success(), "a candidate failed");
    client.delete_lease(&lease)?;
    log("main", "done");
    Ok(())
}

fn candidate_main(lease_name: &str, me: &str) -> konductor::Result<()> {
    let client = Client::new(None)?;
    log(me, "campaigning");
    let options = Options::new()
        .holder(me)
        .ttl(TTL)
        .timeout(Duration::from_secs(60));
    if me == "candidate-a" {
        let lease = client.acquire_lease(lease_name, &options.auto_renew(true))?;
        log(
            me,
            format!("became LEADER (fencing token {})", lease.token()),
        );
        for beat in 1..=3 {
            std::thread::sleep(Duration::from_millis(700));
            log(me, format!("leading, heartbeat {beat}"));
        }
        log(me, "CRASHES without releasing the lease");
        std::process::exit(0); // No destructor runs: exactly like a crash.
    }
    client.run_as_leader(lease_name, &options, |leader| {
        log(
            me,
            format!("became LEADER (fencing token {})", leader.token()),
        );
        for beat in 1..=2 {
            if !leader.sleep(Duration::from_millis(500)) {
                return;
            }
            log(me, format!("leading, heartbeat {beat}"));
        }
        log(me, "stepping down");
    })?;
    Ok(())
}
