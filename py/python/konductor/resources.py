"""Read-only snapshots of Konductor objects, as returned by ``get_*``,
``list_*`` and ``*_waiters``.

Each class mirrors one custom resource of ``sync.konductor.io/v1`` as core
models it: the spec fields the user set and the status the clients and the
operator maintain. A queue is not part of its semaphore or lease: each
queued acquisition is a :class:`Waiter` object of its own. Times are
timezone-aware :class:`datetime.datetime` values, durations are
:class:`datetime.timedelta`. ``to_dict()`` gives the whole object (camelCase
keys, as in YAML). A class is named after its kind.
"""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple, Type, TypeVar

from ._model import api, build, raw

__all__ = [
    "Object",
    "Semaphore",
    "Barrier",
    "Lease",
    "Mutex",
    "RWMutex",
    "Once",
    "Gate",
    "WaitGroup",
    "Waiter",
    "Holder",
    "Arrival",
    "GateCondition",
    "GateConditionStatus",
    "CONDITION_TYPES",
]

CONDITION_TYPES = ("Job", "Semaphore", "Barrier", "Lease", "Mutex", "Once", "WaitGroup", "Gate")
"""The kinds of object a gate condition can refer to."""

_O = TypeVar("_O", bound="Object")


@dataclass(frozen=True)
class Object:
    """What every object snapshot has: its name, namespace and metadata.

    Attributes:
        name: Object name.
        namespace: Namespace of the object.
        created_at: Creation time, set by the API server.
        resource_version: Version of the object, for optimistic concurrency.
    """

    name: str = api("metadata.name")
    namespace: str = api("metadata.namespace")
    created_at: Optional[datetime.datetime] = api("metadata.creationTimestamp")
    resource_version: str = api("metadata.resourceVersion")
    _raw: Mapping[str, Any] = raw()

    @classmethod
    def _from_api(cls: Type[_O], obj: Mapping[str, Any]) -> _O:
        return build(cls, obj)

    def to_dict(self) -> Dict[str, Any]:
        """The whole object (a deep copy).

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


@dataclass(frozen=True)
class Arrival:
    """One arrival at a barrier.

    Attributes:
        holder: Who arrived.
        arrived_at: Arrival time.
    """

    holder: str
    arrived_at: Optional[datetime.datetime]


@dataclass(frozen=True)
class GateCondition:
    """One condition of a gate, as given to ``Client.create_gate``.

    Attributes:
        type: Kind of the referenced object: one of :data:`CONDITION_TYPES`.
        name: Name of the referenced object.
        namespace: Its namespace; the gate's own when ``None``.
        state: Required state: Job ``Complete``/``Failed``/``Active``,
            Barrier and Gate ``Open``/``Closed``, Lease ``Acquired``/``Available``,
            Mutex ``Locked``/``Unlocked``.
        value: For a Semaphore: the minimum number of available permits.
    """

    type: str
    name: str
    namespace: Optional[str] = None
    state: Optional[str] = None
    value: Optional[int] = None


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


@dataclass(frozen=True)
class Semaphore(Object):
    """A counting semaphore: at most ``permits`` holders at a time.

    Attributes:
        permits: Maximum number of concurrent holders.
        ttl: Default permit time-to-live (``None``: the client default, 5 minutes).
        phase: ``"Ready"`` (permits free), ``"Full"``, or ``""`` before first use.
        in_use: Number of holders.
        available: Free permits.
        holders: Current holders, in grant order.
        fencing_token: The last fencing token handed out.
    """

    permits: int = api("spec.permits")
    ttl: Optional[datetime.timedelta] = api("spec.ttl")
    phase: str = api("status.phase")
    in_use: int = api("status.inUse")
    available: int = api("status.available", "spec.permits")
    holders: Tuple[Holder, ...] = api("status.holders")
    fencing_token: int = api("status.fencingToken")


@dataclass(frozen=True)
class Barrier(Object):
    """A rendezvous point that opens once ``expected`` (or ``quorum``) holders arrived.

    Attributes:
        expected: Number of arrivals that opens the barrier.
        quorum: If set, the barrier opens once this many arrived.
        timeout: If set, the barrier fails when not open this long after creation.
        phase: ``"Waiting"``, ``"Open"``, ``"Failed"``, or ``""`` before the first arrival.
        arrived: Number of arrivals.
        arrivals: Arrivals, one per holder, in arrival order.
        opened_at: Time the barrier opened.
        message: Why the barrier failed, when it did.
    """

    expected: int = api("spec.expected")
    quorum: Optional[int] = api("spec.quorum")
    timeout: Optional[datetime.timedelta] = api("spec.timeout")
    phase: str = api("status.phase")
    arrived: int = api("status.arrived")
    arrivals: Tuple[Arrival, ...] = api("status.arrivals")
    opened_at: Optional[datetime.datetime] = api("status.openedAt")
    message: str = api("status.message")

    @property
    def is_open(self) -> bool:
        """True when the barrier's phase is ``Open``."""
        return self.phase == "Open"


@dataclass(frozen=True)
class RWMutex(Object):
    """An RWMutex: many readers or one writer, never both; one FIFO queue by
    (priority, arrival), so a waiting writer blocks later readers.

    (The handles of locks you hold are :class:`konductor.ReadLock` and
    :class:`konductor.WriteLock`.)

    Attributes:
        ttl: Default lock time-to-live (``None``: the client default, 5 minutes).
        priority: Default priority of lockers that give none.
        max_readers: Most readers at a time (``None``: 10,000).
        phase: ``"Unlocked"``, ``"ReadLocked"``, ``"WriteLocked"``, or ``""`` before first use.
        holders: Current holders (readers, or the one writer), in grant order.
        readers: Number of readers holding.
        writer: The writer holding, if any.
        fencing_token: The last fencing token handed out.
    """

    ttl: Optional[datetime.timedelta] = api("spec.ttl")
    priority: Optional[int] = api("spec.priority")
    max_readers: Optional[int] = api("spec.maxReaders")
    phase: str = api("status.phase")
    holders: Tuple[Holder, ...] = api("status.holders")
    readers: int = api("status.readers")
    writer: Optional[str] = api("status.writer")
    fencing_token: int = api("status.fencingToken")


@dataclass(frozen=True)
class Once(Object):
    """A once: its work runs in exactly one caller across the cluster.

    Attributes:
        ttl: How long a run lasts unrenewed (``None``: the client default, 5 minutes).
        on_failure: ``"Final"`` (``None`` means the same) or ``"Retry"``.
        phase: ``"Pending"``, ``"Running"``, ``"Done"``, ``"Failed"``, or ``""`` before first use.
        executor: Who runs it now, if anyone.
        token: Fencing token of the current or last run (the number of runs started).
        ran_by: Who ran the last finished run.
        started_at: When the current or last run started.
        finished_at: When the last run finished.
        message: Why the last run failed, as its executor said.
    """

    ttl: Optional[datetime.timedelta] = api("spec.ttl")
    on_failure: Optional[str] = api("spec.onFailure")
    phase: str = api("status.phase")
    executor: Optional[str] = api("status.executor.holder")
    token: int = api("status.executor.transitions")
    ran_by: Optional[str] = api("status.ranBy")
    started_at: Optional[datetime.datetime] = api("status.startedAt")
    finished_at: Optional[datetime.datetime] = api("status.finishedAt")
    message: str = api("status.message")

    @property
    def is_done(self) -> bool:
        """True once its work ran to completion."""
        return self.phase == "Done"


@dataclass(frozen=True)
class WaitGroup(Object):
    """A wait group, like Go's ``sync.WaitGroup`` across pods: a counter that
    ``add`` raises, ``done`` lowers once per holder, and ``wait`` waits on
    until it is zero.

    Attributes:
        expected: The counter's initial value.
        ttl: If set, the operator deletes the wait group this long after its
            counter reached zero.
        counter: The counter (``expected`` before the first write); never negative.
        added: The sum of every ``add``.
        done_holders: The holders that called ``done``, in order, each once.
        phase: ``"Waiting"``, ``"Done"``, or ``""`` before the first write.
        done_at: When the counter last reached zero, by the writer's clock.
    """

    expected: int = api("spec.expected")
    ttl: Optional[datetime.timedelta] = api("spec.ttl")
    counter: int = api("status.counter")
    added: int = api("status.added")
    done_holders: Tuple[str, ...] = api("status.doneHolders")
    phase: str = api("status.phase")
    done_at: Optional[datetime.datetime] = api("status.doneAt")

    def __post_init__(self) -> None:
        # Before the first status write the counter is spec.expected.
        status = self._raw.get("status") or {}
        if "counter" not in status:
            object.__setattr__(self, "counter", self.expected)

    @property
    def is_done(self) -> bool:
        """True when the counter is zero."""
        return self.counter == 0


@dataclass(frozen=True)
class Lease(Object):
    """A lease object: at most one holder, for singleton work and leader election.

    (The handle of a lease you hold is :class:`konductor.Lease`.)

    Attributes:
        ttl: Default lease time-to-live (``None``: the client default, 5 minutes).
        priority: Default priority of acquirers that give none.
        phase: ``"Available"``, ``"Held"``, ``"Expired"``, or ``""`` before first use.
        holder: Current holder identity, if held.
        token: Fencing token of the current grant (the number of grants so far).
        acquired_at: Time of the current grant.
        renewed_at: Time of the last renewal.
        expires_at: When the holder's TTL runs out, by the writer's clock.
        renew_count: Renewals by the current holder.
    """

    ttl: Optional[datetime.timedelta] = api("spec.ttl")
    priority: Optional[int] = api("spec.priority")
    phase: str = api("status.phase")
    holder: Optional[str] = api("status.holder")
    token: int = api("status.transitions")
    acquired_at: Optional[datetime.datetime] = api("status.acquiredAt")
    renewed_at: Optional[datetime.datetime] = api("status.renewedAt")
    expires_at: Optional[datetime.datetime] = api("status.expiresAt")
    renew_count: int = api("status.renewCount")


@dataclass(frozen=True)
class Mutex(Lease):
    """A mutex object: at most one holder, for critical sections. It has the
    fields of a :class:`Lease` (``phase`` is ``"Held"`` while locked).

    (The handle of a mutex you locked is :class:`konductor.MutexLock`.)
    """

    @property
    def is_locked(self) -> bool:
        """True while someone holds the mutex."""
        return self.holder is not None


@dataclass(frozen=True)
class Gate(Object):
    """A gate that opens once all of its conditions hold (evaluated by the operator).

    Attributes:
        conditions: The conditions, as created.
        timeout: If set, the gate fails when not open this long after creation.
        phase: ``"Waiting"``, ``"Open"``, ``"Failed"``, or ``""`` before the
            operator first evaluated it.
        condition_statuses: The operator's evaluation, one per condition.
        opened_at: Time the gate opened.
        message: Why the gate failed, when it did.
    """

    conditions: Tuple[GateCondition, ...] = api("spec.conditions")
    timeout: Optional[datetime.timedelta] = api("spec.timeout")
    phase: str = api("status.phase")
    condition_statuses: Tuple[GateConditionStatus, ...] = api("status.conditionStatuses")
    opened_at: Optional[datetime.datetime] = api("status.openedAt")
    message: str = api("status.message")

    @property
    def is_open(self) -> bool:
        """True when the gate's phase is ``Open``."""
        return self.phase == "Open"


@dataclass(frozen=True)
class Waiter(Object):
    """One queued acquisition of a semaphore permit or a lease: an object of
    its own, named after its ticket, deleted when granted or withdrawn.

    Read a queue with ``Client.waiters`` (``semaphore_waiters``,
    ``lease_waiters``), in grant order: higher priority first, then arrival.

    Attributes:
        holder: Holder identity the grant will be recorded under.
        ticket: The acquisition (unique per call); also the object's name.
        priority: Priority; higher is granted first.
        enqueued_at: Time the waiter queued, by its own clock.
        ttl: How long the entry lives without a heartbeat from its process.
        hold_ttl: Time-to-live the waiter asked for its grant.
        renew_count: Number of heartbeats.
    """

    holder: str = api("spec.holder")
    ticket: str = api("spec.ticket")
    priority: int = api("spec.priority")
    enqueued_at: Optional[datetime.datetime] = api("spec.enqueuedAt")
    ttl: Optional[datetime.timedelta] = api("spec.ttl")
    hold_ttl: Optional[datetime.timedelta] = api("spec.holdTtl")
    renew_count: int = api("spec.renewCount")
