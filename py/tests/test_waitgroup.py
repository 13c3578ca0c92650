"""Wait groups: create and bounds, add and done once per call or holder,
below zero, waiting until zero (blocking, timeout, from threads)."""

from __future__ import annotations

import datetime
import threading
import time
from typing import List

import pytest

import konductor
from konductor import resources


def test_create_get_list_delete(client: konductor.Client) -> None:
    created = client.create_waitgroup("shards", 3, ttl=datetime.timedelta(hours=1))
    assert isinstance(created, resources.WaitGroup)
    assert (created.expected, created.ttl, created.counter, created.phase) == (
        3,
        datetime.timedelta(hours=1),
        3,
        "",
    ), "the counter is expected before the first write"
    assert client.get_waitgroup("shards").to_dict()["spec"] == {"expected": 3, "ttl": "1h0m0s"}
    assert [g.name for g in client.list_waitgroups()] == ["shards"]
    with pytest.raises(konductor.AlreadyExistsError):
        client.create_waitgroup("shards", 1)
    with pytest.raises(konductor.InvalidArgumentError) as too_many:
        client.create_waitgroup("big", 10_001)
    assert too_many.value.argument == "expected"
    with pytest.raises(konductor.InvalidArgumentError):
        client.create_waitgroup("negative", -1)
    with pytest.raises(TypeError):
        client.create_waitgroup("text", "3")  # type: ignore[arg-type]
    client.delete_waitgroup("shards")
    with pytest.raises(konductor.NotFoundError):
        client.done_waitgroup("shards", holder="a")


def test_add_and_done_count_once_and_never_below_zero(client: konductor.Client) -> None:
    client.create_waitgroup("g")
    assert client.get_waitgroup("g").is_done, "a group created at zero is done"
    added = client.add_waitgroup("g", 2)
    assert (added.counter, added.added, added.phase) == (2, 2, "Waiting")
    for bad in (0, -1):
        with pytest.raises(konductor.InvalidArgumentError):
            client.add_waitgroup("g", bad)
    with pytest.raises(konductor.InvalidArgumentError) as over:
        client.add_waitgroup("g", 1_999)
    assert over.value.argument == "count" and "over 2000" in over.value.reason
    first = client.done_waitgroup("g", holder="worker-1")
    again = client.done_waitgroup("g", holder="worker-1")
    assert (first.counter, again.counter) == (1, 1), "a retried done of the same holder counts once"
    last = client.done_waitgroup("g", holder="worker-2")
    assert (last.counter, last.phase, last.done_holders) == (0, "Done", ("worker-1", "worker-2"))
    assert last.done_at is not None and last.done_at.tzinfo is not None
    with pytest.raises(konductor.BelowZeroError) as below:
        client.done_waitgroup("g", holder="worker-3")
    error = below.value
    assert (error.kind, error.name, error.holder, error.counter, error.done) == ("WaitGroup", "g", "worker-3", 0, 2)
    assert "below zero" in str(error)


def test_wait_blocks_until_zero_and_times_out_before(client: konductor.Client) -> None:
    client.create_waitgroup("g", 3)
    with pytest.raises(konductor.TimeoutError):
        client.wait_waitgroup("g", timeout=0.3)
    returned: List[float] = []
    waiter = threading.Thread(target=lambda: (client.wait_waitgroup("g", timeout=20), returned.append(time.monotonic())))
    waiter.start()
    workers = [
        threading.Thread(target=client.done_waitgroup, args=("g",), kwargs={"holder": f"w-{i}"}) for i in range(3)
    ]
    time.sleep(0.3)
    assert not returned, "the wait returned while the counter was above zero"
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    zero_at = time.monotonic()
    waiter.join(timeout=20)
    assert returned, "the wait did not return at zero"
    assert returned[0] - zero_at < 2.0
    assert client.get_waitgroup("g").counter == 0
    client.wait_waitgroup("g", timeout=0)
