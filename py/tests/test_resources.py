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
        "waiters": [{"holder": "replica-2", "priority": 3, "enqueuedAt": "", "ttl": "1m0s", "holdTtl": "30s"}],
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
    assert lease.waiters == (resources.Waiter("replica-2", 3, None, datetime.timedelta(seconds=30)),)
    assert lease.to_dict() == LEASE and lease.to_dict() is not LEASE


def test_a_semaphore_without_status_has_all_permits_available() -> None:
    semaphore = resources.Semaphore._from_api({"metadata": {"name": "s"}, "spec": {"permits": 4}})
    assert (semaphore.permits, semaphore.available, semaphore.in_use, semaphore.phase) == (4, 4, 0, "")
    assert semaphore.holders == () and semaphore.ttl is None and semaphore.created_at is None
