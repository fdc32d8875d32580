"""The engine's exceptions; the web layer maps each to one HTTP status in one place."""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    """Base of every error the engine reports to a caller."""

    code = "engine_error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(EngineError):
    code = "not_found"


class Forbidden(EngineError):
    code = "forbidden"


class Conflict(EngineError):
    """A concurrent command changed the same instance first, or the state forbids the action."""

    code = "conflict"


class StaleRevision(Conflict):
    """The action was decided on an older revision of the instance than the stored one."""


class InvalidInput(EngineError):
    """Bad input: unknown fields, values of the wrong type, a malformed file."""

    code = "invalid"


class DeploymentError(InvalidInput):
    code = "invalid_deployment"


class ScriptError(Exception):
    """A designer-written script or expression broke a rule or failed while running."""
