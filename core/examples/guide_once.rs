//! A schema migration every replica runs at startup, guarded by a once: it
//! runs in one replica, the others wait until it is done, and a replica
//! started later skips it.
//!
//! `cargo run -p konductor --example guide_once`

use std::time::Duration;

use konductor::{Client, Error, Options};

fn main() -> konductor::Result<()> {
    let client = Client::new(None)?;
    let name = format!("guide-migrate-{:x}", std::process::id());
    client.create_once(&name, Some(Duration::from_secs(30)), None)?;

    let options = Options::new().timeout(Duration::from_secs(300));
    let ran = client.do_once(&name, &options, |run| {
        // Pass the fencing token to the database, so that a replica that
        // lost the once cannot apply a stale migration step.
        println!("migrating the schema, fencing token {}", run.token());
        Ok::<_, Error>(())
    })?;
    assert!(ran.is_some(), "the first caller runs it");

    let again = client.do_once(&name, &options, |_| Ok::<_, Error>(()))?;
    println!(
        "a later replica: {}",
        if again.is_none() {
            "already done, skipped"
        } else {
            "ran it"
        }
    );

    client.delete_once(&name)?;
    Ok(())
}
