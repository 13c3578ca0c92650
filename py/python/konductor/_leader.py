"""What the leader's work receives: :class:`Leadership`."""

from __future__ import annotations

from . import _arguments as check
from . import _native
from ._arguments import Duration

__all__ = ["Leadership"]


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
        return self._native.sleep(check.duration(duration, "duration") or 0.0)

    def __repr__(self) -> str:
        return f"Leadership(holder={self.holder!r}, token={self.token}, is_leader={self.is_leader})"


Leadership.__module__ = "konductor"
