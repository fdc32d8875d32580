"""The script environment SpiffWorkflow calls: designer code runs in the sandbox process.

SpiffWorkflow hands every script, condition, timer expression, DMN cell and (through
``projection``) title and dueIn expression to ``evaluate``/``execute`` with the task data as
context. Here each is compiled under RestrictedPython in this process (refused code never
leaves it), then run in a worker of ``sandbox.pool`` with only the data variables the code
names, copied there and back as tagged JSON. A worker is bounded in memory (``RLIMIT_AS``)
and, by the parent's wall clock, in time even inside one C call; an expression cannot change
the task data, because it only ever sees a copy.

Cheap things stay cheap: an expression that is a plain literal (``"PT4H"``, ``50``) or a bare
variable name is answered here without a round trip, since it computes nothing.
"""

from __future__ import annotations

import ast
import functools
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .errors import ScriptError
from .sandbox import codec
from .sandbox.pool import SandboxPool
from .sandbox.restricted import check_expression, check_script, code_names, compile_source

__all__ = [
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIME_LIMIT_S",
    "RestrictedEnvironment",
    "check_expression",
    "check_script",
]

DEFAULT_TIME_LIMIT_S = 2.0
DEFAULT_MEMORY_MB = 256
DEFAULT_WORKERS = 4
MAX_STORED_CHARS = codec.MAX_STORED_CHARS
_NOTHING = object()
_LITERAL_TYPES = (str, int, float, bool, type(None))
# Errors a script may raise that keep their type on this side; anything else is a ScriptError.
_REBUILT = {
    cls.__name__: cls
    for cls in (
        ArithmeticError,
        AssertionError,
        AttributeError,
        Exception,
        IndexError,
        KeyError,
        LookupError,
        NameError,
        NotImplementedError,
        OverflowError,
        RecursionError,
        RuntimeError,
        StopIteration,
        TypeError,
        UnboundLocalError,
        UnicodeError,
        ValueError,
        ZeroDivisionError,
    )
}


def _setting(name: str, default: float, cast: Callable[[str], float]) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise ScriptError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ScriptError(f"{name} must be above zero")
    return value


def configured_time_limit_s() -> float:
    """``CSM_SCRIPT_TIME_LIMIT_S``: seconds one script or expression may run (default 2)."""
    return _setting("CSM_SCRIPT_TIME_LIMIT_S", DEFAULT_TIME_LIMIT_S, float)


def configured_memory_mb() -> int:
    """``CSM_SCRIPT_MEMORY_MB``: memory a run may take above the worker's baseline (256)."""
    return _setting("CSM_SCRIPT_MEMORY_MB", DEFAULT_MEMORY_MB, int)


_pool_lock = threading.Lock()
_pool: SandboxPool | None = None


def shared_pool() -> SandboxPool:
    """This process's pool (``CSM_SCRIPT_WORKERS`` workers at most, default 4)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = SandboxPool(_setting("CSM_SCRIPT_WORKERS", DEFAULT_WORKERS, int))
        return _pool


@dataclass(frozen=True)
class _Plan:
    """What running a source needs: the names it can reach, or the answer without running."""

    names: frozenset[str]
    literal: Any = _NOTHING
    name: str | None = None


@functools.lru_cache(maxsize=4096)
def _plan(source: str, mode: str) -> _Plan:
    code = compile_source(source, mode)  # refuses here what the sandbox would refuse
    names = code_names(code)
    if mode != "eval":
        return _Plan(names)
    body = ast.parse(source.strip(), mode="eval").body
    if isinstance(body, ast.Name):
        return _Plan(names, name=body.id)
    if isinstance(body, ast.Constant | ast.UnaryOp):
        try:
            value = ast.literal_eval(body)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return _Plan(names)
        if type(value) in _LITERAL_TYPES:
            return _Plan(names, literal=value)
    return _Plan(names)


def _rebuild(error: Mapping[str, Any], memory_mb: int) -> Exception:
    """The worker's report of an error, as an exception of this process."""
    kind, args = error.get("type"), list(error.get("args") or [])
    if kind == "MemoryError":
        return ScriptError(f"script exceeded its memory limit of {memory_mb} MB")
    if kind == "ScriptError":
        return ScriptError(*args)
    cls = _REBUILT.get(kind)
    try:
        exc = cls(*args) if cls is not None else None
    except TypeError:
        exc = None
    if exc is None:
        exc = ScriptError(f"{kind}: {', '.join(map(str, args))}")
    if error.get("line"):
        exc.add_note(f"script line {error['line']}")
    return exc


def _copy(value: Any) -> Any:
    """A value of the task data as the sandbox would answer it: a checked copy."""
    if type(value) in _LITERAL_TYPES:
        return value
    try:
        return codec.loads(codec.dumps(codec.encode_value(value, budget=MAX_STORED_CHARS)))
    except codec.Refused as exc:
        raise ScriptError(f"the expression gives {exc}, which the process cannot use") from None
    except codec.TooLarge:
        raise ScriptError(
            f"the expression gives more than {MAX_STORED_CHARS:,} characters of data"
        ) from None


def _inputs(values: Mapping[str, Any] | None, names: frozenset[str]) -> dict[str, Any]:
    """The variables the code names, encoded for the worker; refuse cyclic or huge ones."""
    if not values:
        return {}
    chosen = {k: values[k] for k in names if k in values}
    try:
        encoded, bad = codec.encode(chosen, budget=codec.MAX_INPUT_CHARS)
    except codec.TooLarge:
        raise ScriptError(
            f"the data this code reads is larger than {codec.MAX_INPUT_CHARS:,} characters"
        ) from None
    if bad:
        listed = "; ".join(f"{key!r}: {why}" for key, why in sorted(bad.items()))
        raise ScriptError(f"cannot hand these variables to the code ({listed})")
    return encoded


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that runs everything in the sandbox.

    ``time_limit_s`` and ``memory_mb`` default to ``CSM_SCRIPT_TIME_LIMIT_S`` and
    ``CSM_SCRIPT_MEMORY_MB``; ``pool`` to this process's shared pool.
    """

    def __init__(
        self,
        time_limit_s: float | None = None,
        memory_mb: int | None = None,
        service_caller: Callable[..., str] | None = None,
        pool: SandboxPool | None = None,
    ) -> None:
        super().__init__({})
        self.time_limit_s = time_limit_s if time_limit_s is not None else configured_time_limit_s()
        self.memory_mb = memory_mb if memory_mb is not None else configured_memory_mb()
        self.service_caller = service_caller
        self._pool = pool

    @property
    def pool(self) -> SandboxPool:
        return self._pool if self._pool is not None else shared_pool()

    def _run(self, request: dict[str, Any]) -> Any:
        answer = self.pool.run(request, time_limit_s=self.time_limit_s, memory_mb=self.memory_mb)
        if not isinstance(answer, dict) or not answer.get("ok"):
            error = answer.get("error") if isinstance(answer, dict) else None
            raise _rebuild(error if isinstance(error, dict) else {}, self.memory_mb)
        return answer

    def evaluate(
        self, expression: str, context: Mapping[str, Any], external_context: Mapping | None = None
    ) -> Any:
        plan = _plan(expression, "eval")
        if plan.literal is not _NOTHING:
            return plan.literal
        if plan.name is not None:
            for scope in (context, external_context or {}):
                if plan.name in scope:
                    return _copy(scope[plan.name])
        answer = self._run(
            {
                "op": "evaluate",
                "source": expression,
                "data": _inputs(context, plan.names),
                "external": _inputs(external_context, plan.names),
            }
        )
        return answer.get("value")

    def execute(
        self, script: str, context: dict[str, Any], external_context: Mapping | None = None
    ) -> bool:
        plan = _plan(script, "exec")
        answer = self._run(
            {
                "op": "execute",
                "source": script,
                "data": _inputs(context, plan.names),
                "external": _inputs(external_context, plan.names),
            }
        )
        data, deleted = answer.get("data"), answer.get("deleted")
        if (
            not isinstance(data, dict)
            or not isinstance(deleted, list)
            or not all(type(key) is str for key in [*data, *deleted])
        ):
            raise ScriptError("the script's sandbox sent an answer that cannot be read")
        for key in deleted:
            context.pop(key, None)
        context.update(data)
        return True

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> str:
        if self.service_caller is None:
            raise ScriptError("no service-task operations are registered")
        return self.service_caller(context, **kwargs)
