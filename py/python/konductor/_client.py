"""The client: generic calls per kind of object, and the SDK-named methods
(``acquire_semaphore``, ``get_gate``, …) made from them."""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
from collections.abc import Sequence
from typing import Any, Callable, Iterator, List, Optional, Tuple, Type, TypeVar, Union

from . import _arguments as check
from . import _model, _native, resources
from ._arguments import Duration
from ._exceptions import InvalidArgumentError, KonductorError, LostError
from ._held import Held, Lease, MutexLock, OnceRun, Permit, ReadLock, WriteLock
from ._leader import Leadership
from ._sugar import for_kind, name_methods

_log = logging.getLogger("konductor")

__all__ = ["Client", "DEFAULT_TTL"]

DEFAULT_TTL = datetime.timedelta(seconds=_native.DEFAULT_TTL)
"""Permit and lease time-to-live when neither the call nor the object sets one."""

_T = TypeVar("_T")
_H = TypeVar("_H", bound=Held)
_O = TypeVar("_O", bound=resources.Object)
_PathLike = Union[str, "os.PathLike[str]"]


class Client:
    """A Konductor client bound to one namespace. Safe to share between threads.

    Blocking calls release the GIL while they wait, and Ctrl-C
    (KeyboardInterrupt) interrupts them promptly, leaving nothing held or
    queued. Durations are seconds (int or float) or :class:`datetime.timedelta`.
    A ``timeout`` of ``None`` waits without limit; ``0`` tries once.

    Every call exists once, generic over the kind: ``get(resources.Semaphore,
    name)``, ``acquire(Permit, name)``, ``wait(resources.Gate, name)``,
    ``waiters(resources.Lease, name)``. The SDK-named methods
    (``get_semaphore``, ``acquire_semaphore``, ``wait_gate``,
    ``lease_waiters``, …) are the same calls with the kind filled in.

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

        The configuration comes from one source, by the rule every binding
        follows (core's ``Config::load``): the kubeconfig file at
        ``kubeconfig`` when given; else, when a ``context`` is named, the
        kubeconfig from ``$KUBECONFIG`` (several files merged) or
        ``~/.kube/config``; else inferred as client-go does: the pod's
        service account when running in a cluster, else ``$KUBECONFIG`` or
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

    # Every kind

    def get(self, kind: Type[_O], name: str) -> _O:
        """Reads an object.

        Args:
            kind: Its kind, e.g. :class:`resources.Semaphore`.
            name: Its name.

        Returns:
            A snapshot of the object.

        Raises:
            NotFoundError: It does not exist.
            InvalidArgumentError: ``name`` is not a valid object name.
        """
        return kind._from_api(self._native.get(kind.__name__, check.text(name, "name")))

    def list(self, kind: Type[_O]) -> List[_O]:
        """Lists the objects of a kind in the namespace.

        Args:
            kind: The kind, e.g. :class:`resources.Semaphore`.

        Returns:
            A snapshot of each object.
        """
        return [kind._from_api(obj) for obj in self._native.list(kind.__name__)]

    def delete(self, kind: Type[resources.Object], name: str) -> None:
        """Deletes an object; holders of its permits or lease lose them.

        Args:
            kind: Its kind, e.g. :class:`resources.Semaphore`.
            name: Its name.

        Raises:
            NotFoundError: It does not exist.
        """
        self._native.delete(kind.__name__, check.text(name, "name"))

    def _create(self, kind: Type[_O], name: str, **spec: Any) -> _O:
        return kind._from_api(self._native.create(kind.__name__, check.text(name, "name"), **spec))

    get_semaphore = for_kind(get, resources.Semaphore)
    get_barrier = for_kind(get, resources.Barrier)
    get_lease = for_kind(get, resources.Lease)
    get_gate = for_kind(get, resources.Gate)
    get_mutex = for_kind(get, resources.Mutex)
    get_rwmutex = for_kind(get, resources.RWMutex)
    get_once = for_kind(get, resources.Once)
    get_waitgroup = for_kind(get, resources.WaitGroup)
    list_semaphores = for_kind(list, resources.Semaphore)
    list_barriers = for_kind(list, resources.Barrier)
    list_leases = for_kind(list, resources.Lease)
    list_gates = for_kind(list, resources.Gate)
    list_mutexes = for_kind(list, resources.Mutex)
    list_rwmutexes = for_kind(list, resources.RWMutex)
    list_onces = for_kind(list, resources.Once)
    list_waitgroups = for_kind(list, resources.WaitGroup)
    delete_semaphore = for_kind(delete, resources.Semaphore)
    delete_barrier = for_kind(delete, resources.Barrier)
    delete_lease = for_kind(delete, resources.Lease)
    delete_gate = for_kind(delete, resources.Gate)
    delete_mutex = for_kind(delete, resources.Mutex)
    delete_rwmutex = for_kind(delete, resources.RWMutex)
    delete_once = for_kind(delete, resources.Once)
    delete_waitgroup = for_kind(delete, resources.WaitGroup)

    # Slotted kinds: semaphores, leases and mutexes

    def acquire(
        self,
        kind: Type[_H],
        name: str,
        *,
        ttl: Optional[Duration] = None,
        timeout: Optional[Duration] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        auto_renew: bool = False,
        cancel: Optional[_native.CancelToken] = None,
    ) -> _H:
        """Acquires a slot of an object (a semaphore's permit, a lease, a mutex), queueing until one is free.

        Args:
            kind: What to hold: :class:`Permit`, :class:`Lease` or :class:`MutexLock`.
            name: Name of the semaphore, lease or mutex.
            ttl: Time-to-live of the grant (default: the object's, else
                :data:`DEFAULT_TTL`); it is lost unless renewed within it.
            timeout: Longest time to wait (``None``: no limit; ``0``: try once).
            holder: Holder identity (default: pod or host name plus a unique suffix).
            priority: Queue priority (default: a lease object's); higher first.
            auto_renew: Renew in the background at about a third of the TTL.
            cancel: Token that cancels the wait from another thread.

        Returns:
            The held grant; use it as a context manager (``with
            client.acquire(Permit, "api-quota") as permit:`` releases on
            every exit path) or call ``release()``.

        Raises:
            NotFoundError: The object does not exist.
            TimeoutError: Nothing was granted within ``timeout`` (a semaphore).
            LeaseHeldError: ``timeout`` is 0 and someone else holds the lease.
            LockedError: ``timeout`` is 0 and someone else holds the mutex.
            CancelledError: ``cancel`` was cancelled.
            AlreadyHeldError: ``holder`` already holds or waits for it.
            InvalidArgumentError: A bad name, duration or priority.
            TypeError: An argument has the wrong type.
        """
        native = self._native.acquire(
            kind.resource.__name__,
            check.text(name, "name"),
            ttl=check.duration(ttl, "ttl"),
            timeout=check.duration(timeout, "timeout"),
            holder=check.optional_text(holder, "holder"),
            priority=check.priority(priority),
            auto_renew=check.flag(auto_renew, "auto_renew"),
            cancel=check.cancel_token(cancel),
            mode=kind.mode,
        )
        return kind(native)

    def try_acquire(
        self,
        kind: Type[_H],
        name: str,
        *,
        ttl: Optional[Duration] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        auto_renew: bool = False,
    ) -> _H:
        """Takes a slot only if one is free now, without queueing.

        Args:
            kind: What to hold: :class:`Permit`, :class:`Lease` or :class:`MutexLock`.
            name: Name of the semaphore, lease or mutex.
            ttl: Time-to-live of the grant (default: the object's, else :data:`DEFAULT_TTL`).
            holder: Holder identity (default: pod or host name plus a unique suffix).
            priority: Priority recorded with the grant.
            auto_renew: Renew in the background at about a third of the TTL.

        Returns:
            The held grant.

        Raises:
            LeaseHeldError: Someone else holds the lease (``error.holder`` says who).
            LockedError: Someone else holds the mutex (``error.holder`` says who).
            TimeoutError: The semaphore has no free permit.
            NotFoundError: The object does not exist.
            AlreadyHeldError: ``holder`` already holds it.
        """
        return self.acquire(kind, name, ttl=ttl, timeout=0, holder=holder, priority=priority, auto_renew=auto_renew)

    def waiters(self, kind: Type[resources.Object], name: str) -> Tuple[resources.Waiter, ...]:
        """The acquisitions queued for a semaphore or lease, in grant order.

        Each queued acquisition is an object of its own (a
        :class:`resources.Waiter`), deleted when it is granted or withdrawn;
        the semaphore or lease holds only its holders.

        Args:
            kind: :class:`resources.Semaphore` or :class:`resources.Lease`.
            name: Name of the semaphore or lease.

        Returns:
            The waiters, higher priority first, then in arrival order. A
            waiter whose process stopped heartbeating is included until
            someone deletes it.

        Raises:
            NotFoundError: The object does not exist.
            InvalidArgumentError: ``name`` is not a valid object name.
            ValueError: ``kind`` is neither a semaphore nor a lease.
        """
        found = self._native.waiters(kind.__name__, check.text(name, "name"))
        return tuple(resources.Waiter._from_api(obj) for obj in found)

    # A held grant is its own context manager: ``with client.semaphore(...)``
    # acquires, and releases on every exit path.
    acquire_semaphore = for_kind(acquire, Permit)
    semaphore = for_kind(acquire, Permit)
    acquire_lease = for_kind(acquire, Lease)
    lease = for_kind(acquire, Lease)
    try_acquire_lease = for_kind(try_acquire, Lease)
    semaphore_waiters = for_kind(waiters, resources.Semaphore)
    lease_waiters = for_kind(waiters, resources.Lease)
    lock_mutex = for_kind(acquire, MutexLock)
    mutex = for_kind(acquire, MutexLock)
    try_lock_mutex = for_kind(try_acquire, MutexLock)
    mutex_waiters = for_kind(waiters, resources.Mutex)
    read_lock_rwmutex = for_kind(acquire, ReadLock)
    write_lock_rwmutex = for_kind(acquire, WriteLock)
    try_read_lock_rwmutex = for_kind(try_acquire, ReadLock)
    try_write_lock_rwmutex = for_kind(try_acquire, WriteLock)
    rwmutex_waiters = for_kind(waiters, resources.RWMutex)

    # Kinds that are waited on: barriers and gates (until open), wait groups (until zero)

    def wait(
        self,
        kind: Type[resources.Object],
        name: str,
        *,
        timeout: Optional[Duration] = None,
        cancel: Optional[_native.CancelToken] = None,
    ) -> None:
        """Waits until a barrier or gate is open, or a wait group's counter is zero.

        Args:
            kind: :class:`resources.Barrier`, :class:`resources.Gate` or
                :class:`resources.WaitGroup`.
            name: Name of the object.
            timeout: Longest time to wait (``None``: no limit; ``0``: check once).
            cancel: Token that cancels the wait from another thread.

        Raises:
            NotFoundError: It does not exist (or was deleted).
            FailedError: It failed (e.g. its timeout passed).
            TimeoutError: It did not open within ``timeout``.
            CancelledError: ``cancel`` was cancelled.
        """
        self._native.wait(
            kind.__name__,
            check.text(name, "name"),
            timeout=check.duration(timeout, "timeout"),
            cancel=check.cancel_token(cancel),
        )

    wait_barrier = for_kind(wait, resources.Barrier)
    wait_gate = for_kind(wait, resources.Gate)
    wait_waitgroup = for_kind(wait, resources.WaitGroup)

    # Semaphores

    def create_semaphore(self, name: str, permits: int, *, ttl: Optional[Duration] = None) -> resources.Semaphore:
        """Creates a semaphore.

        Args:
            name: Name of the semaphore (an RFC 1123 name).
            permits: Maximum number of concurrent holders (at least 1).
            ttl: Default permit time-to-live.

        Returns:
            The semaphore as created.

        Raises:
            AlreadyExistsError: It exists already.
            InvalidArgumentError: A bad name, count or duration.
        """
        return self._create(
            resources.Semaphore, name, permits=check.count(permits, "permits"), ttl=check.duration(ttl, "ttl")
        )

    # Barriers

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
            AlreadyExistsError: It exists already.
            InvalidArgumentError: A bad name, count or duration.
        """
        return self._create(
            resources.Barrier,
            name,
            expected=check.count(expected, "expected"),
            quorum=check.optional_count(quorum, "quorum"),
            timeout=check.duration(timeout, "timeout"),
        )

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
        return resources.Barrier._from_api(
            self._native.arrive_barrier(check.text(name, "name"), holder=check.optional_text(holder, "holder"))
        )

    @contextlib.contextmanager
    def barrier(
        self,
        name: str,
        *,
        holder: Optional[str] = None,
        timeout: Optional[Duration] = None,
        cancel: Optional[_native.CancelToken] = None,
    ) -> Iterator[None]:
        """Arrives at a barrier and waits until it opens before the ``with`` block runs.

        Everyone's block starts only once all expected holders arrived.
        Arguments and errors are those of :meth:`arrive_barrier` and
        :meth:`wait_barrier`.
        """
        self.arrive_barrier(name, holder=holder)
        self.wait_barrier(name, timeout=timeout, cancel=cancel)
        yield

    # Wait groups

    # RWMutexes

    def create_rwmutex(
        self,
        name: str,
        *,
        ttl: Optional[Duration] = None,
        priority: Optional[int] = None,
        max_readers: Optional[int] = None,
    ) -> resources.RWMutex:
        """Creates an RWMutex; lock it with ``with client.read_lock_rwmutex(name):``
        or ``with client.write_lock_rwmutex(name):``.

        Args:
            name: Name of the RWMutex.
            ttl: Default lock time-to-live (how long a lock lasts unrenewed).
            priority: Default priority of lockers that give none.
            max_readers: Most readers at a time (1 to 10,000; default 10,000).

        Returns:
            The RWMutex object as created.

        Raises:
            AlreadyExistsError: It exists already.
            InvalidArgumentError: A bad name, duration, priority or count.
        """
        if max_readers is not None and (isinstance(max_readers, bool) or not isinstance(max_readers, int)):
            raise TypeError(f"max_readers must be an int, not {type(max_readers).__name__}")
        if max_readers is not None and not 1 <= max_readers <= 10_000:
            raise InvalidArgumentError(
                f"invalid max readers {max_readers}: must be between 1 and 10000",
                argument="count",
                value=str(max_readers),
                reason="must be between 1 and 10000",
            )
        return self._create(
            resources.RWMutex,
            name,
            ttl=check.duration(ttl, "ttl"),
            priority=check.priority(priority),
            max_readers=max_readers,
        )

    # Onces

    def create_once(
        self, name: str, *, ttl: Optional[Duration] = None, retry_failed: bool = False
    ) -> resources.Once:
        """Creates a once; run its work with :meth:`do_once`.

        Args:
            name: Name of the once.
            ttl: How long a run lasts unrenewed (the executor renews while it
                runs); after an executor crash the next caller runs the work
                once it has passed.
            retry_failed: After a failed run, the next caller runs the work
                again (default: the failure is final).

        Returns:
            The once object as created.

        Raises:
            AlreadyExistsError: It exists already.
            InvalidArgumentError: A bad name or duration.
        """
        on_failure = "Retry" if check.flag(retry_failed, "retry_failed") else None
        return self._create(resources.Once, name, ttl=check.duration(ttl, "ttl"), on_failure=on_failure)

    def do_once(
        self,
        name: str,
        work: Callable[[OnceRun], Any],
        *,
        ttl: Optional[Duration] = None,
        timeout: Optional[Duration] = None,
        holder: Optional[str] = None,
        cancel: Optional[_native.CancelToken] = None,
    ) -> bool:
        """Runs ``work`` in exactly one caller of once ``name`` across the cluster.

        Every other caller waits (up to ``timeout``) until it finished. The
        executor holds the once while ``work`` runs, renewed in the
        background; if it dies, the next caller runs ``work`` after the TTL.
        ``work`` runs on the calling thread and receives the run (its
        ``token`` is the fencing token, ``is_lost`` says whether it still
        holds the once).

        Args:
            name: Name of the once.
            work: The work; an ``Exception`` it raises is recorded as the
                once's failure (its type and message) and re-raised. An
                interruption (``KeyboardInterrupt``, ``SystemExit``) records
                nothing: the once is given back and the next caller runs it.
            ttl: How long a run lasts unrenewed (default: the once's).
            timeout: Longest time to wait while another caller runs it.
            holder: Executor identity (default: pod or host name plus a unique suffix).
            cancel: Token that cancels the wait from another thread.

        Returns:
            True when this caller ran ``work``, False when it was already done.

        Raises:
            FailedError: A recorded failure is final (``error.message`` is the executor's).
            LostError: This caller lost the once while ``work`` ran (its outcome was not recorded).
            TimeoutError: Another caller still runs it after ``timeout``.
            CancelledError: ``cancel`` was cancelled.
            NotFoundError: The once does not exist.
        """
        if not callable(work):
            raise TypeError(f"work must be callable, not {type(work).__name__}")
        native = self._native.claim_once(
            check.text(name, "name"),
            ttl=check.duration(ttl, "ttl"),
            timeout=check.duration(timeout, "timeout"),
            holder=check.optional_text(holder, "holder"),
            cancel=check.cancel_token(cancel),
        )
        if native is None:
            return False
        run = OnceRun(native)
        try:
            work(run)
        except Exception as error:
            # The work failed: record why, so that later callers learn it.
            try:
                self._native.finish_once(name, run.holder, run.token, _describe(error))
            except KonductorError as unrecorded:
                _log.warning("failed to record the failure of once %s: %s", name, unrecorded)
            finally:
                _quietly_release(run)
            raise
        except BaseException:
            # Interrupted (KeyboardInterrupt, SystemExit): not a failure of
            # the work. Give the once back unrecorded for the next caller.
            _quietly_release(run)
            raise
        try:
            self._native.finish_once(name, run.holder, run.token, None)
        except LostError:
            _quietly_release(run)
            raise
        except KonductorError:
            # Not recorded: let the run lapse at its TTL instead of giving it
            # back, so that nobody starts the work again at once.
            run._native.keep()
            raise
        # The outcome's write gave the run back.
        run._native.keep()
        return True

    def create_waitgroup(
        self, name: str, expected: int = 0, *, ttl: Optional[Duration] = None
    ) -> resources.WaitGroup:
        """Creates a wait group whose counter starts at ``expected``.

        Args:
            name: Name of the wait group.
            expected: The counter's initial value (0 to 2,000).
            ttl: If set, the operator deletes the wait group this long after
                its counter reached zero.

        Returns:
            The wait group as created.

        Raises:
            AlreadyExistsError: It exists already.
            InvalidArgumentError: A bad name, count or duration.
        """
        # Zero is a count here (Go's WaitGroup starts at zero); core checks the cap.
        expected = check.integer(expected, "expected", (0, 2**32 - 1))
        return self._create(resources.WaitGroup, name, expected=expected, ttl=check.duration(ttl, "ttl"))

    def add_waitgroup(
        self,
        name: str,
        count: int = 1,
        *,
        timeout: Optional[Duration] = None,
        cancel: Optional[_native.CancelToken] = None,
    ) -> resources.WaitGroup:
        """Raises a wait group's counter by ``count``, once even if a write is retried.

        Args:
            name: Name of the wait group.
            count: How much to add (1 to 2,000).
            timeout: Longest time the call may take (conflicts are retried until then).
            cancel: Token that cancels the call from another thread.

        Returns:
            The wait group as written.

        Raises:
            NotFoundError: The wait group does not exist.
            InvalidArgumentError: A bad count, or one that would take the
                group's total (``expected`` plus every add) past 2,000.
        """
        return resources.WaitGroup._from_api(
            self._native.add_waitgroup(
                check.text(name, "name"),
                check.count(count, "count"),
                timeout=check.duration(timeout, "timeout"),
                cancel=check.cancel_token(cancel),
            )
        )

    def done_waitgroup(
        self,
        name: str,
        *,
        holder: Optional[str] = None,
        timeout: Optional[Duration] = None,
        cancel: Optional[_native.CancelToken] = None,
    ) -> resources.WaitGroup:
        """Lowers a wait group's counter by one for ``holder``, once per holder.

        A holder that already called done counts nothing (and succeeds), so
        a retry can never release waiters early.

        Args:
            name: Name of the wait group.
            holder: Who is done (default: pod or host name plus a unique
                suffix, new for each call). Give one to make retries safe.
            timeout: Longest time the call may take (conflicts are retried until then).
            cancel: Token that cancels the call from another thread.

        Returns:
            The wait group as written.

        Raises:
            NotFoundError: The wait group does not exist.
            BelowZeroError: The counter is already zero.
        """
        return resources.WaitGroup._from_api(
            self._native.done_waitgroup(
                check.text(name, "name"),
                holder=check.optional_text(holder, "holder"),
                timeout=check.duration(timeout, "timeout"),
                cancel=check.cancel_token(cancel),
            )
        )

    # Leases

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
            AlreadyExistsError: It exists already.
            InvalidArgumentError: A bad name, duration or priority.
        """
        return self._create(resources.Lease, name, ttl=check.duration(ttl, "ttl"), priority=check.priority(priority))

    # Mutexes

    def create_mutex(
        self, name: str, *, ttl: Optional[Duration] = None, priority: Optional[int] = None
    ) -> resources.Mutex:
        """Creates a mutex; lock it with ``with client.mutex(name):``.

        Args:
            name: Name of the mutex.
            ttl: Default lock time-to-live (how long a lock lasts unrenewed).
            priority: Default priority of lockers that give none.

        Returns:
            The mutex object as created.

        Raises:
            AlreadyExistsError: It exists already.
            InvalidArgumentError: A bad name, duration or priority.
        """
        return self._create(resources.Mutex, name, ttl=check.duration(ttl, "ttl"), priority=check.priority(priority))

    def run_as_leader(
        self,
        name: str,
        work: Callable[[Leadership], _T],
        *,
        ttl: Optional[Duration] = None,
        timeout: Optional[Duration] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        cancel: Optional[_native.CancelToken] = None,
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
            cancel=check.cancel_token(cancel),
        )

    # Gates

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
            AlreadyExistsError: It exists already.
            InvalidArgumentError: A bad name, condition or duration.
            TypeError: ``conditions`` is not a sequence of GateCondition.
        """
        if isinstance(conditions, (str, bytes)) or not isinstance(conditions, Sequence):
            raise TypeError(f"conditions must be a sequence of GateCondition, not {type(conditions).__name__}")
        for index, condition in enumerate(conditions):
            if not isinstance(condition, resources.GateCondition):
                raise TypeError(f"conditions[{index}] must be a GateCondition, not {type(condition).__name__}")
        return self._create(
            resources.Gate,
            name,
            conditions=[_model.to_api(condition) for condition in conditions],
            timeout=check.duration(timeout, "timeout"),
        )

    def check_gate(self, name: str) -> bool:
        """Tells whether a gate is open now, without waiting.

        Returns:
            True when the gate's phase is ``Open``.

        Raises:
            NotFoundError: The gate does not exist.
        """
        return self.get_gate(name).is_open

    def gate_conditions(self, name: str) -> List[resources.GateConditionStatus]:
        """The operator's evaluation of each condition of a gate.

        Returns:
            One status per condition (``type``, ``name``, ``met``,
            ``message``); empty until the operator evaluated the gate.

        Raises:
            NotFoundError: The gate does not exist.
        """
        return [*self.get_gate(name).condition_statuses]


name_methods(Client)
Client.__module__ = "konductor"


def _describe(error: BaseException) -> str:
    """``Type: message`` of ``error``, as valid UTF-8 whatever its ``__str__`` does."""
    try:
        text = f"{type(error).__name__}: {error}"
    except Exception:
        text = type(error).__name__
    return text.encode("utf-8", "replace").decode("utf-8")


def _quietly_release(run: Held) -> None:
    """Gives ``run`` back, logging (not raising) a failure: it lapses at its TTL then."""
    try:
        run.release()
    except KonductorError as error:
        _log.warning("failed to give back %r (it lapses at its TTL): %s", run, error)
