"""Bounds on what designer code may allocate: the guards the restricted compiler inserts.

RestrictedPython stops access to internals, not resource use. These guards refuse an
operation before it builds a huge string, list or integer; sizes are checked up front, so
the cost of the refused operation is never paid.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from RestrictedPython.Guards import safer_getattr

from .errors import ScriptError

MAX_SEQUENCE = 1_000_000
MAX_INT_BITS = 65_536


def _too_big(what: str) -> ScriptError:
    return ScriptError(f"{what} would exceed the limit of {MAX_SEQUENCE:,} items")


def bounded_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_SEQUENCE:
        raise _too_big("range")
    return result


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _bits(value: Any) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def guarded_binop(op: str, left: Any, right: Any) -> Any:
    """``+``, ``*``, ``**`` and ``<<`` with their result size checked first."""
    if op == "add":
        sizes = (_size(left), _size(right))
        if None not in sizes and sizes[0] + sizes[1] > MAX_SEQUENCE:
            raise _too_big("joined sequence")
        return left + right
    if op == "mult":
        for seq, count in ((left, right), (right, left)):
            size = _size(seq)
            if size is not None and isinstance(count, int) and size * count > MAX_SEQUENCE:
                raise _too_big("repeated sequence")
        if _bits(left) + _bits(right) > MAX_INT_BITS:
            raise ScriptError("product too large")
        return left * right
    if op == "pow":
        ints = isinstance(left, int) and isinstance(right, int)
        if ints and abs(left) > 1 and right * _bits(left) > MAX_INT_BITS:
            raise ScriptError("power result too large")
        return left**right
    if op == "lshift":
        if isinstance(right, int) and _bits(left) + right > MAX_INT_BITS:
            raise ScriptError("shift result too large")
        return left << right
    raise ScriptError(f"unsupported operator {op}")


def guarded_pow(base: Any, exp: Any, mod: Any = None) -> Any:
    """The ``pow`` builtin; with a modulus the result stays small."""
    if mod is not None:
        return pow(base, exp, mod)
    return guarded_binop("pow", base, exp)


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": lambda a, b: guarded_binop("add", a, b),
    "*=": lambda a, b: guarded_binop("mult", a, b),
    "**=": lambda a, b: guarded_binop("pow", a, b),
    "<<=": lambda a, b: guarded_binop("lshift", a, b),
    "-=": operator.isub,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "|=": operator.ior,
    "&=": operator.iand,
    "^=": operator.ixor,
    ">>=": operator.irshift,
}


def guarded_inplace(op: str, left: Any, right: Any) -> Any:
    return _INPLACE[op](left, right)


def _width_checked(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(width: int, *args: Any) -> Any:
        if isinstance(width, int) and width > MAX_SEQUENCE:
            raise _too_big("padded string")
        return method(width, *args)

    return call


def _replace_checked(text: Any) -> Callable[..., Any]:
    def replace(old: Any, new: Any, count: int = -1) -> Any:
        hits = text.count(old) if old else len(text) + 1
        if count >= 0:
            hits = min(hits, count)
        if len(text) + hits * max(len(new) - len(old), 0) > MAX_SEQUENCE:
            raise _too_big("replaced string")
        return text.replace(old, new, count)

    return replace


def _extend_checked(items: list) -> Callable[[Any], None]:
    def extend(more: Any) -> None:
        more = list(more)
        if len(items) + len(more) > MAX_SEQUENCE:
            raise _too_big("list")
        items.extend(more)

    return extend


_PADDING = {"ljust", "rjust", "center", "zfill", "expandtabs"}


_MISSING = object()


def guarded_getattr(obj: Any, name: str, default: Any = _MISSING) -> Any:
    """RestrictedPython's attribute guard, with size checks on methods that can blow up.

    A missing attribute raises AttributeError (RestrictedPython's guard would answer None,
    hiding a designer's typo until something else fails).
    """
    if isinstance(obj, str | bytes):
        if name in _PADDING:
            return _width_checked(getattr(obj, name))
        if name == "replace":
            return _replace_checked(obj)
    if isinstance(obj, list) and name == "extend":
        return _extend_checked(obj)
    value = safer_getattr(obj, name, _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            raise AttributeError(f"{type(obj).__name__!r} object has no attribute {name!r}")
        return default
    return value


SAFE_MATH = SimpleNamespace(
    **{
        name: getattr(math, name)
        for name in (
            "ceil",
            "floor",
            "trunc",
            "fabs",
            "sqrt",
            "exp",
            "log",
            "log10",
            "log2",
            "isclose",
            "isfinite",
            "isnan",
            "fsum",
            "gcd",
            "pi",
            "e",
            "inf",
        )
    }
)
