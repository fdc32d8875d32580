"""Users, groups and API tokens, and the permission rules the engine enforces."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import ApiToken, Group, HumanTask, ProcessDefinition, StartGrant, User

DESIGNER_GROUP = "process-designer"
SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who runs a command: a user with its groups, or the system (timers, the scheduler)."""

    username: str
    groups: frozenset[str] = field(default_factory=frozenset)
    is_admin: bool = False

    @property
    def may_deploy(self) -> bool:
        return self.is_admin or DESIGNER_GROUP in self.groups


SYSTEM_ACTOR = Actor(SYSTEM, frozenset(), is_admin=True)


def actor_for(user: User) -> Actor:
    return Actor(user.username, frozenset(user.group_names), user.is_admin)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_groups(session: Session, names: Iterable[str]) -> list[Group]:
    groups = []
    for name in names:
        group = session.scalar(sa.select(Group).where(Group.name == name))
        if group is None:
            group = Group(name=name)
            session.add(group)
        groups.append(group)
    return groups


def upsert_user(
    session: Session,
    *,
    username: str,
    groups: Iterable[str] | None = None,
    is_admin: bool | None = None,
    display_name: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Create a user or update the one with that name; given groups replace the old ones."""
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=display_name or username, is_admin=False)
        session.add(user)
    if groups is not None:
        user.groups = ensure_groups(session, sorted(set(groups)))
    if is_admin is not None:
        user.is_admin = is_admin
    if display_name:
        user.display_name = display_name
    if password_hash:
        user.password_hash = password_hash
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(sa.select(User).where(User.username == username))


def issue_token(session: Session, user: User, name: str = "") -> str:
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_hash=_hash(token), name=name))
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(
        sa.select(ApiToken).where(
            ApiToken.token_hash == _hash(token), ApiToken.revoked_at.is_(None)
        )
    )
    return row.user if row is not None else None


def may_start(session: Session, actor: Actor, definition: ProcessDefinition) -> bool:
    """Admins; members of a lane holding a start event; granted groups; anyone without lanes."""
    if actor.is_admin:
        return True
    lanes = set(definition.start_groups or [])
    if not lanes:
        return True
    if lanes & actor.groups:
        return True
    granted = session.scalars(
        sa.select(StartGrant.group_name).where(StartGrant.process_key == definition.key)
    )
    return bool(set(granted) & actor.groups)


def task_groups(task: HumanTask) -> set[str]:
    return {g for g in (task.candidate_group or "").split(",") if g}


def may_see_task(actor: Actor, task: HumanTask) -> bool:
    if actor.is_admin or task.assignee == actor.username:
        return True
    groups = task_groups(task)
    return not groups or bool(groups & actor.groups)


def may_work_task(actor: Actor, task: HumanTask) -> bool:
    """The assignee works a claimed task; a candidate works an unclaimed one; admins both."""
    if actor.is_admin:
        return True
    if task.assignee:
        return task.assignee == actor.username
    groups = task_groups(task)
    return not groups or bool(groups & actor.groups)
