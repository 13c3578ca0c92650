//! The crate guide's leader election, shown in the crate docs and run by core/examples/run.

use std::time::Duration;

use konductor::{Client, Error, Options};

fn main() -> konductor::Result<()> {
    let client = Client::new(None)?;
    match client.create_lease("service-leader", None, None) {
        Ok(_) | Err(Error::AlreadyExists { .. }) => {}
        Err(other) => return Err(other),
    }
    let ttl = Options::new().ttl(Duration::from_secs(15));
    client.run_as_leader("service-leader", &ttl, |leader| {
        // Runs only while this process holds the lease; `leader.lost_token()`
        // fires before anyone else could be granted it.
        let mut terms = 0;
        while terms < 3 && leader.sleep(Duration::from_secs(1)) {
            terms += 1;
            println!("leading with fencing token {}", leader.token());
        }
    })
}
