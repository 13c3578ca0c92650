"""The compiled core of the konductor package (private; use ``konductor``).

Generic over the kind of object: ``kind`` is a kind name (``"Semaphore"``,
``"Barrier"``, ``"Lease"``, ``"Gate"``, ``"Mutex"``). Durations are seconds as floats,
checked by core; objects are returned as plain Python values (dicts with the
API's camelCase keys) that the package turns into typed snapshots. Every
blocking call runs the core call on a worker thread and waits with the GIL
released, running signal handlers every 50 ms; on KeyboardInterrupt an
acquire or wait is cancelled and withdrawn before the exception propagates.
Errors are the exceptions of ``konductor``, built from core's error.
"""

from typing import Any, Callable, Dict, List, Optional, TypeVar, final

__all__ = [
    "VERSION",
    "DEFAULT_TTL",
    "parse_duration",
    "format_duration",
    "parse_timestamp",
    "default_holder",
    "Client",
    "CancelToken",
    "Held",
    "Leadership",
]

_T = TypeVar("_T")
_Object = Dict[str, Any]

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
        konductor.InvalidArgumentError: ``seconds`` is negative or not finite.
    """

def parse_timestamp(text: str, /) -> int:
    """Parses an RFC 3339 timestamp (``Z`` or ``±hh:mm`` offset) with core's parser.

    Args:
        text: The timestamp, e.g. ``"2026-01-02T03:04:05.250+01:00"``.

    Returns:
        Whole microseconds since the Unix epoch (finer digits are dropped).

    Raises:
        ValueError: Not an RFC 3339 timestamp at or after the epoch.
    """

def default_holder() -> str:
    """A holder identity unique to this process and call.

    Returns:
        ``$POD_NAME`` (else the host name) plus a random suffix.
    """

@final
class CancelToken:
    """Cancels the waits it is passed to (``cancel=``), from any thread. Stays cancelled.

    A cancelled wait raises :class:`konductor.CancelledError` promptly and
    leaves nothing held or queued.
    """

    def __new__(cls) -> CancelToken:
        """A new, not yet cancelled token."""
    def cancel(self) -> None:
        """Cancels every current and future wait given this token."""
    @property
    def cancelled(self) -> bool:
        """True once cancel() was called."""

@final
class Held:
    """A held slot (a semaphore permit, a lease); released when garbage-collected unreleased."""

    @property
    def name(self) -> str:
        """Name of the object."""
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
    def still_held(self) -> None:
        """Raises LostError once no longer held; makes no request.

        Raises:
            konductor.LostError: It is no longer held.
        """
    def renew(self) -> None:
        """Extends the grant by its TTL.

        Raises:
            konductor.LostError: It is no longer held.
        """
    def keep(self) -> None:
        """Stops managing the grant without giving it back (no renewal; release and garbage collection do nothing)."""
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
        """Loads the configuration core's ``Config::load`` picks (see ``konductor.Client``).

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
    def get(self, kind: str, name: str) -> _Object:
        """Reads one object of ``kind``.

        Raises:
            konductor.NotFoundError: It does not exist.
        """
    def list(self, kind: str) -> List[_Object]:
        """Lists the objects of ``kind`` in the namespace."""
    def delete(self, kind: str, name: str) -> None:
        """Deletes one object of ``kind``.

        Raises:
            konductor.NotFoundError: It does not exist.
        """
    def create(self, kind: str, name: str, **spec: Any) -> _Object:
        """Creates an object of ``kind`` from its spec fields (durations in seconds), checked by core.

        Raises:
            konductor.AlreadyExistsError: It exists already.
            konductor.InvalidArgumentError: A spec field was rejected.
        """
    def acquire(
        self,
        kind: str,
        name: str,
        *,
        ttl: Optional[float] = None,
        timeout: Optional[float] = None,
        holder: Optional[str] = None,
        priority: Optional[int] = None,
        auto_renew: bool = False,
        cancel: Optional[CancelToken] = None,
        mode: Optional[str] = None,
    ) -> Held:
        """Acquires a slot of an object of a slotted ``kind`` (Semaphore, Lease, Mutex, RWMutex in ``mode`` "read" or "write"); a zero ``timeout`` tries once.

        Raises:
            konductor.KonductorError: See ``konductor.Client.acquire``.
        """
    def waiters(self, kind: str, name: str) -> List[_Object]:
        """The acquisitions queued for an object of a slotted ``kind`` (Semaphore, Lease, Mutex): its Waiter objects, in grant order.

        Raises:
            konductor.NotFoundError: The object does not exist.
        """
    def wait(
        self,
        kind: str,
        name: str,
        *,
        timeout: Optional[float] = None,
        holder: Optional[str] = None,
        cancel: Optional[CancelToken] = None,
    ) -> None:
        """Waits until an object of ``kind`` (Barrier, Gate) is open, or a WaitGroup's counter is zero.

        Raises:
            konductor.FailedError: It failed.
        """
    def add_waitgroup(
        self, name: str, count: int, *, timeout: Optional[float] = None, cancel: Optional[CancelToken] = None
    ) -> _Object:
        """Raises a wait group's counter by ``count``, once even if retried.

        Returns:
            The wait group as written.

        Raises:
            konductor.InvalidArgumentError: The count would take its total past 2,000.
        """
    def done_waitgroup(
        self,
        name: str,
        *,
        holder: Optional[str] = None,
        timeout: Optional[float] = None,
        cancel: Optional[CancelToken] = None,
    ) -> _Object:
        """Lowers a wait group's counter by one for ``holder``, once per holder.

        Returns:
            The wait group as written.

        Raises:
            konductor.BelowZeroError: The counter is already zero.
        """
    def claim_once(
        self,
        name: str,
        *,
        ttl: Optional[float] = None,
        timeout: Optional[float] = None,
        holder: Optional[str] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Optional[Held]:
        """Claims a once to run its work: the held run, renewed in the background, or None when it is done.

        Raises:
            konductor.FailedError: Its recorded failure is final.
        """
    def finish_once(self, name: str, holder: str, token: int, failure: Optional[str] = None) -> None:
        """Records the outcome of a run: done when ``failure`` is None, else failed with that message.

        Raises:
            konductor.LostError: The run is no longer the executor.
        """
    def arrive_barrier(self, name: str, *, holder: Optional[str] = None) -> _Object:
        """Records an arrival at a barrier.

        Returns:
            The barrier as written.
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
