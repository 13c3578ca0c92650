"""The exceptions of konductor, one class per kind of core error.

Every exception is a :class:`KonductorError`. Those that have a builtin
counterpart also derive from it, so generic handlers keep working:
:class:`TimeoutError` is a builtin ``TimeoutError`` and
:class:`InvalidArgumentError` is a ``ValueError``. The native module builds
them from core's error (``py/src/errors.rs``): the message, and the error's
fields as keyword arguments that become attributes.
"""

from __future__ import annotations

import builtins

__all__ = [
    "KonductorError",
    "NotFoundError",
    "AlreadyHeldError",
    "LeaseHeldError",
    "LockedError",
    "TimeoutError",
    "CancelledError",
    "LostError",
    "FailedError",
    "BelowZeroError",
    "ApiError",
    "AlreadyExistsError",
    "ForbiddenError",
    "UnauthorizedError",
    "InvalidArgumentError",
    "ConfigError",
    "TransportError",
]


class KonductorError(Exception):
    """Base class of every error raised by konductor.

    The keyword arguments set the attributes each subclass documents (a
    class attribute gives each its default).
    """

    def __init__(self, message: str = "", **fields: object) -> None:
        super().__init__(message)
        for name, value in fields.items():
            if not hasattr(type(self), name):
                raise TypeError(f"{type(self).__name__} has no attribute {name!r}")
            setattr(self, name, value)

    @property
    def message(self) -> str:
        """The error message."""
        return str(self.args[0]) if self.args else ""


class NotFoundError(KonductorError):
    """The named object does not exist.

    Attributes:
        kind: Kind of the object, e.g. ``"Semaphore"``.
        namespace: Namespace that was searched.
        name: Name that was not found.
    """

    kind: str = ""
    namespace: str = ""
    name: str = ""


class AlreadyHeldError(KonductorError):
    """This holder already holds (or is already queued for) the object.

    Attributes:
        kind: Kind of the object.
        name: Name of the object.
        holder: The holder identity that is already present.
    """

    kind: str = ""
    name: str = ""
    holder: str = ""


class LeaseHeldError(KonductorError):
    """The lease is held by someone else (raised by ``try_acquire_lease``).

    Attributes:
        name: Name of the lease.
        holder: The current holder.
    """

    name: str = ""
    holder: str = ""


class LockedError(KonductorError):
    """The mutex is locked by someone else (raised by ``try_lock_mutex``, or
    ``lock_mutex`` with ``timeout=0``).

    Attributes:
        kind: Kind of the object, ``"mutex"``.
        name: Name of the mutex.
        holder: The current holder.
    """

    kind: str = ""
    name: str = ""
    holder: str = ""


class TimeoutError(KonductorError, builtins.TimeoutError):
    """The wait ran out of time before it succeeded. Also a builtin ``TimeoutError``.

    Attributes:
        what: What was being waited for, e.g. ``"semaphore api-quota"``.
        waited: How long the caller waited, in seconds.
    """

    what: str = ""
    waited: float = 0.0


class CancelledError(KonductorError):
    """The wait was cancelled through a :class:`konductor.CancelToken`.

    Attributes:
        what: What was being waited for.
    """

    what: str = ""


class LostError(KonductorError):
    """The permit or lease is no longer held by this holder.

    It expired before it could be renewed, was reclaimed, was released, or
    its object was deleted.

    Attributes:
        kind: Kind of the object.
        name: Name of the object.
        holder: The holder that lost it.
        reason: Why it was lost.
    """

    kind: str = ""
    name: str = ""
    holder: str = ""
    reason: str = ""


class FailedError(KonductorError):
    """A barrier or gate reached phase ``Failed`` (for example its timeout passed).

    Attributes:
        kind: Kind of the object.
        name: Name of the object.
        reason: The reason recorded in the object's status.
    """

    kind: str = ""
    name: str = ""
    reason: str = ""


class BelowZeroError(KonductorError):
    """A wait group's ``done`` would take its counter below zero: more
    holders called done than were added.

    Attributes:
        kind: Kind of the object (``WaitGroup``).
        name: Name of the object.
        holder: The holder whose done did not count.
        counter: The counter it found (0).
        done: How many holders had called done already.
    """

    kind: str = ""
    name: str = ""
    holder: str = ""
    counter: int = 0
    done: int = 0


class ApiError(KonductorError):
    """The API server answered with an error (the Status is kept whole).

    Attributes:
        status: HTTP status code, e.g. ``422``.
        reason: Machine-readable reason, e.g. ``"Invalid"``, ``"Conflict"``.
        body: The response body as received.
    """

    status: int = 0
    reason: str = ""
    body: str = ""


class AlreadyExistsError(ApiError):
    """The object to create exists already (HTTP 409 ``AlreadyExists``).

    Attributes:
        kind: Kind of the object, e.g. ``"Semaphore"``.
        namespace: Namespace of the object.
        name: Name that is taken.
    """

    status = 409
    reason = "AlreadyExists"
    kind: str = ""
    namespace: str = ""
    name: str = ""


class ForbiddenError(ApiError):
    """The API server refused the request for lack of permission (HTTP 403)."""


class UnauthorizedError(ApiError):
    """The API server did not accept the credentials (HTTP 401)."""


class InvalidArgumentError(KonductorError, ValueError):
    """An argument was rejected before any request was made. Also a ``ValueError``.

    Attributes:
        argument: Which argument, as core names it, e.g. ``"name"``,
            ``"ttl"``, ``"permits"``, ``"condition name"``.
        value: The rejected value, as text.
        reason: Why it was rejected.
    """

    argument: str = ""
    value: str = ""
    reason: str = ""


class ConfigError(KonductorError):
    """The configuration could not be loaded (kubeconfig, in-cluster files, exec plugin)."""


class TransportError(KonductorError):
    """A request got no HTTP answer (connection, TLS, timeout, undecodable body)."""


# Shown as konductor.NotFoundError (where users import them from) in tracebacks.
for _name in __all__:
    globals()[_name].__module__ = "konductor"
del _name
