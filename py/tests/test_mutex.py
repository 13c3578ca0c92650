"""Mutexes: create, lock/unlock as a context manager, the busy error naming
the holder, fencing across holders, and a mutex as a gate condition."""

from __future__ import annotations

import datetime
import threading
import time
from typing import List

import pytest

import konductor
from konductor import resources


def test_create_get_list_delete(client: konductor.Client) -> None:
    created = client.create_mutex("config-update", ttl=datetime.timedelta(minutes=10))
    assert isinstance(created, resources.Mutex)
    assert (created.ttl, created.priority, created.holder, created.is_locked) == (
        datetime.timedelta(minutes=10),
        None,
        None,
        False,
    )
    assert client.get_mutex("config-update").to_dict()["kind"] == "Mutex"
    assert [m.name for m in client.list_mutexes()] == ["config-update"]
    with pytest.raises(konductor.AlreadyExistsError):
        client.create_mutex("config-update")
    with pytest.raises(konductor.InvalidArgumentError, match="ttl"):
        client.create_mutex("bad", ttl=-1)
    client.delete_mutex("config-update")
    assert client.list_mutexes() == []
    with pytest.raises(konductor.NotFoundError):
        client.lock_mutex("config-update", timeout=0)


def test_lock_is_exclusive_and_try_lock_names_the_holder(client: konductor.Client) -> None:
    client.create_mutex("section", ttl=60)
    with client.mutex("section", holder="writer-a") as lock:
        assert isinstance(lock, konductor.MutexLock)
        assert (lock.name, lock.holder) == ("section", "writer-a")
        snapshot = client.get_mutex("section")
        assert (snapshot.is_locked, snapshot.holder, snapshot.token) == (True, "writer-a", lock.token)
        started = time.monotonic()
        with pytest.raises(konductor.LockedError) as locked:
            client.try_lock_mutex("section", holder="writer-b")
        assert time.monotonic() - started < 2
        assert (locked.value.name, locked.value.holder) == ("section", "writer-a")
        assert "writer-a" in str(locked.value)
        with pytest.raises(konductor.TimeoutError):
            client.lock_mutex("section", holder="writer-b", timeout=0.3)
        first_token = lock.token
    assert client.get_mutex("section").is_locked is False
    with client.try_lock_mutex("section", holder="writer-b") as second:
        assert second.token > first_token


def test_a_waiting_locker_gets_the_mutex_when_it_is_unlocked(client: konductor.Client) -> None:
    client.create_mutex("handoff", ttl=60)
    first = client.lock_mutex("handoff", holder="first")
    got: List[konductor.MutexLock] = []
    waiter = threading.Thread(target=lambda: got.append(client.lock_mutex("handoff", holder="second", timeout=30)))
    waiter.start()
    deadline = time.monotonic() + 10
    while not client.mutex_waiters("handoff") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [w.holder for w in client.mutex_waiters("handoff")] == ["second"]
    assert not got, "the waiter must not get a locked mutex"
    first.release()
    waiter.join(timeout=30)
    assert [lock.holder for lock in got] == ["second"]
    got[0].release()


def test_a_gate_condition_can_name_a_mutex(client: konductor.Client) -> None:
    client.create_mutex("m")
    gate = client.create_gate("after-m", [konductor.GateCondition("Mutex", "m", state="Unlocked")])
    assert gate.conditions[0].type == "Mutex"
    assert "Mutex" in resources.CONDITION_TYPES
