"""Client construction: kubeconfig file, context, KUBECONFIG, inference, in-cluster, namespaces."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import uuid

import pytest

import konductor
from conftest import Cluster


def test_kubeconfig_and_context_select_the_cluster(cluster: Cluster, namespace: str) -> None:
    context = cluster.kubectl("config", "current-context").strip()
    client = konductor.Client(namespace=namespace, kubeconfig=cluster.kubeconfig, context=context)
    assert client.namespace == namespace
    assert repr(client) == f"Client(namespace={namespace!r})"
    assert client.list_semaphores() == []
    with pytest.raises(konductor.ConfigError, match="no-such-context"):
        konductor.Client(kubeconfig=cluster.kubeconfig, context="no-such-context")


def test_configuration_is_inferred_from_the_environment(cluster: Cluster, namespace: str) -> None:
    """Without arguments the client finds $KUBECONFIG (as kubectl does); a
    context alone selects from it."""
    context = cluster.kubectl("config", "current-context").strip()
    script = textwrap.dedent(
        """
        import sys, konductor
        inferred = konductor.Client(namespace=sys.argv[1])
        by_context = konductor.Client(namespace=sys.argv[1], context=sys.argv[2])
        print(len(inferred.list_leases()), len(by_context.list_leases()), konductor.Client().namespace)
        """
    )
    env = {"KUBECONFIG": cluster.kubeconfig, "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    result = subprocess.run(
        [sys.executable, "-c", script, namespace, context], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "0", "default"], "the kubeconfig context's namespace is the default"


def test_in_cluster_outside_a_pod_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    with pytest.raises(konductor.ConfigError, match="KUBERNETES_SERVICE_HOST"):
        konductor.Client.in_cluster()
    with pytest.raises(konductor.ConfigError):
        konductor.Client.in_cluster(namespace="default")


def test_in_namespace_shares_the_client_but_not_the_objects(
    cluster: Cluster, client: konductor.Client, namespace: str
) -> None:
    other_namespace = f"py-other-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", other_namespace)
    try:
        other = client.in_namespace(other_namespace)
        assert other.namespace == other_namespace and client.namespace == namespace
        other.create_semaphore("only-there", 1)
        assert [s.name for s in other.list_semaphores()] == ["only-there"]
        assert client.list_semaphores() == []
        with other.semaphore("only-there") as permit:
            assert other.get_semaphore("only-there").holders[0].holder == permit.holder
    finally:
        cluster.kubectl("delete", "namespace", other_namespace, "--wait=false", check=False)


def test_an_unreleased_permit_is_released_when_collected(client: konductor.Client) -> None:
    client.create_semaphore("forgotten", 1)
    permit = client.acquire_semaphore("forgotten")
    assert client.get_semaphore("forgotten").in_use == 1
    del permit
    gc.collect()
    assert client.get_semaphore("forgotten").holders == ()
