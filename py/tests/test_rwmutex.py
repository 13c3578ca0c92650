"""RWMutexes: readers share, a writer waits for them, the busy error, fencing."""

from __future__ import annotations

import datetime

import pytest

import konductor
from konductor import resources


def test_create_read_and_write(client: konductor.Client) -> None:
    created = client.create_rwmutex("cache", ttl=30, max_readers=8)
    assert isinstance(created, resources.RWMutex)
    assert (created.ttl, created.max_readers, created.phase) == (datetime.timedelta(seconds=30), 8, "")
    with pytest.raises(konductor.InvalidArgumentError):
        client.create_rwmutex("huge", max_readers=0)
    with client.read_lock_rwmutex("cache", holder="reader-a") as a:
        assert isinstance(a, konductor.ReadLock)
        with client.try_read_lock_rwmutex("cache", holder="reader-b") as b:
            snapshot = client.get_rwmutex("cache")
            assert (snapshot.phase, snapshot.readers, snapshot.writer) == ("ReadLocked", 2, None)
            with pytest.raises(konductor.LockedError):
                client.try_write_lock_rwmutex("cache", holder="writer")
            with pytest.raises(konductor.TimeoutError):
                client.write_lock_rwmutex("cache", holder="writer", timeout=0.3)
            last_read = b.token
    with client.write_lock_rwmutex("cache", holder="writer", timeout=10) as w:
        assert isinstance(w, konductor.WriteLock) and w.token > last_read
        assert client.get_rwmutex("cache").writer == "writer"
        with pytest.raises(konductor.LockedError):
            client.try_read_lock_rwmutex("cache", holder="late-reader")
    assert client.get_rwmutex("cache").phase == "Unlocked"
    assert [m.name for m in client.list_rwmutexes()] == ["cache"]
    client.delete_rwmutex("cache")
