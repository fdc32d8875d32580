"""The registry of service-task operations that the domain fills.

A BPMN service task names an operation (``spiffworkflow:serviceTaskOperator id="..."``) and its
parameters; the engine looks the name up here. Operations are plain Python functions that take
the evaluated parameters as keyword arguments and return something JSON can encode.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from .errors import ScriptError

_session: ContextVar[Session | None] = ContextVar("command_session", default=None)


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
            self._operations[name] = Operation(name, f, description or (f.__doc__ or ""), params)
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
