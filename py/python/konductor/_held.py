"""The handle of a held slot, one class for every slotted kind: a semaphore
permit (:class:`Permit`), a lease (:class:`Lease`), a locked mutex
(:class:`MutexLock`)."""

from __future__ import annotations

import datetime
import logging
from types import TracebackType
from typing import ClassVar, Optional, Type, TypeVar

from . import _native, resources
from ._exceptions import KonductorError, LostError

__all__ = ["Held", "Permit", "Lease", "MutexLock", "ReadLock", "WriteLock", "OnceRun"]

_log = logging.getLogger("konductor")

_H = TypeVar("_H", bound="Held")


class Held:
    """A held slot of an object: this holder's grant until released or lost.

    Release it with :meth:`release` or use it as a context manager; a grant
    that is garbage-collected unreleased is released then. Unless acquired
    with ``auto_renew=True``, call :meth:`renew` within its :attr:`ttl`.
    """

    __slots__ = ("_native",)

    resource: ClassVar[Type[resources.Object]]
    """The kind of object whose slot this holds."""

    mode: ClassVar[Optional[str]] = None
    """The lock mode an RWMutex is acquired in (``"read"``, ``"write"``); None for the other kinds."""

    def __init__(self, native: _native.Held) -> None:
        self._native = native

    @property
    def name(self) -> str:
        """Name of the object."""
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

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if exc is None:
            # Work that outlived its grant did not run exclusively: say so
            # (after releasing all the same).
            lost: Optional[LostError] = None
            try:
                self._native.still_held()
            except LostError as error:
                lost = error
            self.release()
            if lost is not None:
                raise lost
            return
        # The body's exception is what the caller needs to see; a failed
        # release is only logged (the grant expires after its TTL).
        try:
            self.release()
        except KonductorError as error:
            _log.warning("failed to release %s after an exception: %s", self, error)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, holder={self.holder!r}, token={self.token})"


class Permit(Held):
    """A held semaphore permit (see :class:`Held`)."""

    __slots__ = ()
    resource = resources.Semaphore


class Lease(Held):
    """A held lease: this process is its only holder until it releases or loses it.

    See :class:`Held`. (The lease *object*, as read by ``get_lease``, is
    :class:`konductor.resources.Lease`.)
    """

    __slots__ = ()
    resource = resources.Lease


class MutexLock(Held):
    """A locked mutex: this process is its only holder until it unlocks
    (:meth:`release`) or loses it.

    See :class:`Held`. (The mutex *object*, as read by ``get_mutex``, is
    :class:`konductor.resources.Mutex`.)
    """

    __slots__ = ()
    resource = resources.Mutex


class ReadLock(Held):
    """A held read lock of an RWMutex, shared with other readers (see :class:`Held`)."""

    __slots__ = ()
    resource = resources.RWMutex
    mode: ClassVar[Optional[str]] = "read"


class WriteLock(Held):
    """The held write lock of an RWMutex: no reader or other writer holds it (see :class:`Held`)."""

    __slots__ = ()
    resource = resources.RWMutex
    mode: ClassVar[Optional[str]] = "write"


class OnceRun(Held):
    """The run of a once this process executes, given to the work of
    ``do_once``: its fencing ``token``, and ``is_lost`` once another caller
    could have taken over. Renewed in the background; do not release it.
    """

    __slots__ = ()
    resource = resources.Once


for _cls in (Held, Permit, Lease, MutexLock, ReadLock, WriteLock, OnceRun):
    _cls.__module__ = "konductor"
del _cls
