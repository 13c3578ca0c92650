"""Konductor: Kubernetes-native coordination primitives for Python.

Semaphores, barriers, leases and gates stored as custom resources of
``sync.konductor.io/v1``, used through a blocking client backed by the Rust
core. Blocking calls release the GIL and can be interrupted with Ctrl-C.

Quick start::

    import konductor

    client = konductor.Client(namespace="default")
    with client.semaphore("api-quota", ttl=300) as permit:
        call_external_api(fencing_token=permit.token)

Errors are subclasses of :class:`KonductorError`; :class:`TimeoutError` is
also the builtin ``TimeoutError`` and :class:`InvalidArgumentError` is also
a ``ValueError``. Read-only object snapshots live in :mod:`konductor.resources`.
"""

from __future__ import annotations

from . import resources
from ._client import DEFAULT_TTL, CancelToken, Client, Leadership, Lease, Permit
from ._exceptions import (
    AlreadyHeldError,
    ApiError,
    CancelledError,
    ConfigError,
    FailedError,
    ForbiddenError,
    InvalidArgumentError,
    KonductorError,
    LeaseHeldError,
    LostError,
    NotFoundError,
    TimeoutError,
    TransportError,
    UnauthorizedError,
)
from ._native import VERSION as __version__
from .resources import GateCondition, GateConditionStatus

__all__ = [
    "Client",
    "Permit",
    "Lease",
    "Leadership",
    "CancelToken",
    "GateCondition",
    "GateConditionStatus",
    "DEFAULT_TTL",
    "resources",
    "KonductorError",
    "NotFoundError",
    "AlreadyHeldError",
    "LeaseHeldError",
    "TimeoutError",
    "CancelledError",
    "LostError",
    "FailedError",
    "ApiError",
    "ForbiddenError",
    "UnauthorizedError",
    "InvalidArgumentError",
    "ConfigError",
    "TransportError",
    "__version__",
]
