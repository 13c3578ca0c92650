"""Checks of caller arguments, with messages that name the argument."""

from __future__ import annotations

import datetime
import math
import os
from typing import Optional, Union

from ._exceptions import InvalidArgumentError

Duration = Union[int, float, datetime.timedelta]
"""Seconds as a number, or a :class:`datetime.timedelta`."""

_I32_MIN = -(2**31)
_I32_MAX = 2**31 - 1
_U32_MAX = 2**32 - 1


def _invalid(what: str, value: object, reason: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"invalid {what} {value!r}: {reason}", what=what, value=repr(value), reason=reason
    )


def duration(value: object, what: str) -> Optional[float]:
    """Seconds from a number or timedelta; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise TypeError(
            f"{what} must be a number of seconds or a datetime.timedelta, not {type(value).__name__}"
        )
    if math.isnan(seconds) or math.isinf(seconds):
        raise _invalid(what, value, "must be a finite number of seconds (use None for no limit)")
    if seconds < 0:
        raise _invalid(what, value, "must not be negative")
    return seconds


def text(value: object, what: str) -> str:
    """A string argument."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


def optional_text(value: object, what: str) -> Optional[str]:
    """A string argument or ``None``."""
    return None if value is None else text(value, what)


def path(value: object, what: str) -> Optional[str]:
    """A filesystem path (str or os.PathLike) or ``None``."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        fspath = os.fspath(value)
        if isinstance(fspath, str):
            return fspath
    raise TypeError(f"{what} must be a str or os.PathLike, not {type(value).__name__}")


def integer(value: object, what: str, minimum: int, maximum: int) -> int:
    """An int (not a bool) within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise _invalid(what, value, f"must be at least {minimum}")
    if value > maximum:
        raise _invalid(what, value, f"must be at most {maximum}")
    return value


def count(value: object, what: str) -> int:
    """A count of at least 1 (permits, expected arrivals, quorum)."""
    return integer(value, what, 1, _U32_MAX)


def optional_count(value: object, what: str) -> Optional[int]:
    """A count of at least 1, or ``None``."""
    return None if value is None else count(value, what)


def priority(value: object) -> Optional[int]:
    """A queue priority (32-bit signed), or ``None``."""
    return None if value is None else integer(value, "priority", _I32_MIN, _I32_MAX)


def flag(value: object, what: str) -> bool:
    """A bool, strictly (``1`` and ``"yes"`` are rejected)."""
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be a bool, not {type(value).__name__}")
    return value
