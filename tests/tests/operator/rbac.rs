//! The shipped RBAC: a workload bound to `konductor-client` can do every
//! client operation and nothing else, and the operator runs with nothing
//! but its own ClusterRole. The second test installs operator/deploy's
//! namespace and operator RBAC into the cluster (harmless to leave there).

use std::path::Path;
use std::time::Duration;

use konductor::resource::ConditionKind;
use konductor::{Error, Options};
use konductor_tests::cluster::{cluster, kubectl, kubectl_as, repo};
use konductor_tests::condition::condition;
use konductor_tests::kubeconfig::admin_access;
use konductor_tests::namespace::{client_from, Namespace};
use konductor_tests::operator::{leader_election, Operator};
use konductor_tests::serial::one_at_a_time;
use konductor_tests::wait::eventually;

fn assert_forbidden(kubeconfig: &Path, args: &[&str]) {
    let (ok, _, stderr) = kubectl_as(kubeconfig, args);
    assert!(
        !ok && stderr.to_lowercase().contains("forbidden"),
        "expected `kubectl {}` to be forbidden, got success={ok}: {stderr}",
        args.join(" ")
    );
}

#[test]
fn a_worker_bound_to_konductor_client_can_use_every_primitive_and_nothing_else() {
    let _serial = one_at_a_time();
    let Some(worker_kubeconfig) = cluster().worker.clone() else {
        eprintln!("skipped: this cluster has no worker user");
        return;
    };
    let ns = Namespace::new("op-rbac-worker");
    let _operator = Operator::start(&ns.name, &[]);
    let worker = ns.worker().expect("worker client");

    // Every client operation.
    worker
        .create_semaphore("sem", 1, None)
        .expect("create semaphore");
    let permit = worker
        .acquire_semaphore("sem", &Options::new().holder("w1"))
        .expect("acquire");
    permit.renew().expect("renew");
    let queued = {
        let worker = client_from(&worker_kubeconfig, &ns.name);
        std::thread::spawn(move || {
            worker
                .acquire_semaphore(
                    "sem",
                    &Options::new().holder("w2").timeout(Duration::from_secs(10)),
                )
                .map(|p| p.release())
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    permit.release().expect("release");
    queued
        .join()
        .expect("thread")
        .expect("queued acquire")
        .expect("release");
    worker
        .create_barrier("bar", 1, None, None)
        .expect("create barrier");
    worker
        .with_barrier(
            "bar",
            &Options::new().holder("w1").timeout(Duration::from_secs(5)),
            || Ok::<_, Error>(()),
        )
        .expect("arrive and wait");
    worker
        .create_lease("lease", None, None)
        .expect("create lease");
    worker
        .with_lease("lease", &Options::new().holder("w1"), |lease| lease.renew())
        .expect("lease");
    worker
        .create_gate(
            "gate",
            vec![condition(ConditionKind::Barrier, "bar", None)],
            None,
        )
        .expect("create gate");
    worker
        .wait_gate("gate", &Options::new().timeout(Duration::from_secs(5)))
        .expect("wait gate");
    assert!(worker.check_gate("gate").expect("check gate"));
    assert_eq!(worker.gate_conditions("gate").expect("conditions").len(), 1);
    assert_eq!(worker.list_semaphores().expect("list").len(), 1);
    assert_eq!(worker.list_barriers().expect("list").len(), 1);
    assert_eq!(worker.list_leases().expect("list").len(), 1);
    assert_eq!(worker.list_gates().expect("list").len(), 1);
    worker
        .create_waitgroup("wg", 1, None)
        .expect("create waitgroup");
    worker.add_waitgroup("wg", 1, &Options::new()).expect("add");
    for holder in ["w1", "w2"] {
        worker
            .done_waitgroup("wg", &Options::new().holder(holder))
            .expect("done");
    }
    worker
        .wait_waitgroup("wg", &Options::new().timeout(Duration::from_secs(5)))
        .expect("wait waitgroup");
    assert_eq!(worker.list_waitgroups().expect("list").len(), 1);
    worker.delete_waitgroup("wg").expect("delete waitgroup");
    worker.delete_gate("gate").expect("delete gate");
    worker.delete_lease("lease").expect("delete lease");
    worker.delete_barrier("bar").expect("delete barrier");

    // Nothing else.
    let n = ns.name.as_str();
    assert_forbidden(&worker_kubeconfig, &["-n", n, "get", "secrets"]);
    assert_forbidden(
        &worker_kubeconfig,
        &[
            "delete",
            "crd",
            "semaphores.sync.konductor.io",
            "--dry-run=server",
        ],
    );
    assert_forbidden(
        &worker_kubeconfig,
        &[
            "-n",
            n,
            "patch",
            "semaphore",
            "sem",
            "--type=merge",
            "-p",
            r#"{"spec":{"permits":9}}"#,
        ],
    );
    assert_forbidden(&worker_kubeconfig, &["-n", n, "create", "configmap", "x"]);
    let elsewhere = worker.in_namespace("default").expect("client");
    assert!(
        matches!(elsewhere.list_semaphores(), Err(Error::Forbidden { .. })),
        "the RoleBinding grants nothing outside its namespace"
    );
}

#[test]
fn the_operator_needs_nothing_beyond_its_cluster_role() {
    let _serial = one_at_a_time();
    let deploy = repo().join("operator/deploy");
    for file in ["namespace.yaml", "operator-rbac.yaml"] {
        kubectl(&["apply", "-f", deploy.join(file).to_str().expect("path")]);
    }
    let token = kubectl(&[
        "-n",
        "konductor-system",
        "create",
        "token",
        "konductor-operator",
        "--duration=1h",
    ]);
    let access = admin_access();
    let ns = Namespace::new("op-rbac-operator");
    let kubeconfig = std::env::temp_dir().join(format!("{}-operator.kubeconfig", ns.name));
    let ca = access.ca_pem.as_deref().map(|pem| {
        use std::io::Write;
        let path = std::env::temp_dir().join(format!("{}-ca.crt", ns.name));
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(pem))
            .expect("write CA");
        path
    });
    let ca_line = ca
        .as_ref()
        .map_or(String::from("insecure-skip-tls-verify: true"), |p| {
            format!("certificate-authority: {}", p.display())
        });
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    {ca_line}\n\
             users:\n- name: operator\n  user:\n    token: {}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: operator\n\
             current-context: c\n",
            access.server,
            token.trim()
        ),
    )
    .expect("write kubeconfig");

    let operator =
        Operator::start_with(&kubeconfig, &ns.name, &leader_election("konductor-system"));
    eventually(Duration::from_secs(10), "the operator to lead", || {
        operator.is_leader()
    });
    let client = ns.admin();
    client
        .create_barrier("never", 2, None, Some(Duration::from_secs(1)))
        .expect("barrier");
    client
        .create_gate(
            "gate",
            vec![condition(ConditionKind::Job, "missing", None)],
            Some(Duration::from_secs(1)),
        )
        .expect("gate");
    client
        .create_waitgroup("finished", 0, Some(Duration::from_secs(1)))
        .expect("waitgroup");
    client.create_semaphore("sem", 1, None).expect("semaphore");
    let permit = client
        .acquire_semaphore(
            "sem",
            &Options::new().holder("crashed").ttl(Duration::from_secs(1)),
        )
        .expect("acquire");
    std::mem::forget(permit);
    assert!(matches!(
        client.wait_gate("gate", &Options::new().timeout(Duration::from_secs(10))),
        Err(Error::Failed { .. })
    ));
    assert!(matches!(
        client.wait_barrier("never", &Options::new().timeout(Duration::from_secs(10))),
        Err(Error::Failed { .. })
    ));
    eventually(
        Duration::from_secs(5),
        "the stale holder to be reclaimed",
        || {
            client
                .get_semaphore("sem")
                .expect("get")
                .status
                .is_some_and(|s| s.holders.is_empty())
        },
    );
    eventually(Duration::from_secs(5), "events to be published", || {
        ns.event_reasons().contains("Reclaimed")
    });
    eventually(
        Duration::from_secs(10),
        "the wait group deleted after its ttl",
        || {
            matches!(
                client.get_waitgroup("finished"),
                Err(Error::NotFound { .. })
            )
        },
    );
    let log = operator.log_text();
    assert!(
        !log.to_lowercase().contains("forbidden"),
        "the operator hit a permission it lacks:\n{log}"
    );
    let _ = std::fs::remove_file(kubeconfig);
    if let Some(ca) = ca {
        let _ = std::fs::remove_file(ca);
    }
}
