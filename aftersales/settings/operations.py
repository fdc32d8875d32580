"""Processes read a setting as it is when their step runs (the callback threshold)."""

from __future__ import annotations

from typing import Any

from aftersales.settings import service as settings
from engine.services import command_session


def setting_value(name: str) -> Any:
    """A setting as it is now (the callback threshold the team lead set)."""
    return settings.value(command_session(), name)


OPERATIONS = {"setting_value": setting_value}
