"""The registry of service-task operations that the domain fills.

A BPMN service task names an operation (``spiffworkflow:serviceTaskOperator id="..."``) and its
parameters; the engine looks the name up here. Operations are plain Python functions that take
the evaluated parameters as keyword arguments and return something JSON can encode.

An operation finds the records it changes through ``invocation()``: the instance whose step
calls it, never an id or number its parameters carry, since those come from task data that a
process start or a form may have set to name someone else's case.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from .errors import ScriptError

if TYPE_CHECKING:
    from .identity import Actor

_session: ContextVar[Session | None] = ContextVar("command_session", default=None)


@dataclass(frozen=True)
class Invocation:
    """Who runs a step, and for which case.

    A call activity runs inside its caller's workflow, so the root instance is the instance
    itself; it is named apart so an operation says which one it means.
    """

    instance_id: int
    root_instance_id: int
    business_key: str | None
    actor: Actor


_invocation: ContextVar[Invocation | None] = ContextVar("invocation", default=None)


@contextmanager
def invoking(invocation: Invocation) -> Iterator[None]:
    """Make ``invocation`` the one the operations of the steps run now see."""
    token = _invocation.set(invocation)
    try:
        yield
    finally:
        _invocation.reset(token)


def invocation() -> Invocation:
    """The instance and actor of the step that calls the operation."""
    current = _invocation.get()
    if current is None:
        raise ScriptError("this operation runs only in a step of a process instance")
    return current


@contextmanager
def command_session_bound(session: Session) -> Iterator[None]:
    """Make the running command's session the one operations see."""
    token = _session.set(session)
    try:
        yield
    finally:
        _session.reset(token)


def bound_session() -> Session | None:
    """The running command's session, or None outside a command."""
    return _session.get()


def command_session() -> Session:
    """The session of the command whose step calls the operation.

    An operation reads and writes in the command's own transaction, so its changes commit
    or roll back with the step that ran it (an incident keeps nothing of a failed step).
    """
    session = _session.get()
    if session is None:
        raise ScriptError("this operation runs only inside an engine command")
    return session


@dataclass(frozen=True)
class Operation:
    name: str
    func: Callable[..., Any]
    description: str = ""
    parameters: tuple[str, ...] = field(default_factory=tuple)
    takes_any: bool = False  # a ``**kwargs`` function: any parameter name is its own


class OperationRegistry:
    """Named operations; the engine calls them, the domain registers them at start-up."""

    def __init__(self) -> None:
        self._operations: dict[str, Operation] = {}

    def register(
        self, name: str, func: Callable[..., Any] | None = None, *, description: str = ""
    ) -> Any:
        """Register ``func`` under ``name``; usable as a decorator."""

        def add(f: Callable[..., Any]) -> Callable[..., Any]:
            code = getattr(f, "__code__", None)
            params = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount] if code else ()
            takes_any = code is None or bool(code.co_flags & inspect.CO_VARKEYWORDS)
            self._operations[name] = Operation(
                name, f, description or (f.__doc__ or ""), params, takes_any
            )
            return f

        return add(func) if func is not None else add

    def unregister(self, name: str) -> None:
        self._operations.pop(name, None)

    def get(self, name: str) -> Operation | None:
        return self._operations.get(name)

    def names(self) -> list[str]:
        return sorted(self._operations)

    def call(self, name: str, params: dict[str, Any]) -> str:
        """Run an operation and hand SpiffWorkflow the JSON string it expects."""
        operation = self._operations.get(name)
        if operation is None:
            raise ScriptError(f"unknown service-task operation {name!r}")
        result = operation.func(**params)
        return json.dumps(result, default=str)


registry = OperationRegistry()
