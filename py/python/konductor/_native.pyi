"""The compiled core of the konductor package (private; use ``konductor``).

Durations are seconds as floats, checked by the Python layer; objects are
returned as JSON text that the Python layer turns into typed snapshots.
Every blocking call runs the core call on a worker thread and waits with the
GIL released, running signal handlers every 50 ms; on KeyboardInterrupt an
acquire or wait is cancelled and withdrawn before the exception propagates.
"""

from typing import Callable, Optional, TypeVar, final

__all__ = [
    "VERSION",
    "DEFAULT_TTL",
    "parse_duration",
    "format_duration",
    "default_holder",
    "Client",
    "CancelToken",
    "Permit",
    "Lease",
    "Leadership",
]

_T = TypeVar("_T")

VERSION: str
"""Version of the package (the Rust crate's version)."""
DEFAULT_TTL: float
"""Default permit and lease time-to-live, in seconds."""

def parse_duration(text: str, /) -> float:
    """Parses a Go duration string (``"30s"``, ``"1h30m"``).

    Args:
        text: The duration string.

    Returns:
        Seconds.

    Raises:
        konductor.InvalidArgumentError: Not a valid, non-negative duration.
    """

def format_duration(seconds: float, /) -> str:
    """Writes seconds as a Go duration string (``"1h30m0s"``).

    Args:
        seconds: Non-negative, finite seconds.

    Returns:
        The duration string.

    Raises:
        ValueError: ``seconds`` is negative or not finite.
    """

def default_holder() -> str:
    """A holder identity unique to this process and call.

    Returns:
        ``$POD_NAME`` (else the host name) plus a random suffix.
    """

@final
class CancelToken:
    """Cancels the waits it is passed to, from any thread. Stays cancelled."""

    def __new__(cls) -> CancelToken:
        """A new, not yet cancelled token."""
    def cancel(self) -> None:
        """Cancels every current and future wait given this token."""
    @property
    def cancelled(self) -> bool:
        """True once cancel() was called."""

@final
class Permit:
    """A held semaphore permit; released when garbage-collected unreleased."""

    @property
    def name(self) -> str:
        """Name of the semaphore."""
    @property
    def holder(self) -> str:
        """Holder identity the grant is recorded under."""
    @property
    def token(self) -> int:
        """Fencing token of the grant."""
    @property
    def ttl(self) -> float:
        """Time-to-live in seconds."""
    @property
    def expires_at(self) -> float:
        """Expiry unless renewed, in seconds since the Unix epoch."""
    @property
    def is_lost(self) -> bool:
        """True once no longer held."""
    def renew(self) -> None:
        """Extends the grant by its TTL.

        Raises:
            konductor.LostError: It is no longer held.
        """
    def release(self) -> None:
        """Gives the grant back. Idempotent.

        Raises:
            konductor.KonductorError: The API server could not be reached or refused.
        """

@final
class Lease:
    """A held lease; released when garbage-collected unreleased."""

    @property
    def name(self) -> str:
        """Name of the lease."""
    @property
    def holder(self) -> str:
        """Holder identity the grant is recorded under."""
    @property
    def token(self) -> int:
        """Fencing token of the grant."""
    @property
    def ttl(self) -> float:
        """Time-to-live in seconds."""
    @property
    def expires_at(self) -> float:
        """Expiry unless renewed, in seconds since the Unix epoch."""
    @property
    def is_lost(self) -> bool:
        """True once no longer held."""
    def renew(self) -> None:
        """Extends the grant by its TTL.

        Raises:
            konductor.LostError: It is no longer held.
        """
    def release(self) -> None:
        """Gives the grant back. Idempotent.

        Raises:
            konductor.KonductorError: The API server could not be reached or refused.
        """

@final
class Leadership:
    """What the leader's work gets: the term's fencing token and a loss signal."""

    @property
    def is_leader(self) -> bool:
        """True while this process is still the leader."""
    @property
    def token(self) -> int:
        """Fencing token of this term."""
    @property
    def holder(self) -> str:
        """Holder identity of the leader (this process)."""
    def sleep(self, seconds_: float, /) -> bool:
        """Sleeps ``seconds_`` or until leadership is lost.

        Returns:
            True if still leader.
        """

@final
class Client:
    """A Konductor client bound to one namespace."""

    def __new__(
        cls, namespace: Optional[str] = None, kubeconfig: Optional[str] = None, context: Optional[str] = None
    ) -> Client:
        """Loads the configuration (kubeconfig file, KUBECONFIG/context, or inferred).

        Raises:
            konductor.ConfigError: No configuration was found, or it is invalid.
        """
    @staticmethod
    def in_cluster(namespace: Optional[str] = None) -> Client:
        """A client for the pod's service account.

        Raises:
            konductor.ConfigError: Not in a pod, or the files cannot be read.
        """
    @property
    def namespace(self) -> str:
        """The namespace this client works in."""
    def in_namespace(self, namespace: str) -> Client:
        """A client for another namespace sharing this one's connections."""
    def acquire_semaphore(
        self,
        name: str,
        *,
        ttl: Optional[float] = None,
        timeout: Optional[float] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        auto_renew: bool = False,
        cancel: Optional[CancelToken] = None,
    ) -> Permit:
        """Acquires a semaphore permit.

        Raises:
            konductor.KonductorError: See ``konductor.Client.acquire_semaphore``.
        """
    def acquire_lease(
        self,
        name: str,
        *,
        ttl: Optional[float] = None,
        timeout: Optional[float] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        auto_renew: bool = False,
        cancel: Optional[CancelToken] = None,
    ) -> Lease:
        """Acquires a lease.

        Raises:
            konductor.KonductorError: See ``konductor.Client.acquire_lease``.
        """
    def try_acquire_lease(
        self,
        name: str,
        *,
        ttl: Optional[float] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        auto_renew: bool = False,
    ) -> Lease:
        """Takes a lease only if it is free now.

        Raises:
            konductor.LeaseHeldError: Someone else holds it.
        """
    def run_as_leader(
        self,
        name: str,
        work: Callable[[Leadership], _T],
        *,
        ttl: Optional[float] = None,
        timeout: Optional[float] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        cancel: Optional[CancelToken] = None,
    ) -> _T:
        """Waits to lead ``name``, runs ``work(leadership)``, then steps down.

        Returns:
            What ``work`` returned.

        Raises:
            konductor.LostError: Leadership was lost while ``work`` ran.
        """
    def arrive_barrier(self, name: str, *, holder: Optional[str] = None) -> str:
        """Records an arrival at a barrier.

        Returns:
            The barrier as written, as JSON.
        """
    def wait_barrier(
        self,
        name: str,
        *,
        timeout: Optional[float] = None,
        holder: Optional[str] = None,
        cancel: Optional[CancelToken] = None,
    ) -> None:
        """Waits until a barrier is open.

        Raises:
            konductor.FailedError: The barrier failed.
        """
    def wait_gate(self, name: str, *, timeout: Optional[float] = None, cancel: Optional[CancelToken] = None) -> None:
        """Waits until a gate is open.

        Raises:
            konductor.FailedError: The gate failed.
        """
    def check_gate(self, name: str) -> bool:
        """True when the gate is open now."""
    def gate_conditions(self, name: str) -> str:
        """The gate's condition statuses.

        Returns:
            A JSON array.
        """
    def get(self, kind: str, name: str) -> str:
        """Reads one object of ``kind`` (Semaphore, Barrier, Lease, Gate).

        Returns:
            The object as JSON.
        """
    def list(self, kind: str) -> str:
        """Lists the objects of ``kind`` in the namespace.

        Returns:
            A JSON array.
        """
    def delete(self, kind: str, name: str) -> None:
        """Deletes one object of ``kind``."""
    def create_semaphore(self, name: str, permits: int, ttl: Optional[float] = None) -> str:
        """Creates a semaphore.

        Returns:
            The semaphore as JSON.
        """
    def create_barrier(
        self, name: str, expected: int, quorum: Optional[int] = None, timeout: Optional[float] = None
    ) -> str:
        """Creates a barrier.

        Returns:
            The barrier as JSON.
        """
    def create_lease(self, name: str, ttl: Optional[float] = None, priority: Optional[int] = None) -> str:
        """Creates a lease.

        Returns:
            The lease as JSON.
        """
    def create_gate(self, name: str, conditions: str, timeout: Optional[float] = None) -> str:
        """Creates a gate from conditions given as a JSON array.

        Returns:
            The gate as JSON.
        """
