//! What the API server's authentication and authorization answers become:
//! a user without a RoleBinding gets Forbidden, a bad token Unauthorized.

use std::time::Duration;

use konductor::{Client, Config, Error, Options};
use konductor_tests::cluster::cluster;
use konductor_tests::kubeconfig::admin_access;
use konductor_tests::namespace::{client_from, Namespace};
use konductor_tests::wait::eventually_ok;

fn expect_forbidden<T: std::fmt::Debug>(what: &str, result: Result<T, Error>) {
    match result {
        Err(Error::Forbidden(status)) => {
            assert_eq!(status.code, 403, "{what}: {status}");
            assert!(
                status.message.contains("worker"),
                "{what}: the message names the user: {status}"
            );
        }
        other => panic!("{what}: expected Forbidden, got {other:?}"),
    }
}

#[test]
fn the_worker_is_forbidden_in_a_namespace_without_a_role_binding() {
    let Some(worker_kubeconfig) = cluster().worker.clone() else {
        println!("skipped: no worker user on this cluster (KONDUCTOR_TEST_KUBECONFIG)");
        return;
    };
    let ns = Namespace::new("access-denied");
    let admin = ns.admin();
    admin
        .create_semaphore("s", 1, None)
        .expect("create as admin");
    admin
        .create_lease("l", None, None)
        .expect("create as admin");
    admin
        .create_barrier("b", 1, None, None)
        .expect("create as admin");
    let worker = client_from(&worker_kubeconfig, &ns.name);
    let once = Options::new().timeout(Duration::ZERO);

    expect_forbidden("get_semaphore", worker.get_semaphore("s"));
    expect_forbidden("list_semaphores", worker.list_semaphores());
    expect_forbidden("create_semaphore", worker.create_semaphore("mine", 1, None));
    expect_forbidden("delete_semaphore", worker.delete_semaphore("s"));
    expect_forbidden("acquire_semaphore", worker.acquire_semaphore("s", &once));
    expect_forbidden("try_acquire_lease", worker.try_acquire_lease("l", &once));
    expect_forbidden("arrive_barrier", worker.arrive_barrier("b", &once));
    expect_forbidden("wait_barrier", worker.wait_barrier("b", &once));
    expect_forbidden("check_gate", worker.check_gate("g"));
    assert!(
        admin
            .get_semaphore("s")
            .expect("still there")
            .status
            .is_none(),
        "nothing was written"
    );
}

#[test]
fn a_role_binding_lets_the_worker_use_the_primitives_in_that_namespace_only() {
    if cluster().worker.is_none() {
        println!("skipped: no worker user on this cluster (KONDUCTOR_TEST_KUBECONFIG)");
        return;
    }
    let ns = Namespace::new("access-granted");
    let other = Namespace::new("access-other");
    ns.admin()
        .create_semaphore("s", 1, None)
        .expect("create as admin");
    other
        .admin()
        .create_semaphore("s", 1, None)
        .expect("create as admin");
    let worker = ns.worker().expect("worker client");

    // RBAC caches can take a moment to see a new binding.
    let permit = eventually_ok(Duration::from_secs(10), || {
        worker.acquire_semaphore("s", &Options::new().holder("w").timeout(Duration::ZERO))
    });
    worker
        .create_lease("l", None, None)
        .expect("worker creates a lease");
    worker
        .try_acquire_lease("l", &Options::new().holder("w"))
        .expect("and takes it")
        .release()
        .expect("release");
    permit.release().expect("release");
    worker.delete_lease("l").expect("worker deletes its lease");

    let elsewhere = worker.in_namespace(&other.name).expect("valid namespace");
    expect_forbidden(
        "acquire in another namespace",
        elsewhere.acquire_semaphore("s", &Options::new().timeout(Duration::ZERO)),
    );
}

#[test]
fn a_bad_token_is_unauthorized() {
    let ns = Namespace::new("access-token");
    ns.admin()
        .create_semaphore("s", 1, None)
        .expect("create as admin");
    let good = Config::from_kubeconfig(&cluster().admin, None).expect("admin kubeconfig");
    let Some(ca) = admin_access().ca_pem else {
        println!("skipped: the test kubeconfig has no CA data to build a config from");
        return;
    };
    let config = Config::new(good.server())
        .expect("server URL")
        .with_ca_pem(&ca)
        .with_token("not-a-valid-token")
        .with_namespace(&ns.name);
    let client = Client::new(Some(config)).expect("client");
    match client.get_semaphore("s") {
        Err(Error::Unauthorized(status)) => assert_eq!(status.code, 401, "{status}"),
        other => panic!("expected Unauthorized for a bad token, got {other:?}"),
    }
    match client.acquire_semaphore("s", &Options::new().timeout(Duration::ZERO)) {
        Err(Error::Unauthorized(_)) => {}
        other => panic!("expected Unauthorized from acquire, got {other:?}"),
    }
}
