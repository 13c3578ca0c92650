//! The checked-in CRDs are exactly what the binary generates from the Rust types.

use std::path::Path;
use std::process::Command;

#[test]
fn checked_in_crds_match_the_generated_ones() {
    let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
    let output = Command::new(env!("CARGO_BIN_EXE_konductor-operator"))
        .args(["crds", "--check"])
        .arg(&crds)
        .output()
        .expect("run konductor-operator crds --check");
    assert!(
        output.status.success(),
        "operator/crds/ is out of date; regenerate it with \
         `cargo run -p konductor-operator -- crds --out-dir operator/crds`:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn printed_crds_are_one_yaml_document_per_kind() {
    let output = Command::new(env!("CARGO_BIN_EXE_konductor-operator"))
        .arg("crds")
        .output()
        .expect("run konductor-operator crds");
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  name: "))
        .collect();
    assert_eq!(
        names,
        [
            "semaphores.sync.konductor.io",
            "barriers.sync.konductor.io",
            "leases.sync.konductor.io",
            "mutexes.sync.konductor.io",
            "rwmutexes.sync.konductor.io",
            "onces.sync.konductor.io",
            "waitgroups.sync.konductor.io",
            "gates.sync.konductor.io",
            "waiters.sync.konductor.io"
        ]
    );
}
