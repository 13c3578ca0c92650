"""Leases: acquire, try-acquire, the context manager, and leader election."""

from __future__ import annotations

import datetime
import threading
import time
from typing import List

import pytest

import konductor
from konductor import resources


def test_create_get_list_delete(client: konductor.Client) -> None:
    created = client.create_lease("migration-lock", ttl=datetime.timedelta(minutes=10), priority=3)
    assert isinstance(created, resources.Lease)
    assert (created.ttl, created.priority, created.holder) == (datetime.timedelta(minutes=10), 3, None)
    assert client.get_lease("migration-lock").to_dict()["spec"] == {"ttl": "10m0s", "priority": 3}
    assert [lease.name for lease in client.list_leases()] == ["migration-lock"]
    client.delete_lease("migration-lock")
    assert client.list_leases() == []


def test_acquire_release_and_snapshot(client: konductor.Client) -> None:
    client.create_lease("singleton", ttl=60)
    lease = client.acquire_lease("singleton", holder="instance-a")
    try:
        assert isinstance(lease, konductor.Lease)
        assert (lease.name, lease.holder, lease.ttl) == ("singleton", "instance-a", datetime.timedelta(seconds=60))
        assert lease.expires_at.tzinfo is not None
        snapshot = client.get_lease("singleton")
        assert (snapshot.phase, snapshot.holder, snapshot.token) == ("Held", "instance-a", lease.token)
        assert snapshot.expires_at is not None and snapshot.acquired_at is not None
        lease.renew()
        assert client.get_lease("singleton").renew_count == 1
    finally:
        lease.release()
    assert client.get_lease("singleton").phase == "Available"


def test_try_acquire_raises_lease_held_naming_the_holder(client: konductor.Client) -> None:
    client.create_lease("singleton-task")
    with client.lease("singleton-task", holder="instance-a"):
        started = time.monotonic()
        with pytest.raises(konductor.LeaseHeldError) as held:
            client.try_acquire_lease("singleton-task", holder="instance-b")
        assert time.monotonic() - started < 2
        assert (held.value.name, held.value.holder) == ("singleton-task", "instance-a")
    second = client.try_acquire_lease("singleton-task", holder="instance-b")
    second.release()


def test_lease_waiters_are_listed_in_grant_order_and_granted_in_it(client: konductor.Client) -> None:
    client.create_lease("contended", ttl=60)
    first = client.acquire_lease("contended", holder="first")
    granted: List[konductor.Lease] = []
    threads: List[threading.Thread] = []

    def acquire(holder: str, priority: int) -> None:
        granted.append(client.acquire_lease("contended", holder=holder, priority=priority, ttl=45, timeout=30))

    for holder, priority in (("low", 1), ("high", 5)):
        thread = threading.Thread(target=acquire, args=(holder, priority))
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 10
        while len(client.lease_waiters("contended")) < len(threads) and time.monotonic() < deadline:
            time.sleep(0.02)
    waiters = client.lease_waiters("contended")
    assert [(w.holder, w.priority) for w in waiters] == [("high", 5), ("low", 1)], "higher priority first"
    # The same call, generic over the kind (heartbeats may have changed the objects since).
    assert [w.ticket for w in client.waiters(resources.Lease, "contended")] == [w.ticket for w in waiters]
    for waiter in waiters:
        assert isinstance(waiter, resources.Waiter)
        assert (waiter.namespace, waiter.name) == (client.namespace, waiter.ticket)
        assert waiter.hold_ttl == datetime.timedelta(seconds=45) and waiter.enqueued_at is not None
        assert waiter.ttl is not None and waiter.to_dict()["kind"] == "Waiter"
    assert client.get_lease("contended").holder == "first"

    first.release()
    deadline = time.monotonic() + 10
    while not granted and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [lease.holder for lease in granted] == ["high"]
    granted[0].release()
    for thread in threads:
        thread.join(10)
    assert [lease.holder for lease in granted] == ["high", "low"]
    granted[1].release()
    assert client.lease_waiters("contended") == ()


def test_waiters_of_a_missing_object_or_a_kind_without_a_queue(client: konductor.Client) -> None:
    with pytest.raises(konductor.NotFoundError):
        client.lease_waiters("no-such-lease")
    client.create_barrier("no-queue", 2)
    with pytest.raises(ValueError, match="waiters is not defined for kind Barrier"):
        client.waiters(resources.Barrier, "no-queue")


def test_lease_context_manager_releases_on_exception(client: konductor.Client) -> None:
    client.create_lease("guarded")
    with pytest.raises(ZeroDivisionError):
        with client.lease("guarded") as lease:
            assert client.get_lease("guarded").holder == lease.holder
            _ = 1 / 0
    assert client.get_lease("guarded").holder is None


def test_run_as_leader_returns_the_work_result(client: konductor.Client) -> None:
    client.create_lease("service-leader", ttl=10)

    def work(leadership: konductor.Leadership) -> str:
        assert leadership.is_leader
        assert client.get_lease("service-leader").holder == leadership.holder
        assert leadership.sleep(0.1) is True
        assert leadership.sleep(datetime.timedelta(milliseconds=50)) is True
        return f"led term {leadership.token}"

    result = client.run_as_leader("service-leader", work, holder="replica-1")
    assert result.startswith("led term ")
    assert client.get_lease("service-leader").holder is None, "run_as_leader steps down"


def test_run_as_leader_releases_when_the_work_raises(client: konductor.Client) -> None:
    client.create_lease("service-leader")
    seen: List[konductor.Leadership] = []

    def work(leadership: konductor.Leadership) -> None:
        seen.append(leadership)
        raise ValueError("leader work failed")

    with pytest.raises(ValueError, match="leader work failed"):
        client.run_as_leader("service-leader", work)
    assert client.get_lease("service-leader").holder is None
    assert not seen[0].is_leader


def test_only_one_of_two_contenders_leads_at_a_time(client: konductor.Client) -> None:
    client.create_lease("service-leader", ttl=10)
    lock = threading.Lock()
    leaders = 0
    overlap = 0
    terms: List[int] = []

    def contend() -> None:
        def work(leadership: konductor.Leadership) -> None:
            nonlocal leaders, overlap
            with lock:
                leaders += 1
                overlap = max(overlap, leaders)
                terms.append(leadership.token)
            leadership.sleep(0.3)
            with lock:
                leaders -= 1

        client.run_as_leader("service-leader", work, timeout=30)

    threads = [threading.Thread(target=contend) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert overlap == 1 and len(terms) == 2 and terms[0] < terms[1]


def test_losing_leadership_stops_the_work_and_raises_lost(client: konductor.Client) -> None:
    client.create_lease("fragile", ttl=1.5)
    observed: List[bool] = []

    def work(leadership: konductor.Leadership) -> None:
        client.delete_lease("fragile")  # the next renewal finds the object gone
        started = time.monotonic()
        observed.append(leadership.sleep(10))
        observed.append(time.monotonic() - started < 5)
        observed.append(leadership.is_leader)

    with pytest.raises(konductor.LostError) as lost:
        client.run_as_leader("fragile", work)
    assert observed == [False, True, False], "sleep returns False promptly on loss"
    assert lost.value.kind == "Lease" and lost.value.name == "fragile"
