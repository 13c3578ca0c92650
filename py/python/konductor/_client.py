"""The client and the handles it returns: permits, leases, leadership."""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Callable, Dict, Iterator, List, Optional, Type, TypeVar, Union

from . import _arguments as check
from . import _native, resources
from ._arguments import Duration
from ._exceptions import InvalidArgumentError, KonductorError

__all__ = ["Client", "Permit", "Lease", "Leadership", "CancelToken", "DEFAULT_TTL"]

DEFAULT_TTL = datetime.timedelta(seconds=_native.DEFAULT_TTL)
"""Permit and lease time-to-live when neither the call nor the object sets one."""

_log = logging.getLogger("konductor")

_T = TypeVar("_T")
_G = TypeVar("_G", bound="_Grant")
_PathLike = Union[str, "os.PathLike[str]"]


class CancelToken:
    """Cancels the waits it is passed to (``cancel=``), from any thread.

    A cancelled wait raises :class:`konductor.CancelledError` promptly and
    leaves nothing held or queued. A token stays cancelled once cancelled.
    """

    __slots__ = ("_native",)

    def __init__(self) -> None:
        self._native = _native.CancelToken()

    def cancel(self) -> None:
        """Cancels every current and future wait given this token."""
        self._native.cancel()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._native.cancelled

    def __repr__(self) -> str:
        return f"CancelToken(cancelled={self.cancelled})"


def _native_token(cancel: Optional[CancelToken]) -> Optional[_native.CancelToken]:
    if cancel is None:
        return None
    if not isinstance(cancel, CancelToken):
        raise TypeError(f"cancel must be a konductor.CancelToken, not {type(cancel).__name__}")
    return cancel._native


class _Grant:
    """A held permit or lease: what both handles share."""

    __slots__ = ("_native",)
    _native: Union[_native.Permit, _native.Lease]

    @property
    def name(self) -> str:
        """Name of the semaphore or lease."""
        return self._native.name

    @property
    def holder(self) -> str:
        """Holder identity the grant is recorded under."""
        return self._native.holder

    @property
    def token(self) -> int:
        """Fencing token: strictly increases with every grant of the object.

        Pass it to downstream systems so that they can reject a stale holder.
        """
        return self._native.token

    @property
    def ttl(self) -> datetime.timedelta:
        """Time-to-live granted; renew within it."""
        return datetime.timedelta(seconds=self._native.ttl)

    @property
    def expires_at(self) -> datetime.datetime:
        """When the grant runs out unless renewed, by this machine's clock (UTC)."""
        return datetime.datetime.fromtimestamp(self._native.expires_at, tz=datetime.timezone.utc)

    @property
    def is_lost(self) -> bool:
        """True once no longer held: expired, reclaimed, deleted or released."""
        return self._native.is_lost

    def renew(self) -> None:
        """Extends the grant by its TTL from now.

        Raises:
            LostError: It is no longer held (expired, reclaimed, released,
                or its object was deleted).
            KonductorError: The API server could not be reached or refused.
        """
        self._native.renew()

    def release(self) -> None:
        """Gives the grant back, handing it to the first waiter. Idempotent.

        Raises:
            KonductorError: The API server could not be reached or refused
                (the grant then expires after its TTL).
        """
        self._native.release()

    def __enter__(self: _G) -> _G:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if exc is None:
            self.release()
            return
        # The body's exception is what the caller needs to see; a failed
        # release is only logged (the grant expires after its TTL).
        try:
            self.release()
        except KonductorError as error:
            _log.warning("failed to release %s after an exception: %s", self, error)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, holder={self.holder!r}, token={self.token})"


class Permit(_Grant):
    """A held semaphore permit.

    Release it with :meth:`release` or use it as a context manager; a permit
    that is garbage-collected unreleased is released then. Unless acquired
    with ``auto_renew=True``, call :meth:`renew` within its :attr:`ttl`.
    """

    __slots__ = ()

    def __init__(self, native: _native.Permit) -> None:
        self._native = native


class Lease(_Grant):
    """A held lease: this process is its only holder until it releases or loses it.

    Release it with :meth:`release` or use it as a context manager; a lease
    that is garbage-collected unreleased is released then. Unless acquired
    with ``auto_renew=True``, call :meth:`renew` within its :attr:`ttl`.
    (The lease *object*, as read by ``get_lease``, is :class:`konductor.resources.Lease`.)
    """

    __slots__ = ()

    def __init__(self, native: _native.Lease) -> None:
        self._native = native


class Leadership:
    """What the work given to :meth:`Client.run_as_leader` receives.

    Leadership is lost when the lease cannot be renewed in time; this
    object learns it before any other process can become leader. The work
    must then stop promptly: check :attr:`is_leader` in loops and wait with
    :meth:`sleep`, which returns early on loss.
    """

    __slots__ = ("_native",)

    def __init__(self, native: _native.Leadership) -> None:
        self._native = native

    @property
    def is_leader(self) -> bool:
        """True while this process is still the leader."""
        return self._native.is_leader

    @property
    def token(self) -> int:
        """Fencing token of this term; larger than every earlier leader's."""
        return self._native.token

    @property
    def holder(self) -> str:
        """Holder identity of the leader (this process)."""
        return self._native.holder

    def sleep(self, duration: Duration) -> bool:
        """Sleeps for ``duration`` or until leadership is lost.

        Args:
            duration: Seconds (int or float) or a timedelta.

        Returns:
            True if still leader afterwards, False as soon as leadership is lost.

        Raises:
            TypeError: ``duration`` is not a number or timedelta.
            InvalidArgumentError: ``duration`` is negative or not finite.
        """
        seconds = check.duration(duration, "duration")
        assert seconds is not None
        return self._native.sleep(seconds)

    def __repr__(self) -> str:
        return f"Leadership(holder={self.holder!r}, token={self.token}, is_leader={self.is_leader})"


def _object(kind: Callable[[Dict[str, Any]], _T], text: str) -> _T:
    raw = json.loads(text)
    assert isinstance(raw, dict)
    return kind(raw)


def _objects(kind: Callable[[Dict[str, Any]], _T], text: str) -> List[_T]:
    raw = json.loads(text)
    assert isinstance(raw, list)
    return [kind(item) for item in raw]


class Client:
    """A Konductor client bound to one namespace. Safe to share between threads.

    Blocking calls release the GIL while they wait, and Ctrl-C
    (KeyboardInterrupt) interrupts them promptly, leaving nothing held or
    queued. Durations are seconds (int or float) or :class:`datetime.timedelta`.
    A ``timeout`` of ``None`` waits without limit; ``0`` tries once.

    Example::

        client = konductor.Client(namespace="default")
        with client.semaphore("api-quota", ttl=300):
            call_external_api()
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        namespace: Optional[str] = None,
        kubeconfig: Optional[_PathLike] = None,
        context: Optional[str] = None,
    ) -> None:
        """Loads the configuration; no request is made yet.

        Without ``kubeconfig`` and ``context`` the configuration is inferred
        like client-go does: the pod's service account when running in a
        cluster, else ``$KUBECONFIG`` (several files are merged) or
        ``~/.kube/config``.

        Args:
            namespace: Namespace to work in (default: the kubeconfig
                context's, the pod's, ``$POD_NAMESPACE``, else ``"default"``).
            kubeconfig: Path of one kubeconfig file to load.
            context: Kubeconfig context to use (default: its current-context).

        Raises:
            ConfigError: No configuration was found, or it is invalid.
            InvalidArgumentError: ``namespace`` is not a valid namespace name.
            TypeError: An argument has the wrong type.
        """
        self._native = _native.Client(
            check.optional_text(namespace, "namespace"),
            check.path(kubeconfig, "kubeconfig"),
            check.optional_text(context, "context"),
        )

    @classmethod
    def in_cluster(cls, namespace: Optional[str] = None) -> Client:
        """A client using the pod's service account (token re-read when rotated).

        Args:
            namespace: Namespace to work in (default: the pod's).

        Returns:
            The client.

        Raises:
            ConfigError: Not running in a pod, or the service account files
                cannot be read.
        """
        return cls._wrap(_native.Client.in_cluster(check.optional_text(namespace, "namespace")))

    @classmethod
    def _wrap(cls, native: _native.Client) -> Client:
        client = cls.__new__(cls)
        client._native = native
        return client

    @property
    def namespace(self) -> str:
        """The namespace this client works in."""
        return self._native.namespace

    def in_namespace(self, namespace: str) -> Client:
        """A client for another namespace, sharing this one's connections.

        Args:
            namespace: The other namespace.

        Returns:
            The new client.

        Raises:
            InvalidArgumentError: ``namespace`` is not a valid namespace name.
        """
        return self._wrap(self._native.in_namespace(check.text(namespace, "namespace")))

    def __repr__(self) -> str:
        return f"Client(namespace={self.namespace!r})"

    # Semaphores

    def acquire_semaphore(
        self,
        name: str,
        *,
        ttl: Optional[Duration] = None,
        timeout: Optional[Duration] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        auto_renew: bool = False,
        cancel: Optional[CancelToken] = None,
    ) -> Permit:
        """Acquires a permit of a semaphore, queueing until one is free.

        Args:
            name: Name of the semaphore.
            ttl: Permit time-to-live (default: the semaphore's, else
                :data:`DEFAULT_TTL`); the permit is lost unless renewed within it.
            timeout: Longest time to wait (``None``: no limit; ``0``: try once).
            holder: Holder identity (default: pod or host name plus a unique suffix).
            priority: Queue priority; higher is granted first.
            auto_renew: Renew in the background at about a third of the TTL.
            cancel: Token that cancels the wait from another thread.

        Returns:
            The permit; use it as a context manager or call ``release()``.

        Raises:
            NotFoundError: The semaphore does not exist.
            TimeoutError: No permit was granted within ``timeout``.
            CancelledError: ``cancel`` was cancelled.
            AlreadyHeldError: ``holder`` already holds or waits for a permit.
            InvalidArgumentError: A bad name, duration or priority.
            TypeError: An argument has the wrong type.
        """
        return Permit(
            self._native.acquire_semaphore(
                check.text(name, "name"),
                ttl=check.duration(ttl, "ttl"),
                timeout=check.duration(timeout, "timeout"),
                holder=check.optional_text(holder, "holder"),
                priority=check.priority(priority),
                auto_renew=check.flag(auto_renew, "auto_renew"),
                cancel=_native_token(cancel),
            )
        )

    @contextlib.contextmanager
    def semaphore(
        self,
        name: str,
        *,
        ttl: Optional[Duration] = None,
        timeout: Optional[Duration] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        auto_renew: bool = False,
        cancel: Optional[CancelToken] = None,
    ) -> Iterator[Permit]:
        """Holds a permit for the duration of a ``with`` block.

        ``with client.semaphore("api-quota", ttl=300) as permit: ...``
        acquires on entry and releases on every exit path, exceptions
        included. Arguments and errors are those of :meth:`acquire_semaphore`.
        """
        with self.acquire_semaphore(
            name,
            ttl=ttl,
            timeout=timeout,
            holder=holder,
            priority=priority,
            auto_renew=auto_renew,
            cancel=cancel,
        ) as permit:
            yield permit

    def create_semaphore(self, name: str, permits: int, *, ttl: Optional[Duration] = None) -> resources.Semaphore:
        """Creates a semaphore.

        Args:
            name: Name of the semaphore (an RFC 1123 name).
            permits: Maximum number of concurrent holders (at least 1).
            ttl: Default permit time-to-live.

        Returns:
            The semaphore as created.

        Raises:
            ApiError: It already exists (``status == 409``) or was refused.
            InvalidArgumentError: A bad name, count or duration.
        """
        return _object(
            resources.Semaphore._from_api,
            self._native.create_semaphore(
                check.text(name, "name"), check.count(permits, "permits"), check.duration(ttl, "ttl")
            ),
        )

    def get_semaphore(self, name: str) -> resources.Semaphore:
        """Reads a semaphore.

        Raises:
            NotFoundError: It does not exist.
        """
        return _object(resources.Semaphore._from_api, self._native.get("Semaphore", check.text(name, "name")))

    def list_semaphores(self) -> List[resources.Semaphore]:
        """Lists the semaphores of the namespace."""
        return _objects(resources.Semaphore._from_api, self._native.list("Semaphore"))

    def delete_semaphore(self, name: str) -> None:
        """Deletes a semaphore; its holders lose their permits.

        Raises:
            NotFoundError: It does not exist.
        """
        self._native.delete("Semaphore", check.text(name, "name"))

    # Barriers

    def arrive_barrier(self, name: str, *, holder: Optional[str] = None) -> resources.Barrier:
        """Records the arrival of ``holder`` at a barrier (idempotent per holder).

        The arrival that reaches ``expected`` (or ``quorum``) opens the barrier.

        Args:
            name: Name of the barrier.
            holder: Who arrives (default: pod or host name plus a unique suffix).

        Returns:
            The barrier as written.

        Raises:
            NotFoundError: The barrier does not exist.
            FailedError: The barrier already failed.
        """
        return _object(
            resources.Barrier._from_api,
            self._native.arrive_barrier(check.text(name, "name"), holder=check.optional_text(holder, "holder")),
        )

    def wait_barrier(
        self, name: str, *, timeout: Optional[Duration] = None, cancel: Optional[CancelToken] = None
    ) -> None:
        """Waits until a barrier is open.

        Args:
            name: Name of the barrier.
            timeout: Longest time to wait (``None``: no limit; ``0``: check once).
            cancel: Token that cancels the wait from another thread.

        Raises:
            NotFoundError: The barrier does not exist (or was deleted).
            FailedError: The barrier failed (e.g. its timeout passed).
            TimeoutError: It did not open within ``timeout``.
            CancelledError: ``cancel`` was cancelled.
        """
        self._native.wait_barrier(
            check.text(name, "name"), timeout=check.duration(timeout, "timeout"), cancel=_native_token(cancel)
        )

    @contextlib.contextmanager
    def barrier(
        self,
        name: str,
        *,
        holder: Optional[str] = None,
        timeout: Optional[Duration] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Iterator[None]:
        """Arrives at a barrier and waits until it opens before the ``with`` block runs.

        Everyone's block starts only once all expected holders arrived.
        Arguments and errors are those of :meth:`arrive_barrier` and
        :meth:`wait_barrier`.
        """
        self.arrive_barrier(name, holder=holder)
        self.wait_barrier(name, timeout=timeout, cancel=cancel)
        yield

    def create_barrier(
        self,
        name: str,
        expected: int,
        *,
        quorum: Optional[int] = None,
        timeout: Optional[Duration] = None,
    ) -> resources.Barrier:
        """Creates a barrier.

        Args:
            name: Name of the barrier.
            expected: Number of arrivals that opens it (at least 1).
            quorum: If set, it opens once this many arrived (at most ``expected``).
            timeout: If set, the operator fails it when not open this long
                after creation.

        Returns:
            The barrier as created.

        Raises:
            ApiError: It already exists (``status == 409``) or was refused.
            InvalidArgumentError: A bad name, count or duration.
        """
        return _object(
            resources.Barrier._from_api,
            self._native.create_barrier(
                check.text(name, "name"),
                check.count(expected, "expected"),
                check.optional_count(quorum, "quorum"),
                check.duration(timeout, "timeout"),
            ),
        )

    def get_barrier(self, name: str) -> resources.Barrier:
        """Reads a barrier.

        Raises:
            NotFoundError: It does not exist.
        """
        return _object(resources.Barrier._from_api, self._native.get("Barrier", check.text(name, "name")))

    def list_barriers(self) -> List[resources.Barrier]:
        """Lists the barriers of the namespace."""
        return _objects(resources.Barrier._from_api, self._native.list("Barrier"))

    def delete_barrier(self, name: str) -> None:
        """Deletes a barrier.

        Raises:
            NotFoundError: It does not exist.
        """
        self._native.delete("Barrier", check.text(name, "name"))

    # Leases

    def acquire_lease(
        self,
        name: str,
        *,
        ttl: Optional[Duration] = None,
        timeout: Optional[Duration] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        auto_renew: bool = False,
        cancel: Optional[CancelToken] = None,
    ) -> Lease:
        """Acquires a lease, queueing until it is free.

        Args:
            name: Name of the lease.
            ttl: Lease time-to-live (default: the lease object's, else
                :data:`DEFAULT_TTL`); it is lost unless renewed within it.
            timeout: Longest time to wait (``None``: no limit; ``0``: try once).
            holder: Holder identity (default: pod or host name plus a unique suffix).
            priority: Queue priority (default: the lease object's); higher first.
            auto_renew: Renew in the background at about a third of the TTL.
            cancel: Token that cancels the wait from another thread.

        Returns:
            The held lease; use it as a context manager or call ``release()``.

        Raises:
            NotFoundError: The lease does not exist.
            TimeoutError: It was not granted within ``timeout``.
            LeaseHeldError: ``timeout`` is 0 and someone else holds it.
            CancelledError: ``cancel`` was cancelled.
            AlreadyHeldError: ``holder`` already holds or waits for it.
            InvalidArgumentError: A bad name, duration or priority.
            TypeError: An argument has the wrong type.
        """
        return Lease(
            self._native.acquire_lease(
                check.text(name, "name"),
                ttl=check.duration(ttl, "ttl"),
                timeout=check.duration(timeout, "timeout"),
                holder=check.optional_text(holder, "holder"),
                priority=check.priority(priority),
                auto_renew=check.flag(auto_renew, "auto_renew"),
                cancel=_native_token(cancel),
            )
        )

    def try_acquire_lease(
        self,
        name: str,
        *,
        ttl: Optional[Duration] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        auto_renew: bool = False,
    ) -> Lease:
        """Takes a lease only if it is free now, without queueing.

        Args:
            name: Name of the lease.
            ttl: Lease time-to-live (default: the lease object's, else :data:`DEFAULT_TTL`).
            holder: Holder identity (default: pod or host name plus a unique suffix).
            priority: Priority recorded with the grant.
            auto_renew: Renew in the background at about a third of the TTL.

        Returns:
            The held lease.

        Raises:
            LeaseHeldError: Someone else holds it (``error.holder`` says who).
            NotFoundError: The lease does not exist.
            AlreadyHeldError: ``holder`` already holds it.
        """
        return Lease(
            self._native.try_acquire_lease(
                check.text(name, "name"),
                ttl=check.duration(ttl, "ttl"),
                holder=check.optional_text(holder, "holder"),
                priority=check.priority(priority),
                auto_renew=check.flag(auto_renew, "auto_renew"),
            )
        )

    @contextlib.contextmanager
    def lease(
        self,
        name: str,
        *,
        ttl: Optional[Duration] = None,
        timeout: Optional[Duration] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        auto_renew: bool = False,
        cancel: Optional[CancelToken] = None,
    ) -> Iterator[Lease]:
        """Holds a lease for the duration of a ``with`` block.

        Acquires on entry and releases on every exit path, exceptions
        included. Arguments and errors are those of :meth:`acquire_lease`.
        """
        with self.acquire_lease(
            name,
            ttl=ttl,
            timeout=timeout,
            holder=holder,
            priority=priority,
            auto_renew=auto_renew,
            cancel=cancel,
        ) as lease:
            yield lease

    def run_as_leader(
        self,
        name: str,
        work: Callable[[Leadership], _T],
        *,
        ttl: Optional[Duration] = None,
        timeout: Optional[Duration] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        cancel: Optional[CancelToken] = None,
    ) -> _T:
        """Waits to become leader of ``name``, runs ``work`` while leader, then steps down.

        The lease is renewed automatically. ``work`` runs on the calling
        thread and receives a :class:`Leadership`; if the lease cannot be
        renewed in time, ``leadership.is_leader`` turns False (and
        ``leadership.sleep`` returns early) before any other process can
        become leader, and ``work`` must return promptly.

        Args:
            name: Name of the lease.
            work: Called once with the :class:`Leadership` while leader.
            ttl: Lease time-to-live; loss is detected within it.
            timeout: Longest time to wait for leadership (``None``: no limit).
            holder: Holder identity (default: pod or host name plus a unique suffix).
            priority: Queue priority; higher first.
            cancel: Token that cancels the wait for leadership.

        Returns:
            What ``work`` returned.

        Raises:
            LostError: Leadership was lost while ``work`` ran.
            TimeoutError: Not elected within ``timeout``.
            CancelledError: ``cancel`` was cancelled before election.
            NotFoundError: The lease does not exist.
            Exception: Whatever ``work`` raised (the lease is released first).
        """
        if not callable(work):
            raise TypeError(f"work must be callable, not {type(work).__name__}")

        def lead(native: _native.Leadership) -> _T:
            return work(Leadership(native))

        return self._native.run_as_leader(
            check.text(name, "name"),
            lead,
            ttl=check.duration(ttl, "ttl"),
            timeout=check.duration(timeout, "timeout"),
            holder=check.optional_text(holder, "holder"),
            priority=check.priority(priority),
            cancel=_native_token(cancel),
        )

    def create_lease(
        self, name: str, *, ttl: Optional[Duration] = None, priority: Optional[int] = None
    ) -> resources.Lease:
        """Creates a lease.

        Args:
            name: Name of the lease.
            ttl: Default lease time-to-live.
            priority: Default priority of acquirers that give none.

        Returns:
            The lease object as created.

        Raises:
            ApiError: It already exists (``status == 409``) or was refused.
            InvalidArgumentError: A bad name, duration or priority.
        """
        return _object(
            resources.Lease._from_api,
            self._native.create_lease(check.text(name, "name"), check.duration(ttl, "ttl"), check.priority(priority)),
        )

    def get_lease(self, name: str) -> resources.Lease:
        """Reads a lease object.

        Raises:
            NotFoundError: It does not exist.
        """
        return _object(resources.Lease._from_api, self._native.get("Lease", check.text(name, "name")))

    def list_leases(self) -> List[resources.Lease]:
        """Lists the lease objects of the namespace."""
        return _objects(resources.Lease._from_api, self._native.list("Lease"))

    def delete_lease(self, name: str) -> None:
        """Deletes a lease; its holder loses it.

        Raises:
            NotFoundError: It does not exist.
        """
        self._native.delete("Lease", check.text(name, "name"))

    # Gates

    def wait_gate(self, name: str, *, timeout: Optional[Duration] = None, cancel: Optional[CancelToken] = None) -> None:
        """Waits until a gate is open (the operator opens it when all conditions hold).

        Args:
            name: Name of the gate.
            timeout: Longest time to wait (``None``: no limit; ``0``: check once).
            cancel: Token that cancels the wait from another thread.

        Raises:
            NotFoundError: The gate does not exist (or was deleted).
            FailedError: The gate failed (e.g. its timeout passed).
            TimeoutError: It did not open within ``timeout``.
            CancelledError: ``cancel`` was cancelled.
        """
        self._native.wait_gate(
            check.text(name, "name"), timeout=check.duration(timeout, "timeout"), cancel=_native_token(cancel)
        )

    def check_gate(self, name: str) -> bool:
        """Tells whether a gate is open now, without waiting.

        Returns:
            True when the gate's phase is ``Open``.

        Raises:
            NotFoundError: The gate does not exist.
        """
        return self._native.check_gate(check.text(name, "name"))

    def gate_conditions(self, name: str) -> List[resources.GateConditionStatus]:
        """The operator's evaluation of each condition of a gate.

        Returns:
            One status per condition (``type``, ``name``, ``met``,
            ``message``); empty until the operator evaluated the gate.

        Raises:
            NotFoundError: The gate does not exist.
        """
        return _objects(
            resources.GateConditionStatus._from_api, self._native.gate_conditions(check.text(name, "name"))
        )

    def create_gate(
        self,
        name: str,
        conditions: Sequence[resources.GateCondition],
        *,
        timeout: Optional[Duration] = None,
    ) -> resources.Gate:
        """Creates a gate that opens once all ``conditions`` hold.

        Args:
            name: Name of the gate.
            conditions: What must hold, e.g.
                ``GateCondition(type="Job", name="migrate", state="Complete")``.
            timeout: If set, the operator fails it when not open this long
                after creation.

        Returns:
            The gate as created.

        Raises:
            ApiError: It already exists (``status == 409``) or was refused.
            InvalidArgumentError: A bad name, condition or duration.
            TypeError: ``conditions`` is not a sequence of GateCondition.
        """
        if isinstance(conditions, (str, bytes)) or not isinstance(conditions, Sequence):
            raise TypeError(f"conditions must be a sequence of GateCondition, not {type(conditions).__name__}")
        payload = []
        for index, condition in enumerate(conditions):
            if not isinstance(condition, resources.GateCondition):
                raise TypeError(f"conditions[{index}] must be a GateCondition, not {type(condition).__name__}")
            if condition.type not in resources.CONDITION_TYPES:
                raise InvalidArgumentError(
                    f"invalid conditions[{index}].type {condition.type!r}: "
                    f"must be one of {', '.join(resources.CONDITION_TYPES)}",
                    what="condition type",
                    value=repr(condition.type),
                    reason=f"must be one of {', '.join(resources.CONDITION_TYPES)}",
                )
            payload.append(condition._to_api())
        return _object(
            resources.Gate._from_api,
            self._native.create_gate(check.text(name, "name"), json.dumps(payload), check.duration(timeout, "timeout")),
        )

    def get_gate(self, name: str) -> resources.Gate:
        """Reads a gate.

        Raises:
            NotFoundError: It does not exist.
        """
        return _object(resources.Gate._from_api, self._native.get("Gate", check.text(name, "name")))

    def list_gates(self) -> List[resources.Gate]:
        """Lists the gates of the namespace."""
        return _objects(resources.Gate._from_api, self._native.list("Gate"))

    def delete_gate(self, name: str) -> None:
        """Deletes a gate.

        Raises:
            NotFoundError: It does not exist.
        """
        self._native.delete("Gate", check.text(name, "name"))


# Shown as konductor.Client (where users import them from) in reprs and help().
for _cls in (Client, Permit, Lease, Leadership, CancelToken):
    _cls.__module__ = "konductor"
del _cls
