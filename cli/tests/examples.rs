//! The YAML under `examples/` is accepted by the API server: every object
//! goes through `kubectl apply --dry-run=server`; the Argo Workflow's and the
//! Tekton Task's containers (whose CRDs the control plane lacks) as Pods.

use std::path::{Path, PathBuf};

use konductor_tests::cluster::{cluster, kubectl, kubectl_as, repo};
use konductor_tests::namespace::Namespace;
use serde::Deserialize;
use serde_json::{json, Value};

/// Every `*.yaml` under `dir`, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read examples/") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if path.extension().is_some_and(|e| e == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The documents of one YAML file.
fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("read example");
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
        })
        .collect()
}

/// A Pod that runs `containers` as `service_account`.
fn pod(name: &str, service_account: &Value, containers: Vec<Value>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "serviceAccountName": service_account,
            "restartPolicy": "Never",
            "containers": containers,
        },
    })
}

/// What to send the API server for one document: itself, or for a kind of
/// a workflow engine, the Pods its containers would run in.
fn checkable(document: Value) -> Vec<Value> {
    let kind = document["kind"].as_str().unwrap_or_default();
    let api_version = document["apiVersion"].as_str().unwrap_or_default();
    let account = json!("konductor-user");
    if api_version.starts_with("argoproj.io/") && kind == "Workflow" {
        let account = document["spec"]["serviceAccountName"].clone();
        let templates = document["spec"]["templates"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        return templates
            .iter()
            .filter(|t| t.get("container").is_some())
            .map(|t| {
                let mut container = t["container"].clone();
                container["name"] = json!("main");
                let name = format!("argo-{}", t["name"].as_str().unwrap_or("step"));
                pod(&name, &account, vec![container])
            })
            .collect();
    }
    if api_version.starts_with("tekton.dev/") && kind == "Task" {
        let steps = document["spec"]["steps"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!steps.is_empty(), "the Tekton Task has steps");
        let name = format!(
            "tekton-{}",
            document["metadata"]["name"].as_str().unwrap_or("task")
        );
        return vec![pod(&name, &account, steps)];
    }
    vec![document]
}

#[test]
fn every_example_is_accepted_by_the_api_server() {
    let ns = Namespace::new("examples");
    let examples = repo().join("examples");
    // The service account the pods name must exist for a Pod to be admitted.
    let rbac = examples.join("rbac.yaml");
    kubectl(&["-n", &ns.name, "apply", "-f", &rbac.to_string_lossy()]);
    let scratch = std::env::temp_dir().join(format!("{}.json", ns.name));
    let mut checked = 0;
    for file in yaml_files(&examples) {
        for document in documents(&file).into_iter().flat_map(checkable) {
            let what = format!(
                "{} {} from {}",
                document["kind"].as_str().unwrap_or("?"),
                document["metadata"]["name"].as_str().unwrap_or("?"),
                file.display()
            );
            std::fs::write(&scratch, document.to_string()).expect("write scratch file");
            let (ok, stdout, stderr) = kubectl_as(
                &cluster().admin,
                &[
                    "-n",
                    &ns.name,
                    "apply",
                    "--dry-run=server",
                    "-f",
                    &scratch.to_string_lossy(),
                ],
            );
            assert!(ok, "the API server rejected {what}: {stderr}");
            assert!(stdout.contains("(server dry run)"), "{what}: {stdout}");
            checked += 1;
        }
    }
    let _ = std::fs::remove_file(&scratch);
    assert!(checked >= 10, "only {checked} objects were checked");
}
