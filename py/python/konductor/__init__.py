"""Konductor: Kubernetes-native coordination primitives for Python.

Semaphores, barriers, leases, mutexes and gates stored as custom resources of
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
The guide is the package's README (its PyPI page).
"""

from __future__ import annotations

from . import _exceptions, resources
from ._client import DEFAULT_TTL, Client
from ._exceptions import *  # noqa: F403 (the names are listed in _exceptions.__all__)
from ._held import Held, Lease, MutexLock, OnceRun, Permit, ReadLock, WriteLock
from ._leader import Leadership
from ._native import VERSION as __version__
from ._native import CancelToken
from .resources import GateCondition, GateConditionStatus

__all__ = [
    "Client",
    "Held",
    "Permit",
    "Lease",
    "MutexLock",
    "ReadLock",
    "WriteLock",
    "OnceRun",
    "Leadership",
    "CancelToken",
    "GateCondition",
    "GateConditionStatus",
    "DEFAULT_TTL",
    "resources",
    "__version__",
]
__all__ += _exceptions.__all__
