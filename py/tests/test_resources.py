"""Snapshots are built from core's objects by their field declarations (no server needed)."""

from __future__ import annotations

import datetime

from konductor import resources

LEASE = {
    "apiVersion": "sync.konductor.io/v1",
    "kind": "Lease",
    "metadata": {"name": "leader", "namespace": "ns", "creationTimestamp": "2026-01-02T03:04:05Z"},
    "spec": {"ttl": "1m30s"},
    "status": {
        "holder": "replica-1",
        "transitions": 7,
        "expiresAt": "2026-01-02T03:05:35.250+01:00",
        "phase": "Held",
        "holderHandoff": 4,
    },
}

WAITER = {
    "apiVersion": "sync.konductor.io/v1",
    "kind": "Waiter",
    "metadata": {"name": "t-1f2e", "namespace": "ns", "resourceVersion": "812"},
    "spec": {
        "target": {"kind": "Lease", "name": "leader", "uid": "0b7c"},
        "holder": "replica-2",
        "ticket": "t-1f2e",
        "priority": 3,
        "ttl": "1m0s",
        "holdTtl": "30s",
        "renewCount": 2,
        "sequence": "806",
        "enqueuedAt": "",
    },
}


def test_fields_are_read_from_their_declared_paths_and_converted_by_type() -> None:
    lease = resources.Lease._from_api(LEASE)
    assert (lease.name, lease.namespace, lease.phase, lease.holder, lease.token) == ("leader", "ns", "Held", "replica-1", 7)
    assert lease.ttl == datetime.timedelta(seconds=90)
    assert lease.expires_at == datetime.datetime(
        2026, 1, 2, 3, 5, 35, 250000, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    )
    assert lease.created_at is not None and lease.created_at.tzinfo is datetime.timezone.utc
    assert lease.priority is None and lease.acquired_at is None and lease.renew_count == 0
    assert not hasattr(lease, "waiters"), "the queue is not part of the lease"
    assert lease.to_dict() == LEASE and lease.to_dict() is not LEASE


def test_a_waiter_is_an_object_of_its_own() -> None:
    waiter = resources.Waiter._from_api(WAITER)
    assert isinstance(waiter, resources.Object)
    assert (waiter.name, waiter.namespace, waiter.holder, waiter.ticket) == ("t-1f2e", "ns", "replica-2", "t-1f2e")
    assert (waiter.priority, waiter.renew_count, waiter.enqueued_at) == (3, 2, None)
    assert (waiter.ttl, waiter.hold_ttl) == (datetime.timedelta(minutes=1), datetime.timedelta(seconds=30))
    assert waiter.to_dict() == WAITER


def test_a_semaphore_without_status_has_all_permits_available() -> None:
    semaphore = resources.Semaphore._from_api({"metadata": {"name": "s"}, "spec": {"permits": 4}})
    assert (semaphore.permits, semaphore.available, semaphore.in_use, semaphore.phase) == (4, 4, 0, "")
    assert semaphore.holders == () and semaphore.ttl is None and semaphore.created_at is None
