"""Snapshot dataclasses built from core's objects by their field declarations.

A field reads the object's key of the same name in camelCase, or the
dotted paths given with :func:`api` (the first one present); its annotation
says how the value is converted (RFC 3339 times, Go durations, nested
records). One builder serves every kind.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Dict, Mapping, Tuple, Type, TypeVar, Union, get_type_hints

from . import _native

_T = TypeVar("_T")

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

def api(*paths: str) -> Any:
    """A field read from the first of these dotted paths present in the object."""
    return dataclasses.field(metadata={"api": paths})


def raw() -> Any:
    """The field that keeps the whole object (for ``to_dict``)."""
    return dataclasses.field(repr=False, compare=False, hash=False, metadata={"raw": True})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _lookup(obj: Mapping[str, Any], path: str) -> Any:
    value: Any = obj
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _time(value: str) -> datetime.datetime:
    """A UTC ``datetime`` from an RFC 3339 timestamp, read by core's parser."""
    return _EPOCH + datetime.timedelta(microseconds=_native.parse_timestamp(value))


def _convert(hint: Any, value: Any) -> Any:
    origin = getattr(hint, "__origin__", None)
    if origin is Union:  # Optional[X]: absent and empty values are None
        inner = next(arg for arg in hint.__args__ if arg is not type(None))
        return None if value is None or value == "" else _convert(inner, value)
    if origin is tuple:
        return tuple(_convert(hint.__args__[0], item) for item in value or ())
    if hint is bool:
        return value is True
    if hint is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else 0
    if hint is str:
        return value if isinstance(value, str) else ""
    if hint is datetime.datetime:
        return _time(value)
    if hint is datetime.timedelta:
        return datetime.timedelta(seconds=_native.parse_duration(value))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return build(hint, value if isinstance(value, dict) else {})
    raise TypeError(f"no conversion to {hint!r}")


_HINTS: Dict[type, Dict[str, Any]] = {}


def _hints(cls: type) -> Dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def build(cls: Type[_T], obj: Mapping[str, Any]) -> _T:
    """An instance of dataclass ``cls`` from the object ``obj`` (camelCase keys)."""
    hints = _hints(cls)
    values: Dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.metadata.get("raw"):
            values[field.name] = obj
            continue
        paths = field.metadata.get("api", (_camel(field.name),))
        found = next((v for v in map(lambda p: _lookup(obj, p), paths) if v is not None), None)
        values[field.name] = _convert(hints[field.name], found)
    return cls(**values)


def to_api(record: object) -> Dict[str, Any]:
    """A flat record as the API writes it: camelCase keys, ``None`` left out."""
    fields: Tuple[dataclasses.Field[Any], ...] = dataclasses.fields(record)  # type: ignore[arg-type]
    return {
        _camel(field.name): value
        for field in fields
        if (value := getattr(record, field.name)) is not None
    }

