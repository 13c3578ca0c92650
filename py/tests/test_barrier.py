"""Barriers: arrivals, waiting until open, quorum, failure, the context manager."""

from __future__ import annotations

import datetime
import threading
import time
from typing import Callable, List

import pytest

import konductor
from konductor import resources
from conftest import wake_latency


def test_create_get_list_delete(client: konductor.Client) -> None:
    created = client.create_barrier("stage-1", 3, quorum=2, timeout=datetime.timedelta(minutes=10))
    assert isinstance(created, resources.Barrier)
    assert (created.expected, created.quorum, created.timeout) == (3, 2, datetime.timedelta(minutes=10))
    assert client.get_barrier("stage-1").to_dict()["spec"] == {"expected": 3, "quorum": 2, "timeout": "10m0s"}
    assert [b.name for b in client.list_barriers()] == ["stage-1"]
    client.delete_barrier("stage-1")
    assert client.list_barriers() == []
    with pytest.raises(konductor.NotFoundError):
        client.delete_barrier("stage-1")


def test_arrivals_open_the_barrier_at_expected(client: konductor.Client) -> None:
    client.create_barrier("stage-1-done", 2)
    first = client.arrive_barrier("stage-1-done", holder="worker-1")
    assert (first.phase, first.arrived, [a.holder for a in first.arrivals]) == ("Waiting", 1, ["worker-1"])
    assert first.arrivals[0].arrived_at is not None and first.arrivals[0].arrived_at.tzinfo is not None
    again = client.arrive_barrier("stage-1-done", holder="worker-1")
    assert again.arrived == 1, "arrival is idempotent per holder"
    with pytest.raises(konductor.TimeoutError):
        client.wait_barrier("stage-1-done", timeout=0.2)

    last, latency = wake_latency(
        lambda: client.wait_barrier("stage-1-done", timeout=20),
        lambda: client.arrive_barrier("stage-1-done", holder="worker-2"),
    )
    assert last.is_open and last.opened_at is not None
    assert latency < 2, f"the waiter should wake soon after the last arrival, woke after {latency:.2f}s"
    client.wait_barrier("stage-1-done", timeout=0)


def test_quorum_opens_before_all_expected_arrive(client: konductor.Client) -> None:
    client.create_barrier("quorum", 5, quorum=2)
    client.arrive_barrier("quorum", holder="a")
    assert client.arrive_barrier("quorum", holder="b").phase == "Open"


def test_barrier_context_manager_runs_the_block_once_everyone_arrived(client: konductor.Client) -> None:
    client.create_barrier("sync-point", 3)
    entered: List[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        with client.barrier("sync-point", holder=name, timeout=30):
            with lock:
                entered.append(name)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for thread in threads[:2]:
        thread.start()
    time.sleep(0.5)
    assert entered == [], "nobody enters before the last arrival"
    threads[2].start()
    for thread in threads:
        thread.join(30)
    assert sorted(entered) == ["w0", "w1", "w2"]


def test_failed_barrier_raises_failed_error(
    client: konductor.Client, patch_status: Callable[[str, str, str], None]
) -> None:
    client.create_barrier("doomed", 2)
    client.arrive_barrier("doomed", holder="a")
    patch_status("barriers", "doomed", '{"phase": "Failed", "message": "timed out after 1m0s"}')
    with pytest.raises(konductor.FailedError) as failed:
        client.wait_barrier("doomed", timeout=5)
    assert (failed.value.kind, failed.value.name, failed.value.reason) == ("Barrier", "doomed", "timed out after 1m0s")
    with pytest.raises(konductor.FailedError):
        client.arrive_barrier("doomed", holder="b")
