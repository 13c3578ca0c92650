"""Ctrl-C (SIGINT) interrupts a blocking wait promptly and leaves nothing held or queued."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Callable, Tuple

import konductor
from conftest import Cluster

# A process that holds one semaphore's permit while it waits on another
# semaphore, and reports how it ended.
WAITER = textwrap.dedent(
    """
    import sys, time
    import konductor

    namespace, kubeconfig = sys.argv[1], sys.argv[2]
    client = konductor.Client(namespace=namespace, kubeconfig=kubeconfig)
    try:
        with client.semaphore("held", holder="sigint-holder"):
            print("holding", flush=True)
            client.acquire_semaphore("busy", holder="sigint-waiter")
    except KeyboardInterrupt:
        print(f"interrupted {time.monotonic():.6f}", flush=True)
        sys.exit(3)
    """
)


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def interrupt(
    cluster: Cluster, namespace: str, script: str, ready: str, queued: Callable[[], bool]
) -> Tuple[int, str, str, float, float]:
    """Runs ``script`` in a subprocess, waits until it prints ``ready`` and
    ``queued()`` holds, sends SIGINT, and returns its exit code, output, error
    output, and the times SIGINT was sent and the process was gone."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, namespace, cluster.kubeconfig],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == ready
        wait_until(queued, "the subprocess is queued")
        sent = time.monotonic()
        os.kill(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=15)
        exited = time.monotonic()
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, out, err, sent, exited


def test_sigint_interrupts_a_queued_acquire_and_releases_everything(
    cluster: Cluster, client: konductor.Client
) -> None:
    client.create_semaphore("held", 1)
    client.create_semaphore("busy", 1)
    blocker = client.acquire_semaphore("busy", holder="blocker")
    returncode, out, err, sent, exited = interrupt(
        cluster,
        client.namespace,
        WAITER,
        "holding",
        lambda: [w.holder for w in client.semaphore_waiters("busy")] == ["sigint-waiter"],
    )
    assert returncode == 3, f"expected exit 3 after KeyboardInterrupt, got {returncode}: {err}"
    interrupted = float(out.split()[1])
    latency = interrupted - sent
    print(f"\nCtrl-C latency: KeyboardInterrupt raised {latency * 1000:.0f} ms after SIGINT, "
          f"process gone after {(exited - sent) * 1000:.0f} ms")
    assert latency < 1.0, f"KeyboardInterrupt took {latency:.2f}s"

    queued = client.semaphore_waiters("busy")
    assert queued == (), f"the interrupted waiter is still queued: {queued}"
    assert [h.holder for h in client.get_semaphore("busy").holders] == ["blocker"]
    assert client.get_semaphore("held").holders == (), "the permit held by the with block was released"
    blocker.release()


def test_sigint_interrupts_a_barrier_wait(cluster: Cluster, client: konductor.Client) -> None:
    client.create_barrier("never", 2)
    script = textwrap.dedent(
        """
        import sys, konductor
        client = konductor.Client(namespace=sys.argv[1], kubeconfig=sys.argv[2])
        print("waiting", flush=True)
        client.wait_barrier("never")
        """
    )
    # A barrier wait leaves no record to see it queued: give it half a second.
    started = time.monotonic()
    _, _, err, sent, exited = interrupt(
        cluster, client.namespace, script, "waiting", lambda: time.monotonic() - started > 0.5
    )
    assert "KeyboardInterrupt" in err, err
    elapsed = exited - sent
    assert elapsed < 2, f"the process took {elapsed:.2f}s to stop"
