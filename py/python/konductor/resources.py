"""Read-only snapshots of Konductor objects, as returned by ``get_*`` and ``list_*``.

Each class mirrors one custom resource of ``sync.konductor.io/v1``: the spec
fields the user set and the status the clients and the operator maintain.
Times are timezone-aware :class:`datetime.datetime` values, durations are
:class:`datetime.timedelta`. ``to_dict()`` gives the object exactly as the API
server returned it (camelCase keys, as in YAML).
"""

from __future__ import annotations

import copy
import datetime
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

from . import _native

__all__ = [
    "Semaphore",
    "Barrier",
    "Lease",
    "Gate",
    "Holder",
    "Waiter",
    "Arrival",
    "GateCondition",
    "GateConditionStatus",
    "CONDITION_TYPES",
]

CONDITION_TYPES = ("Job", "Semaphore", "Barrier", "Lease", "Gate")
"""The kinds of object a gate condition can refer to."""

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def _time(value: object) -> Optional[datetime.datetime]:
    """An RFC 3339 timestamp as an aware datetime; ``None`` when absent or empty."""
    if not isinstance(value, str) or not value:
        return None
    match = _RFC3339.match(value)
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone in ("Z", "z"):
        tz = datetime.timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        offset = datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        tz = datetime.timezone(sign * offset)
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    return datetime.datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=tz
    )


def _duration(value: object) -> Optional[datetime.timedelta]:
    """A Go duration string (``"5m0s"``) as a timedelta; ``None`` when absent."""
    if not isinstance(value, str) or not value:
        return None
    return datetime.timedelta(seconds=_native.parse_duration(value))


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _opt_int(value: object) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _opt_str(value: object) -> Optional[str]:
    return value if isinstance(value, str) else None


def _map(value: object) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> Tuple[Dict[str, Any], ...]:
    return tuple(_map(item) for item in value) if isinstance(value, list) else ()


class _Snapshot:
    """What every object snapshot offers besides its fields."""

    _raw: Mapping[str, Any]

    def to_dict(self) -> Dict[str, Any]:
        """The object as the API server returned it (a deep copy).

        Returns:
            A dict with ``apiVersion``, ``kind``, ``metadata``, ``spec`` and
            ``status`` (when set), with the API's camelCase keys.
        """
        return copy.deepcopy(dict(self._raw))


@dataclass(frozen=True)
class Holder:
    """One holder of a semaphore permit.

    Attributes:
        holder: Holder identity.
        token: Fencing token of this grant; strictly increasing per object.
        priority: Priority the holder asked with.
        acquired_at: Time of the grant, by the granting writer's clock.
        renewed_at: Time of the last renewal, by the renewing writer's clock.
        renew_count: Number of renewals.
        ttl: Time-to-live after the last renewal.
    """

    holder: str
    token: int
    priority: int
    acquired_at: Optional[datetime.datetime]
    renewed_at: Optional[datetime.datetime]
    renew_count: int
    ttl: Optional[datetime.timedelta]

    @classmethod
    def _from_api(cls, raw: Mapping[str, Any]) -> Holder:
        return cls(
            holder=_str(raw.get("holder")),
            token=_int(raw.get("token")),
            priority=_int(raw.get("priority")),
            acquired_at=_time(raw.get("acquiredAt")),
            renewed_at=_time(raw.get("renewedAt")),
            renew_count=_int(raw.get("renewCount")),
            ttl=_duration(raw.get("ttl")),
        )


@dataclass(frozen=True)
class Waiter:
    """One queued waiter of a semaphore or lease, in grant order.

    Attributes:
        holder: Waiter identity (its holder identity once granted).
        priority: Priority; higher is granted first.
        enqueued_at: Time the waiter queued itself.
        hold_ttl: Time-to-live the waiter asked for its grant.
    """

    holder: str
    priority: int
    enqueued_at: Optional[datetime.datetime]
    hold_ttl: Optional[datetime.timedelta]

    @classmethod
    def _from_api(cls, raw: Mapping[str, Any]) -> Waiter:
        return cls(
            holder=_str(raw.get("holder")),
            priority=_int(raw.get("priority")),
            enqueued_at=_time(raw.get("enqueuedAt")),
            hold_ttl=_duration(raw.get("holdTtl")),
        )


@dataclass(frozen=True)
class Arrival:
    """One arrival at a barrier.

    Attributes:
        holder: Who arrived.
        arrived_at: Arrival time.
    """

    holder: str
    arrived_at: Optional[datetime.datetime]

    @classmethod
    def _from_api(cls, raw: Mapping[str, Any]) -> Arrival:
        return cls(holder=_str(raw.get("holder")), arrived_at=_time(raw.get("arrivedAt")))


@dataclass(frozen=True)
class GateCondition:
    """One condition of a gate, as given to ``Client.create_gate``.

    Attributes:
        type: Kind of the referenced object: one of :data:`CONDITION_TYPES`.
        name: Name of the referenced object.
        namespace: Its namespace; the gate's own when ``None``.
        state: Required state: Job ``Complete``/``Failed``/``Active``,
            Barrier and Gate ``Open``/``Closed``, Lease ``Acquired``/``Available``.
        value: For a Semaphore: the minimum number of available permits.
    """

    type: str
    name: str
    namespace: Optional[str] = None
    state: Optional[str] = None
    value: Optional[int] = None

    @classmethod
    def _from_api(cls, raw: Mapping[str, Any]) -> GateCondition:
        return cls(
            type=_str(raw.get("type")),
            name=_str(raw.get("name")),
            namespace=_opt_str(raw.get("namespace")),
            state=_opt_str(raw.get("state")),
            value=_opt_int(raw.get("value")),
        )

    def _to_api(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"type": self.type, "name": self.name}
        if self.namespace is not None:
            out["namespace"] = self.namespace
        if self.state is not None:
            out["state"] = self.state
        if self.value is not None:
            out["value"] = self.value
        return out


@dataclass(frozen=True)
class GateConditionStatus:
    """The operator's evaluation of one gate condition.

    Attributes:
        type: Kind of the referenced object.
        name: Name of the referenced object.
        namespace: Namespace of the referenced object, when recorded.
        met: Whether the condition holds.
        message: Human-readable explanation.
    """

    type: str
    name: str
    namespace: Optional[str]
    met: bool
    message: str

    @classmethod
    def _from_api(cls, raw: Mapping[str, Any]) -> GateConditionStatus:
        return cls(
            type=_str(raw.get("type")),
            name=_str(raw.get("name")),
            namespace=_opt_str(raw.get("namespace")),
            met=raw.get("met") is True,
            message=_str(raw.get("message")),
        )


@dataclass(frozen=True)
class Semaphore(_Snapshot):
    """A counting semaphore: at most ``permits`` holders at a time.

    Attributes:
        name: Object name.
        namespace: Namespace of the object.
        permits: Maximum number of concurrent holders.
        ttl: Default permit time-to-live (``None``: the client default, 5 minutes).
        phase: ``"Ready"`` (permits free), ``"Full"``, or ``""`` before first use.
        in_use: Number of holders.
        available: Free permits.
        holders: Current holders, in grant order.
        waiters: Queued waiters, in grant order.
        fencing_token: The last fencing token handed out.
        created_at: Creation time, set by the API server.
        resource_version: Version of the object, for optimistic concurrency.
    """

    name: str
    namespace: str
    permits: int
    ttl: Optional[datetime.timedelta]
    phase: str
    in_use: int
    available: int
    holders: Tuple[Holder, ...]
    waiters: Tuple[Waiter, ...]
    fencing_token: int
    created_at: Optional[datetime.datetime]
    resource_version: str
    _raw: Mapping[str, Any] = field(repr=False, compare=False, hash=False)

    @classmethod
    def _from_api(cls, raw: Dict[str, Any]) -> Semaphore:
        meta, spec, status = _map(raw.get("metadata")), _map(raw.get("spec")), _map(raw.get("status"))
        permits = _int(spec.get("permits"))
        return cls(
            name=_str(meta.get("name")),
            namespace=_str(meta.get("namespace")),
            permits=permits,
            ttl=_duration(spec.get("ttl")),
            phase=_str(status.get("phase")),
            in_use=_int(status.get("inUse")),
            available=_int(status.get("available")) if status else permits,
            holders=tuple(Holder._from_api(h) for h in _list(status.get("holders"))),
            waiters=tuple(Waiter._from_api(w) for w in _list(status.get("waiters"))),
            fencing_token=_int(status.get("fencingToken")),
            created_at=_time(meta.get("creationTimestamp")),
            resource_version=_str(meta.get("resourceVersion")),
            _raw=raw,
        )


@dataclass(frozen=True)
class Barrier(_Snapshot):
    """A rendezvous point that opens once ``expected`` (or ``quorum``) holders arrived.

    Attributes:
        name: Object name.
        namespace: Namespace of the object.
        expected: Number of arrivals that opens the barrier.
        quorum: If set, the barrier opens once this many arrived.
        timeout: If set, the barrier fails when not open this long after creation.
        phase: ``"Waiting"``, ``"Open"``, ``"Failed"``, or ``""`` before the first arrival.
        arrived: Number of arrivals.
        arrivals: Arrivals, one per holder, in arrival order.
        opened_at: Time the barrier opened.
        message: Why the barrier failed, when it did.
        created_at: Creation time, set by the API server.
        resource_version: Version of the object, for optimistic concurrency.
    """

    name: str
    namespace: str
    expected: int
    quorum: Optional[int]
    timeout: Optional[datetime.timedelta]
    phase: str
    arrived: int
    arrivals: Tuple[Arrival, ...]
    opened_at: Optional[datetime.datetime]
    message: str
    created_at: Optional[datetime.datetime]
    resource_version: str
    _raw: Mapping[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def is_open(self) -> bool:
        """True when the barrier's phase is ``Open``."""
        return self.phase == "Open"

    @classmethod
    def _from_api(cls, raw: Dict[str, Any]) -> Barrier:
        meta, spec, status = _map(raw.get("metadata")), _map(raw.get("spec")), _map(raw.get("status"))
        return cls(
            name=_str(meta.get("name")),
            namespace=_str(meta.get("namespace")),
            expected=_int(spec.get("expected")),
            quorum=_opt_int(spec.get("quorum")),
            timeout=_duration(spec.get("timeout")),
            phase=_str(status.get("phase")),
            arrived=_int(status.get("arrived")),
            arrivals=tuple(Arrival._from_api(a) for a in _list(status.get("arrivals"))),
            opened_at=_time(status.get("openedAt")),
            message=_str(status.get("message")),
            created_at=_time(meta.get("creationTimestamp")),
            resource_version=_str(meta.get("resourceVersion")),
            _raw=raw,
        )


@dataclass(frozen=True)
class Lease(_Snapshot):
    """A lease object: at most one holder, for singleton work and leader election.

    (The handle of a lease you hold is :class:`konductor.Lease`.)

    Attributes:
        name: Object name.
        namespace: Namespace of the object.
        ttl: Default lease time-to-live (``None``: the client default, 5 minutes).
        priority: Default priority of acquirers that give none.
        phase: ``"Available"``, ``"Held"``, ``"Expired"``, or ``""`` before first use.
        holder: Current holder identity, if held.
        token: Fencing token of the current grant (the number of grants so far).
        acquired_at: Time of the current grant.
        renewed_at: Time of the last renewal.
        expires_at: When the holder's TTL runs out, by the writer's clock.
        renew_count: Renewals by the current holder.
        waiters: Queued waiters, in grant order.
        created_at: Creation time, set by the API server.
        resource_version: Version of the object, for optimistic concurrency.
    """

    name: str
    namespace: str
    ttl: Optional[datetime.timedelta]
    priority: Optional[int]
    phase: str
    holder: Optional[str]
    token: int
    acquired_at: Optional[datetime.datetime]
    renewed_at: Optional[datetime.datetime]
    expires_at: Optional[datetime.datetime]
    renew_count: int
    waiters: Tuple[Waiter, ...]
    created_at: Optional[datetime.datetime]
    resource_version: str
    _raw: Mapping[str, Any] = field(repr=False, compare=False, hash=False)

    @classmethod
    def _from_api(cls, raw: Dict[str, Any]) -> Lease:
        meta, spec, status = _map(raw.get("metadata")), _map(raw.get("spec")), _map(raw.get("status"))
        return cls(
            name=_str(meta.get("name")),
            namespace=_str(meta.get("namespace")),
            ttl=_duration(spec.get("ttl")),
            priority=_opt_int(spec.get("priority")),
            phase=_str(status.get("phase")),
            holder=_opt_str(status.get("holder")),
            token=_int(status.get("transitions")),
            acquired_at=_time(status.get("acquiredAt")),
            renewed_at=_time(status.get("renewedAt")),
            expires_at=_time(status.get("expiresAt")),
            renew_count=_int(status.get("renewCount")),
            waiters=tuple(Waiter._from_api(w) for w in _list(status.get("waiters"))),
            created_at=_time(meta.get("creationTimestamp")),
            resource_version=_str(meta.get("resourceVersion")),
            _raw=raw,
        )


@dataclass(frozen=True)
class Gate(_Snapshot):
    """A gate that opens once all of its conditions hold (evaluated by the operator).

    Attributes:
        name: Object name.
        namespace: Namespace of the object.
        conditions: The conditions, as created.
        timeout: If set, the gate fails when not open this long after creation.
        phase: ``"Waiting"``, ``"Open"``, ``"Failed"``, or ``""`` before the
            operator first evaluated it.
        condition_statuses: The operator's evaluation, one per condition.
        opened_at: Time the gate opened.
        message: Why the gate failed, when it did.
        created_at: Creation time, set by the API server.
        resource_version: Version of the object, for optimistic concurrency.
    """

    name: str
    namespace: str
    conditions: Tuple[GateCondition, ...]
    timeout: Optional[datetime.timedelta]
    phase: str
    condition_statuses: Tuple[GateConditionStatus, ...]
    opened_at: Optional[datetime.datetime]
    message: str
    created_at: Optional[datetime.datetime]
    resource_version: str
    _raw: Mapping[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def is_open(self) -> bool:
        """True when the gate's phase is ``Open``."""
        return self.phase == "Open"

    @classmethod
    def _from_api(cls, raw: Dict[str, Any]) -> Gate:
        meta, spec, status = _map(raw.get("metadata")), _map(raw.get("spec")), _map(raw.get("status"))
        return cls(
            name=_str(meta.get("name")),
            namespace=_str(meta.get("namespace")),
            conditions=tuple(GateCondition._from_api(c) for c in _list(spec.get("conditions"))),
            timeout=_duration(spec.get("timeout")),
            phase=_str(status.get("phase")),
            condition_statuses=tuple(
                GateConditionStatus._from_api(c) for c in _list(status.get("conditionStatuses"))
            ),
            opened_at=_time(status.get("openedAt")),
            message=_str(status.get("message")),
            created_at=_time(meta.get("creationTimestamp")),
            resource_version=_str(meta.get("resourceVersion")),
            _raw=raw,
        )
