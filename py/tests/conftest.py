"""Fixtures: the real control plane, one namespace per test, and clients in it.

The cluster is `KONDUCTOR_TEST_KUBECONFIG` when set (any cluster with the
Konductor CRDs), else the local control plane that `tests/cluster/up` starts.
Namespaces are created and deleted as admin with kubectl.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Tuple, TypeVar

import pytest

import konductor

REPO = Path(__file__).resolve().parents[2]
CLUSTER = REPO / ".cache" / "cluster"


_T = TypeVar("_T")


def wake_latency(wait: Callable[[], None], wake: Callable[[], _T]) -> Tuple[_T, float]:
    """Runs ``wait`` on a thread, calls ``wake`` once it waits, and returns
    what ``wake`` returned and how many seconds after it the wait returned
    (infinity when it did not return within 20 s)."""
    returned: List[float] = []

    def waiter() -> None:
        wait()
        returned.append(time.monotonic())

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.3)
    woken = time.monotonic()
    result = wake()
    thread.join(20)
    return result, (returned[0] - woken if returned else float("inf"))


class Cluster:
    """The test cluster: its admin kubeconfig and a kubectl to drive it."""

    def __init__(self, kubeconfig: str, kubectl: str) -> None:
        self.kubeconfig = kubeconfig
        self.kubectl_path = kubectl

    def kubectl(self, *args: str, input: Optional[str] = None, check: bool = True) -> str:
        result = subprocess.run(
            [self.kubectl_path, "--kubeconfig", self.kubeconfig, "--request-timeout=20s", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    @property
    def worker_kubeconfig(self) -> Optional[str]:
        """The no-permission `worker` user of the local control plane, if that is the cluster."""
        path = Path(self.kubeconfig).with_name("worker.kubeconfig")
        return str(path) if path.is_file() else None


def _find_kubectl() -> str:
    env = CLUSTER / "env"
    if env.is_file():
        for line in env.read_text().splitlines():
            if line.startswith("KUBECTL="):
                return line.split("=", 1)[1]
    found = shutil.which("kubectl")
    if found is None:
        raise RuntimeError("no kubectl: start the control plane with tests/cluster/up or put kubectl on PATH")
    return found


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    kubeconfig = os.environ.get("KONDUCTOR_TEST_KUBECONFIG")
    if not kubeconfig:
        up = subprocess.run(
            [str(REPO / "tests" / "cluster" / "up")], capture_output=True, text=True, timeout=1800
        )
        if up.returncode != 0:
            raise RuntimeError(f"tests/cluster/up failed:\n{up.stderr}")
        kubeconfig = up.stdout.strip().splitlines()[-1]
    return Cluster(kubeconfig, _find_kubectl())


@pytest.fixture
def namespace(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace named after the test, deleted afterwards."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    name = f"py-{slug[:45].strip('-')}-{uuid.uuid4().hex[:6]}"
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def client(cluster: Cluster, namespace: str) -> konductor.Client:
    return konductor.Client(namespace=namespace, kubeconfig=cluster.kubeconfig)


@pytest.fixture
def patch_status(cluster: Cluster, namespace: str) -> Callable[[str, str, str], None]:
    """Writes an object's status as the operator would (merge patch, as admin)."""

    def patch(kind_plural: str, name: str, status_json: str) -> None:
        cluster.kubectl(
            "-n",
            namespace,
            "patch",
            f"{kind_plural}.sync.konductor.io",
            name,
            "--subresource=status",
            "--type=merge",
            "-p",
            f'{{"status": {status_json}}}',
        )

    return patch


def holder_names(records: Any) -> List[str]:
    return [record.holder for record in records]


@pytest.fixture
def cluster_kubeconfig(cluster: Cluster) -> str:
    return cluster.kubeconfig
