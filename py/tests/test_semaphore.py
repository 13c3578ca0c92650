"""Semaphores: create/read/list/delete, acquire/renew/release, context managers,
and threads of one process contending with the GIL released."""

from __future__ import annotations

import dataclasses
import datetime
import threading
import time
from typing import List

import pytest

import konductor
from konductor import resources


def test_create_get_list_delete_return_typed_snapshots(client: konductor.Client) -> None:
    created = client.create_semaphore("db-connections", 3, ttl=datetime.timedelta(minutes=2))
    assert isinstance(created, resources.Semaphore)
    assert (created.name, created.namespace, created.permits) == ("db-connections", client.namespace, 3)
    assert created.ttl == datetime.timedelta(minutes=2)
    assert created.available == 3 and created.in_use == 0 and created.holders == ()
    assert created.created_at is not None and created.created_at.tzinfo is not None

    got = client.get_semaphore("db-connections")
    assert got.resource_version == created.resource_version
    assert got.to_dict()["spec"] == {"permits": 3, "ttl": "2m0s"}
    assert got.to_dict()["kind"] == "Semaphore"
    assert "db-connections" in repr(got) and "permits=3" in repr(got)
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.permits = 4  # type: ignore[misc]

    client.create_semaphore("other", 1)
    assert sorted(s.name for s in client.list_semaphores()) == ["db-connections", "other"]

    client.delete_semaphore("other")
    assert [s.name for s in client.list_semaphores()] == ["db-connections"]
    with pytest.raises(konductor.NotFoundError):
        client.get_semaphore("other")


def test_permit_exposes_holder_token_ttl_and_aware_expiry(client: konductor.Client) -> None:
    client.create_semaphore("api-quota", 2)
    before = datetime.datetime.now(datetime.timezone.utc)
    permit = client.acquire_semaphore("api-quota", ttl=30, holder="worker-1", priority=5)
    try:
        assert permit.name == "api-quota"
        assert permit.holder == "worker-1"
        assert permit.ttl == datetime.timedelta(seconds=30)
        assert permit.expires_at.tzinfo is not None
        assert before + datetime.timedelta(seconds=29) < permit.expires_at
        assert permit.expires_at < before + datetime.timedelta(seconds=32)
        assert not permit.is_lost
        assert repr(permit) == f"Permit(name='api-quota', holder='worker-1', token={permit.token})"

        status = client.get_semaphore("api-quota")
        assert [(h.holder, h.token, h.priority) for h in status.holders] == [("worker-1", permit.token, 5)]
        assert status.in_use == 1 and status.available == 1 and status.phase == "Ready"

        first_expiry = permit.expires_at
        time.sleep(0.05)
        permit.renew()
        assert permit.expires_at > first_expiry
        assert client.get_semaphore("api-quota").holders[0].renew_count == 1
    finally:
        permit.release()
    assert permit.is_lost
    permit.release()  # idempotent
    assert client.get_semaphore("api-quota").holders == ()


def test_fencing_tokens_strictly_increase(client: konductor.Client) -> None:
    client.create_semaphore("fenced", 1)
    tokens = []
    for _ in range(3):
        with client.semaphore("fenced") as permit:
            tokens.append(permit.token)
    assert tokens == sorted(set(tokens)) and len(tokens) == 3


def test_semaphore_context_manager_releases_on_exception(client: konductor.Client) -> None:
    client.create_semaphore("guarded", 1)
    with pytest.raises(RuntimeError, match="boom"):
        with client.semaphore("guarded", holder="failing-work") as permit:
            assert client.get_semaphore("guarded").in_use == 1
            raise RuntimeError("boom")
    assert permit.is_lost
    assert client.get_semaphore("guarded").holders == ()
    # The permit is free again: a try-once acquire succeeds.
    client.acquire_semaphore("guarded", timeout=0).release()


def test_work_that_outlives_its_permit_raises_lost_after_releasing(client: konductor.Client) -> None:
    client.create_semaphore("slow", 1)
    with pytest.raises(konductor.LostError) as lost:
        with client.semaphore("slow", holder="slow-work", ttl=0.3, timeout=5):
            time.sleep(0.8)  # past the TTL, unrenewed: others may have been granted it
    assert lost.value.holder == "slow-work"
    assert client.get_semaphore("slow").holders == ()


def test_permit_as_context_manager_releases_on_exception(client: konductor.Client) -> None:
    client.create_semaphore("guarded", 1)
    with pytest.raises(KeyError):
        with client.acquire_semaphore("guarded"):
            raise KeyError("x")
    assert client.get_semaphore("guarded").holders == ()


def test_full_semaphore_with_zero_timeout_raises_timeout(client: konductor.Client) -> None:
    client.create_semaphore("single", 1)
    with client.semaphore("single"):
        started = time.monotonic()
        with pytest.raises(konductor.TimeoutError):
            client.acquire_semaphore("single", timeout=0)
        with pytest.raises(TimeoutError):  # the builtin catches it too
            client.acquire_semaphore("single", timeout=0.3)
        assert time.monotonic() - started < 3
    assert client.semaphore_waiters("single") == ()


def test_waiter_is_granted_when_the_holder_releases(client: konductor.Client) -> None:
    client.create_semaphore("handoff", 1)
    holder = client.acquire_semaphore("handoff")
    granted: List[konductor.Permit] = []
    waiter = threading.Thread(target=lambda: granted.append(client.acquire_semaphore("handoff", timeout=30)))
    waiter.start()
    deadline = time.monotonic() + 10
    while not client.semaphore_waiters("handoff") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(client.semaphore_waiters("handoff")) == 1, "the second acquirer should be queued"
    holder.release()
    waiter.join(10)
    assert len(granted) == 1 and granted[0].token > holder.token
    granted[0].release()


def test_auto_renew_keeps_the_permit_past_its_ttl(client: konductor.Client) -> None:
    client.create_semaphore("long-task", 1)
    with client.semaphore("long-task", ttl=1.5, auto_renew=True) as permit:
        time.sleep(2.5)
        assert not permit.is_lost
        assert client.get_semaphore("long-task").holders[0].renew_count >= 2


def test_eight_threads_share_two_permits_waiting_in_parallel(client: konductor.Client) -> None:
    """The GIL is released while waiting: 8 threads queue at once, at most 2
    hold at a time, the total is close to 8 holds / 2 permits, and the main
    thread keeps running Python code meanwhile."""
    client.create_semaphore("pool", 2, ttl=60)
    hold = 0.5
    lock = threading.Lock()
    active = 0
    overlap = 0
    errors: List[BaseException] = []

    def work() -> None:
        nonlocal active, overlap
        try:
            with client.semaphore("pool", timeout=60):
                with lock:
                    active += 1
                    overlap = max(overlap, active)
                time.sleep(hold)
                with lock:
                    active -= 1
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    ticks = 0
    while any(thread.is_alive() for thread in threads):
        ticks += 1
        time.sleep(0.001)
    elapsed = time.monotonic() - started

    print(f"\n8 threads x {hold}s on 2 permits: {elapsed:.2f}s wall (ideal {4 * hold:.1f}s), main thread ran {ticks} times")
    assert errors == []
    assert overlap == 2, f"expected exactly 2 concurrent holders at peak, saw {overlap}"
    assert elapsed >= 4 * hold
    assert elapsed < 4 * hold + 2.5, f"8 holds of {hold}s on 2 permits took {elapsed:.2f}s"
    assert ticks > 200, f"the main thread ran only {ticks} times while others waited"
    status = client.get_semaphore("pool")
    assert status.holders == () and client.semaphore_waiters("pool") == ()
