"""The restricted environment in which designer-written scripts and expressions run.

SpiffWorkflow evaluates conditions, timer expressions and scripts with plain ``eval``/``exec``;
restricting builtins alone is not a sandbox. Here every source is compiled by RestrictedPython
(no imports, no names or attributes starting with an underscore, guarded attribute and item
access), its builtins are a short allow-list, operators that can exhaust memory are bounded,
and a trace function stops code that runs past its time limit.
"""

from __future__ import annotations

import ast
import datetime as _dt
import functools
import json
import math
import operator
import sys
import time
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .errors import ScriptError

SCRIPT_FILENAME = "<bpmn-script>"
DEFAULT_TIME_LIMIT_S = 2.0
MAX_SEQUENCE = 1_000_000
MAX_POWER_BITS = 4096

_BANNED_BUILTINS = {"setattr", "delattr", "__build_class__", "id", "hash", "_getattr_"}


def _bounded_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_SEQUENCE:
        raise ScriptError(f"range of {len(result)} items exceeds the limit of {MAX_SEQUENCE}")
    return result


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _guarded_binop(op: str, left: Any, right: Any) -> Any:
    """Refuse results that would exhaust memory before computing them."""
    if op == "pow":
        huge = (
            isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and right * abs(left).bit_length() > MAX_POWER_BITS
        )
        if huge:
            raise ScriptError("power result too large")
        return left**right
    if op == "mult":
        for seq, count in ((left, right), (right, left)):
            size = _sized(seq)
            if size is not None and isinstance(count, int) and size * count > MAX_SEQUENCE:
                raise ScriptError("repeated sequence too large")
        return left * right
    if op == "lshift":
        if isinstance(right, int) and right > MAX_POWER_BITS:
            raise ScriptError("shift result too large")
        return left << right
    raise ScriptError(f"unsupported operator {op}")


_INPLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "|=": operator.ior,
    "&=": operator.iand,
    "^=": operator.ixor,
    ">>=": operator.irshift,
}


def _inplace(op: str, left: Any, right: Any) -> Any:
    if op == "*=":
        return _guarded_binop("mult", left, right)
    if op == "**=":
        return _guarded_binop("pow", left, right)
    if op == "<<=":
        return _guarded_binop("lshift", left, right)
    return _INPLACE[op](left, right)


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus bounds on ``**``, ``*`` and ``<<``."""

    _GUARDED = {ast.Pow: "pow", ast.Mult: "mult", ast.LShift: "lshift"}

    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.error(node, "imports are not allowed; ask for a service-task operation instead")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        self.error(node, "imports are not allowed; ask for a service-task operation instead")
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        name = self._GUARDED.get(type(node.op))
        if name is None:
            return node
        call = ast.Call(
            func=ast.Name(id="_binop_", ctx=ast.Load()),
            args=[ast.Constant(name), node.left, node.right],
            keywords=[],
        )
        return ast.fix_missing_locations(ast.copy_location(call, node))


@functools.lru_cache(maxsize=4096)
def compile_source(source: str, mode: str) -> Any:
    """Compile restricted code once per distinct source; raise ScriptError when refused."""
    try:
        return compile_restricted(source, filename=SCRIPT_FILENAME, mode=mode, policy=_Policy)
    except SyntaxError as exc:
        raise ScriptError(_syntax_message(exc)) from None


def _syntax_message(exc: SyntaxError) -> str:
    first = exc.args[0] if exc.args else str(exc)
    if isinstance(first, list | tuple):
        return "; ".join(str(item) for item in first)
    return str(first)


def check_expression(source: str) -> None:
    """Raise ScriptError when an expression would not compile under the restrictions."""
    compile_source(source, "eval")


def check_script(source: str) -> None:
    compile_source(source, "exec")


def _safe_builtins() -> dict[str, Any]:
    names = {k: v for k, v in safe_builtins.items() if k not in _BANNED_BUILTINS}
    names.update(
        dict=dict,
        list=list,
        tuple=tuple,
        set=set,
        frozenset=frozenset,
        sorted=sorted,
        reversed=reversed,
        min=min,
        max=max,
        sum=sum,
        any=any,
        all=all,
        enumerate=enumerate,
        zip=zip,
        map=map,
        filter=filter,
        range=_bounded_range,
    )
    return names


class _Deadline:
    """A trace function that stops designer code which runs past its time limit."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds

    def global_trace(self, frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename == SCRIPT_FILENAME:
            # A loop that never leaves its line (``while True: pass``) emits no line events,
            # so the deadline is checked on every opcode of designer code.
            frame.f_trace_opcodes = True
            return self.local_trace
        return None

    def local_trace(self, frame: Any, event: str, arg: Any) -> Any:
        if time.monotonic() > self.deadline:
            raise ScriptError(f"script exceeded its time limit of {self.seconds:g} s")
        return self.local_trace


def _json_default(value: Any) -> Any:
    """What SpiffWorkflow's serializer does with values JSON lacks; anything else is refused."""
    if isinstance(value, _dt.datetime | _dt.timedelta):
        return str(value)
    if isinstance(value, set):
        return list(value)
    raise TypeError(f"a value of type {type(value).__name__}")


def _check_storable(values: Mapping[str, Any]) -> None:
    """Refuse a script that leaves values JSON cannot hold (zip, dict keys, dates, NaN, ...)."""
    bad = {}
    for key, value in values.items():
        try:
            json.dumps(value, default=_json_default, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            bad[key] = str(exc).removeprefix("Object of type ")
    if bad:
        listed = "; ".join(f"{key!r}: {why}" for key, why in sorted(bad.items()))
        raise ScriptError(
            f"cannot keep these variables in the process data ({listed}); "
            "convert them, e.g. with list() or str(), or delete them with del"
        )


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that runs everything through RestrictedPython."""

    def __init__(
        self,
        helpers: Mapping[str, Any] | None = None,
        time_limit_s: float = DEFAULT_TIME_LIMIT_S,
        service_caller: Callable[..., str] | None = None,
    ) -> None:
        base = {
            "__builtins__": _safe_builtins(),
            "_getattr_": safer_getattr,
            "_getitem_": default_guarded_getitem,
            "_getiter_": default_guarded_getiter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": full_write_guard,
            "_inplacevar_": _inplace,
            "_binop_": _guarded_binop,
            "datetime": _dt.datetime,
            "date": _dt.date,
            "timedelta": _dt.timedelta,
            "timezone": _dt.timezone,
            "math": math,
            "json_dumps": json.dumps,
            "json_loads": json.loads,
        }
        base.update(helpers or {})
        super().__init__(base)
        self.time_limit_s = time_limit_s
        self.service_caller = service_caller

    def _run(self, code: Any, namespace: dict[str, Any]) -> Any:
        deadline = _Deadline(self.time_limit_s)
        previous = sys.gettrace()
        sys.settrace(deadline.global_trace)
        try:
            return eval(code, namespace)  # noqa: S307 - compiled by RestrictedPython above
        finally:
            sys.settrace(previous)

    def evaluate(
        self, expression: str, context: Mapping[str, Any], external_context: Mapping | None = None
    ) -> Any:
        code = compile_source(expression, "eval")
        namespace = dict(self.globals)
        namespace.update(external_context or {})
        namespace.update(context)
        return self._run(code, namespace)

    def execute(
        self, script: str, context: dict[str, Any], external_context: Mapping | None = None
    ) -> bool:
        code = compile_source(script, "exec")
        injected = dict(self.globals)
        injected.update(external_context or {})
        namespace = dict(injected)
        namespace.update(context)
        self._run(code, namespace)
        updates = {}
        for key, value in namespace.items():
            if key in injected and key not in context and namespace[key] is injected[key]:
                continue
            if key == "__builtins__" or callable(value) or isinstance(value, ModuleType):
                continue
            updates[key] = value
        _check_storable(updates)
        for key in list(context):
            if key not in namespace:
                del context[key]
        context.update(updates)
        return True

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> str:
        if self.service_caller is None:
            raise ScriptError("no service-task operations are registered")
        return self.service_caller(context, **kwargs)
