//! The Rust quick start of README.md, core/README.md and the crate docs (core/examples/run checks the READMEs' copies).
//!
//! Needs the semaphore `api-quota` (the quick_start example creates it).

use konductor::{Client, Options};

fn main() -> konductor::Result<()> {
    let client = Client::new(None)?; // in-cluster, else KUBECONFIG / ~/.kube/config
    let permit = client.acquire_semaphore("api-quota", &Options::new())?;
    let (holder, token) = (permit.holder(), permit.token());
    println!("holder {holder} has fencing token {token}");
    permit.release() // also released when dropped
}
