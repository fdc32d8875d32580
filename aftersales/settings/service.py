"""Values that people with the right role change in the UI, and processes read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from aftersales.settings.models import AppSetting
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.identity import Actor


@dataclass(frozen=True)
class Setting:
    name: str
    default: int
    minimum: int
    maximum: int
    roles: frozenset[str]


SETTINGS = {
    "callback_threshold": Setting(
        "callback_threshold", 60, 0, 100, frozenset({"team_lead", "manager"})
    ),
}


def _setting(name: str) -> Setting:
    setting = SETTINGS.get(name)
    if setting is None:
        raise NotFound(f"no setting {name!r}")
    return setting


def value(session: Session, name: str) -> Any:
    row = session.get(AppSetting, name)
    return row.value if row is not None else _setting(name).default


def may_change(actor: Actor, name: str) -> bool:
    return actor.is_admin or bool(_setting(name).roles & actor.roles)


def change(session: Session, actor: Actor, name: str, raw: Any) -> int:
    """Set a whole-number setting within its range; the caller commits."""
    setting = _setting(name)
    if not may_change(actor, name):
        raise Forbidden(f"you may not change {name}")
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise InvalidInput("a whole number is needed", {name: "not a number"}) from None
    if not setting.minimum <= number <= setting.maximum:
        raise InvalidInput(
            f"{name} is from {setting.minimum} to {setting.maximum}", {name: "out of range"}
        )
    row = session.get(AppSetting, name) or AppSetting(name=name)
    row.value, row.updated_by = number, actor.username
    session.add(row)
    return number
