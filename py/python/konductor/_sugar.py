"""Per-kind methods made from generic ones, so that each is declared once:
``acquire_semaphore = for_kind(acquire, Permit)`` is ``acquire(Permit, …)``
with the same signature (less ``kind``), documentation and typing."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Callable, Dict, Type, TypeVar

if TYPE_CHECKING:
    from typing_extensions import Concatenate, ParamSpec

    _P = ParamSpec("_P")

_S = TypeVar("_S")
_K = TypeVar("_K")
_R = TypeVar("_R")


def for_kind(
    method: Callable[Concatenate[_S, Type[_K], _P], _R], kind: Type[_K]
) -> Callable[Concatenate[_S, _P], _R]:
    """``method`` with its ``kind`` argument bound to ``kind``."""

    def bound(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return method(self, kind, *args, **kwargs)

    signature = inspect.signature(method)
    bound.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for p in signature.parameters.values() if p.name != "kind"]
    )
    bound.__doc__ = _document(method, kind)
    bound.__module__ = method.__module__
    setattr(bound, "_for_kind", True)
    return bound


def _document(method: Callable[..., Any], kind: type) -> str:
    lines = inspect.cleandoc(method.__doc__ or "").splitlines()
    kept = [line for line in lines if not line.strip().startswith("kind:")]
    kept[0] = f"{kept[0]} Same as ``{method.__name__}({kind.__name__}, ...)``."
    return "\n".join(kept)


def name_methods(cls: type) -> None:
    """Names the per-kind methods of ``cls`` after the attributes that hold them."""
    members: Dict[str, Any] = dict(vars(cls))
    for name, member in members.items():
        if getattr(member, "_for_kind", False):
            member.__name__ = name
            member.__qualname__ = f"{cls.__name__}.{name}"
