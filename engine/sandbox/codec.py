"""Task data across the pipe: JSON with explicit tags for the few types JSON lacks.

The worker runs hostile code, so nothing it sends is unpickled: answers are JSON, and a tag
can only make a datetime, date, timedelta, tuple, set, frozenset, a non-finite float, a big
integer or a dict whose keys JSON cannot hold. A real dict with the tag key is itself
carried as a tagged list of pairs, so tags are never ambiguous.

Encoding walks the value once and checks, while it walks, what the engine must refuse:
cycles, nesting beyond ``MAX_DEPTH``, containers over ``MAX_SEQUENCE`` items and more than
a budget of characters in all, so a huge or cyclic value costs little before it is refused.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ScriptError
from ..script_guards import MAX_SEQUENCE

TAG = "$"
MAX_DEPTH = 100
MAX_STORED_CHARS = 1_000_000
MAX_INPUT_CHARS = 4_000_000
_PLAIN_INT_BITS = 12_000  # about 3,600 digits: Python refuses to print ints over 4,300
_CHECK_EVERY = 4096


class Refused(Exception):
    """A value the codec will not carry; the message says why, in a designer's words."""


class TooLarge(Exception):
    """The values together exceed the character budget."""


class _Walk:
    """One encoding pass: a budget of characters, the containers on the current path and,
    in the sandbox, the deadline of the run."""

    def __init__(self, budget: int, storable: bool, expired: Callable[[], bool] | None) -> None:
        self.remaining = budget
        self.storable = storable
        self.expired = expired
        self.nodes = 0
        self.path: set[int] = set()

    def spend(self, chars: int) -> None:
        self.remaining -= chars
        if self.remaining < 0:
            raise TooLarge

    def value(self, v: Any, depth: int) -> Any:
        t = type(v)
        if t is str:
            self.spend(len(v) + 2)
            return v
        if t is bool or v is None:
            self.spend(4)
            return v
        if t is int:
            bits = v.bit_length()
            self.spend(bits * 3 // 10 + 1)
            if bits <= _PLAIN_INT_BITS:
                return v
            if self.storable:
                raise Refused("an integer of more than 3,600 digits")
            return {TAG: "int", "v": format(v, "x")}
        if t is float:
            self.spend(8)
            if math.isfinite(v):
                return v
            if self.storable:
                raise Refused("a number that is not finite (nan or inf)")
            return {TAG: "float", "v": repr(v)}
        if t is dict or t is list or t is tuple or t is set or t is frozenset:
            return self.container(v, t, depth)
        if t is _dt.datetime:
            self.spend(32)
            return {TAG: "datetime", "v": v.isoformat()}
        if t is _dt.timedelta:
            self.spend(24)
            return {TAG: "timedelta", "v": [v.days, v.seconds, v.microseconds]}
        if t is _dt.date and not self.storable:
            self.spend(16)
            return {TAG: "date", "v": v.isoformat()}
        raise Refused(f"a value of type {t.__name__}")

    def container(self, v: Any, t: type, depth: int) -> Any:
        if depth >= MAX_DEPTH:
            raise Refused(f"data nested more than {MAX_DEPTH} levels deep")
        if len(v) > MAX_SEQUENCE:
            raise Refused(f"more than {MAX_SEQUENCE:,} items")
        if self.storable and t is frozenset:
            raise Refused("a value of type frozenset")
        marker = id(v)
        if marker in self.path:
            raise Refused("a value that contains itself")
        self.nodes += len(v) + 1
        if self.expired is not None and self.nodes > _CHECK_EVERY:
            self.nodes = 0
            if self.expired():
                raise ScriptError("the script's data took longer than its time limit to check")
        self.spend(len(v) + 2)
        self.path.add(marker)
        try:
            if t is dict:
                return self.mapping(v, depth + 1)
            items = [self.value(item, depth + 1) for item in v]
        finally:
            self.path.discard(marker)
        if t is list:
            return items
        return {TAG: t.__name__, "v": items}

    def mapping(self, v: dict, depth: int) -> Any:
        if all(type(k) is str for k in v) and TAG not in v:
            out = {}
            for key, item in v.items():
                self.spend(len(key) + 3)
                out[key] = self.value(item, depth)
            return out
        if self.storable:
            for key in v:
                if not (type(key) in (str, int, float, bool) or key is None):
                    raise Refused(f"a dict key of type {type(key).__name__}")
        pairs = [[self.value(k, depth), self.value(i, depth)] for k, i in v.items()]
        return {TAG: "dict", "v": pairs}


def encode(
    data: Mapping[str, Any],
    *,
    budget: int,
    storable: bool = False,
    expired: Callable[[], bool] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Encode each variable; return the encoded ones and, by name, why others were refused.

    ``storable`` applies the rules for what may stay in task data (no dates, NaN, frozensets
    or giant integers: SpiffWorkflow's serializer cannot keep them). Raises TooLarge when
    all of them together exceed ``budget`` characters.
    """
    walk = _Walk(budget, storable, expired)
    out, bad = {}, {}
    for key, value in data.items():
        if type(key) is not str:
            bad[repr(key)] = "not a variable name"
            continue
        try:
            out[key] = walk.value(value, 0)
        except Refused as exc:
            bad[key] = str(exc)
    return out, bad


def encode_value(value: Any, *, budget: int, expired: Callable[[], bool] | None = None) -> Any:
    """Encode one value (an expression's result); raises Refused or TooLarge."""
    return _Walk(budget, False, expired).value(value, 0)


def dumps(message: Any) -> bytes:
    """An encoded message as bytes (lone surrogates in strings survive the trip)."""
    return json.dumps(message, ensure_ascii=False, allow_nan=False, check_circular=False).encode(
        "utf-8", "surrogatepass"
    )


def loads(raw: bytes) -> Any:
    """Decode a message and its tags; raises ValueError on anything malformed."""
    try:
        return json.loads(raw.decode("utf-8", "surrogatepass"), object_hook=_untag)
    except (TypeError, KeyError, OverflowError, RecursionError) as exc:
        raise ValueError(f"malformed message: {exc}") from None


def _untag(obj: dict) -> Any:
    if TAG not in obj:
        return obj
    kind, v = obj[TAG], obj["v"]
    if len(obj) != 2:
        raise ValueError("malformed tag")
    if kind == "datetime":
        return _dt.datetime.fromisoformat(v)
    if kind == "date":
        return _dt.date.fromisoformat(v)
    if kind == "timedelta":
        days, seconds, micro = v
        return _dt.timedelta(days=days, seconds=seconds, microseconds=micro)
    if kind == "tuple":
        return tuple(_list(v))
    if kind == "set":
        return set(_list(v))
    if kind == "frozenset":
        return frozenset(_list(v))
    if kind == "dict":
        return {key: item for key, item in _list(v)}
    if kind == "float" and v in ("nan", "inf", "-inf"):
        return float(v)
    if kind == "int" and isinstance(v, str) and len(v) <= 20_000:
        return int(v, 16)
    raise ValueError(f"unknown tag {kind!r}")


def _list(v: Any) -> list:
    if type(v) is not list:
        raise ValueError("malformed tag")
    return v
