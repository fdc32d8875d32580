"""Compiling and running designer code under RestrictedPython, inside one process.

SpiffWorkflow evaluates conditions, timer expressions and scripts with plain ``eval``/``exec``;
restricting builtins alone is not a sandbox. Here every source is compiled by RestrictedPython
(no imports, no names or attributes starting with an underscore, guarded attribute and item
access), its builtins are a short allow-list, operators that can exhaust memory are bounded,
and a trace function stops Python-level loops that run past their time limit. What this
cannot stop (time or memory spent inside one C call) is the sandbox process's job: this
module runs there, and the parent side only compiles with it.
"""

from __future__ import annotations

import ast
import datetime as _dt
import functools
import json
import re
import sys
import time
from collections.abc import Mapping
from types import CodeType, ModuleType, SimpleNamespace
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
)

from ..errors import ScriptError
from ..script_guards import (
    SAFE_MATH,
    bounded_range,
    guarded_binop,
    guarded_getattr,
    guarded_inplace,
    guarded_pow,
)

SCRIPT_FILENAME = "<bpmn-script>"

_BANNED_BUILTINS = {
    "setattr",
    "delattr",
    "__build_class__",
    "id",
    "hash",
    "_getattr_",
    "pow",
    "BaseException",
    "KeyboardInterrupt",
    "SystemExit",
    "GeneratorExit",
}
# Exceptions an ``except`` clause may name: all derive from Exception, so none can catch
# the time limit, and all are builtins, so evaluating the clause can never itself fail.
CATCHABLE = frozenset(
    {
        "Exception",
        "ArithmeticError",
        "AssertionError",
        "AttributeError",
        "IndexError",
        "KeyError",
        "LookupError",
        "NameError",
        "OverflowError",
        "TypeError",
        "ValueError",
        "ZeroDivisionError",
    }
)


class ScriptTimeout(BaseException):
    """Raised by the trace function; a BaseException so no allowed ``except`` catches it."""


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus size guards on operators and safe exception handling."""

    _GUARDED = {ast.Add: "add", ast.Pow: "pow", ast.Mult: "mult", ast.LShift: "lshift"}

    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.error(node, "imports are not allowed; ask for a service-task operation instead")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        self.error(node, "imports are not allowed; ask for a service-task operation instead")
        return node

    def visit_Try(self, node: ast.Try) -> ast.AST:
        if node.finalbody:
            self.error(node, "finally is not allowed in scripts")
        for handler in node.handlers:
            names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            if not all(isinstance(n, ast.Name) and n.id in CATCHABLE for n in names):
                self.error(
                    handler,
                    "except must name built-in exceptions such as ValueError or Exception",
                )
        return self.node_contents_visit(node)

    def visit_TryStar(self, node: ast.AST) -> ast.AST:
        self.error(node, "except* is not allowed in scripts")
        return node

    def visit_With(self, node: ast.With) -> ast.AST:
        self.error(node, "with is not allowed in scripts")
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        spec = node.format_spec
        if spec is not None and not all(isinstance(v, ast.Constant) for v in spec.values):
            self.error(node, "format specifications must be written out, not computed")
        elif spec is not None and any(
            len(d) > 4 for v in spec.values for d in re.findall(r"\d+", str(v.value))
        ):
            self.error(node, "format widths above 9999 are not allowed")
        return self.node_contents_visit(node)

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
def compile_source(source: str, mode: str) -> CodeType:
    """Compile restricted code once per distinct source; raise ScriptError when refused.

    Deeply nested source makes the parser or the compiler give up with MemoryError or
    RecursionError; that is a refusal like any other, never a crash of the caller.
    """
    try:
        return compile_restricted(source, filename=SCRIPT_FILENAME, mode=mode, policy=_Policy)
    except SyntaxError as exc:
        raise ScriptError(_syntax_message(exc)) from None
    except (MemoryError, RecursionError):
        raise ScriptError("the code is nested too deeply to compile") from None


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


@functools.lru_cache(maxsize=4096)
def code_names(code: CodeType) -> frozenset[str]:
    """Every global name the code (and the functions and comprehensions in it) can reach.

    Restricted code has no ``globals()``, ``vars()`` or frame access, so a data variable it
    does not name is out of its reach: only the named ones need to be handed to it.
    """
    names: set[str] = set()
    stack = [code]
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(c for c in current.co_consts if isinstance(c, CodeType))
    return frozenset(names)


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
        range=bounded_range,
        pow=guarded_pow,
    )
    return names


def base_globals() -> dict[str, Any]:
    """The names every script and expression sees besides the task data."""
    return {
        "__builtins__": _safe_builtins(),
        "_getattr_": guarded_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": guarded_inplace,
        "_binop_": guarded_binop,
        "datetime": _dt.datetime,
        "date": _dt.date,
        "timedelta": _dt.timedelta,
        "timezone": _dt.timezone,
        "math": SAFE_MATH,
        "json_dumps": json.dumps,
        "json_loads": json.loads,
    }


class Deadline:
    """A trace function that stops designer code which runs past its time limit."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds

    def passed(self) -> bool:
        return time.monotonic() > self.deadline

    def error(self) -> ScriptError:
        return ScriptError(f"script exceeded its time limit of {self.seconds:g} s")

    def global_trace(self, frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename == SCRIPT_FILENAME:
            # A loop that never leaves its line (``while True: pass``) emits no line events,
            # so the deadline is checked on every opcode of designer code.
            frame.f_trace_opcodes = True
            return self.local_trace
        return None

    def local_trace(self, frame: Any, event: str, arg: Any) -> Any:
        if time.monotonic() > self.deadline:
            raise ScriptTimeout
        return self.local_trace


def run_code(code: CodeType, namespace: dict[str, Any], deadline: Deadline) -> Any:
    """Evaluate compiled code in ``namespace`` until it ends or the deadline passes."""
    previous = sys.gettrace()
    sys.settrace(deadline.global_trace)
    try:
        result = eval(code, namespace)  # noqa: S307 - compiled by RestrictedPython above
    except ScriptTimeout:
        result = None
    finally:
        sys.settrace(previous)
    if deadline.passed():
        raise deadline.error()
    return result


def script_updates(
    namespace: Mapping[str, Any], injected: Mapping[str, Any], data_keys: set[str]
) -> dict[str, Any]:
    """What a script leaves in the task data: the data it was given and the variables it
    set, without the helpers it was handed (unless it rebound one), functions or modules."""
    updates = {}
    for key, value in namespace.items():
        if key in injected and key not in data_keys and value is injected[key]:
            continue
        if key == "__builtins__" or callable(value):
            continue
        if isinstance(value, ModuleType | SimpleNamespace):
            continue
        updates[key] = value
    return updates
