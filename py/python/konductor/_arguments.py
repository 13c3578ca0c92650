"""Type checks of caller arguments, with messages that name the argument.

Values are checked by core (durations, names, counts) once the types are
right; here only what Python's types allow and core's cannot receive is
refused.
"""

from __future__ import annotations

import datetime
import os
from typing import Optional, Union

from . import _native
from ._exceptions import InvalidArgumentError

Duration = Union[int, float, datetime.timedelta]
"""Seconds as a number, or a :class:`datetime.timedelta`."""

_I32 = (-(2**31), 2**31 - 1)
_COUNT = (1, 2**32 - 1)


def _type_error(what: str, expected: str, value: object) -> TypeError:
    return TypeError(f"{what} must be {expected}, not {type(value).__name__}")


def duration(value: object, what: str) -> Optional[float]:
    """Seconds from a number or timedelta; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise _type_error(what, "a number of seconds or a datetime.timedelta", value)


def text(value: object, what: str) -> str:
    """A string argument."""
    if not isinstance(value, str):
        raise _type_error(what, "a str", value)
    return value


def optional_text(value: object, what: str) -> Optional[str]:
    """A string argument or ``None``."""
    return None if value is None else text(value, what)


def path(value: object, what: str) -> Optional[str]:
    """A filesystem path (str or os.PathLike) or ``None``."""
    if value is None:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        return value
    raise _type_error(what, "a str or os.PathLike", value)


def integer(value: object, what: str, bounds: tuple[int, int]) -> int:
    """An int (not a bool) that fits core's integer type."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(what, "an int", value)
    low, high = bounds
    if not low <= value <= high:
        reason = f"must be at least {low}" if value < low else f"must be at most {high}"
        raise InvalidArgumentError(
            f"invalid {what} {value}: {reason}", argument=what, value=str(value), reason=reason
        )
    return value


def count(value: object, what: str) -> int:
    """A count of at least 1 (permits, expected arrivals, quorum)."""
    return integer(value, what, _COUNT)


def optional_count(value: object, what: str) -> Optional[int]:
    """A count of at least 1, or ``None``."""
    return None if value is None else count(value, what)


def priority(value: object) -> Optional[int]:
    """A queue priority (32-bit signed), or ``None``."""
    return None if value is None else integer(value, "priority", _I32)


def flag(value: object, what: str) -> bool:
    """A bool, strictly (``1`` and ``"yes"`` are rejected)."""
    if not isinstance(value, bool):
        raise _type_error(what, "a bool", value)
    return value


def cancel_token(value: object) -> Optional[_native.CancelToken]:
    """A :class:`konductor.CancelToken`, or ``None``."""
    if value is None or isinstance(value, _native.CancelToken):
        return value
    raise _type_error("cancel", "a konductor.CancelToken", value)
