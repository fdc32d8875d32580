"""The script engine handed to every workflow: restricted scripts and registered services."""

from __future__ import annotations

import ast
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from .errors import ScriptError
from .scripting import RestrictedEnvironment
from .services import OperationRegistry, bound_session
from .services import registry as default_registry


class EngineScriptEngine(PythonScriptEngine):
    """PythonScriptEngine with a restricted environment and a safe service-task path.

    SpiffWorkflow 3.2's own ``call_service`` error path refers to an undefined name, so any
    failure there would surface as a NameError; this one reports the operation's own error.
    What the operation wrote is flushed inside its step, so a database error (a constraint it
    broke) fails the step, in its savepoint, rather than the command's commit.
    """

    def __init__(self, operations: OperationRegistry | None = None) -> None:
        self.operations = operations or default_registry
        super().__init__(environment=RestrictedEnvironment())

    def validate(self, expression: str) -> None:
        """DMN asks whether a cell parses (SyntaxError when not); nesting too deep to parse
        is an error of the step, not a crash of the process."""
        try:
            ast.parse(expression)
        except (MemoryError, RecursionError):
            raise ScriptError("the expression is nested too deeply to compile") from None

    def call_service(self, task: Any, **kwargs: Any) -> str:
        name = kwargs["operation_name"]
        params = {key: spec["value"] for key, spec in kwargs.get("operation_params", {}).items()}
        try:
            result = self.operations.call(name, params)
            session = bound_session()
            if session is not None:
                session.flush()
            return result
        except Exception as exc:
            raise WorkflowTaskException(
                f"service operation {name!r} failed: {exc.__class__.__name__}: {exc}",
                task=task,
                exception=exc,
            ) from exc


script_engine = EngineScriptEngine()
