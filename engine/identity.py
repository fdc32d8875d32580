"""Users, groups and API tokens, and the permission rules the engine enforces."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import scope
from .errors import InvalidInput
from .models import ApiToken, Group, HumanTask, ProcessDefinition, StartGrant, User, utcnow
from .org import get_unit, root_unit

SYSTEM = "system"
TOKEN_DAYS = 90  # how long a new API token is valid unless the caller says otherwise
ROLES = (
    "agent",
    "team_lead",
    "complaint_supervisor",
    "responsible_department",
    "center_staff",
    "outlet_manager",
    "engineer",
    "warehouse",
    "finance",
    "manager",
    "process_designer",
    "knowledge_editor",
    "admin",
)
DESIGNER_ROLE = "process_designer"
ASSIGNING_ROLES = frozenset({"team_lead", "manager", "outlet_manager", "center_staff"})
# who watches every process (流程监控) and who may act on instances (suspend, retry, ...)
MONITORING_ROLES = frozenset({"manager", "process_designer", "team_lead"})
OPERATING_ROLES = frozenset({"manager"})


@dataclass(frozen=True)
class Actor:
    """Who runs a command: a user with its groups, roles and data scope, or the system.

    ``scope`` is the organisation path whose subtree the actor sees; ``None`` sees all
    (HQ, its departments, administrators and the system).
    """

    username: str
    groups: frozenset[str] = field(default_factory=frozenset)
    is_admin: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)
    scope: str | None = None
    unit_id: int | None = None

    @property
    def may_deploy(self) -> bool:
        return self.is_admin or DESIGNER_ROLE in self.roles

    @property
    def may_assign(self) -> bool:
        """Team leads, managers, outlet managers and center staff hand work to others."""
        return self.is_admin or bool(ASSIGNING_ROLES & self.roles)

    @property
    def may_monitor(self) -> bool:
        return self.is_admin or bool(MONITORING_ROLES & self.roles)

    @property
    def may_operate(self) -> bool:
        """Suspend, resume, terminate, retry incidents and change an instance's data."""
        return self.is_admin or bool(OPERATING_ROLES & self.roles)

    def sees(self, path: str | None) -> bool:
        """Whether a row already loaded lies in this actor's scope (``engine.scope.sees``)."""
        return scope.sees(self, path)


SYSTEM_ACTOR = Actor(SYSTEM, frozenset(), is_admin=True)


def admin_users() -> sa.ColumnElement[bool]:
    """SQL over ``User``: the administrators, by flag or role, as ``actor_for`` decides."""
    return sa.or_(User.is_admin.is_(True), sa.cast(User.roles, sa.Text).contains('"admin"'))


def actor_for(user: User) -> Actor:
    roles = frozenset(user.roles or ())
    admin = user.is_admin or "admin" in roles
    unit = user.org_unit
    return Actor(
        user.username,
        frozenset(user.group_names),
        admin,
        roles,
        None if admin else scope.unit_scope(unit),
        unit.id if unit is not None else None,
    )


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
    org_code: str | None = None,
    roles: Iterable[str] | None = None,
) -> User:
    """Create a user or update the one with that name; given groups and roles replace the
    old ones. A new user without a unit belongs to HQ."""
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=display_name or username, is_admin=False)
        session.add(user)
    if org_code:
        user.org_unit = get_unit(session, org_code)
    elif user.org_unit_id is None:
        user.org_unit = root_unit(session)
    if roles is not None:
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise InvalidInput(f"unknown role {unknown[0]!r}", {"roles": "unknown role"})
        user.roles = sorted(set(roles))
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


def issue_token(session: Session, user: User, name: str = "", *, days: int = TOKEN_DAYS) -> str:
    """A new bearer token for ``user``, valid for ``days``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user=user,
            token_hash=_hash(token),
            name=name,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a token that is neither revoked nor expired belongs to, else None."""
    row = session.scalar(
        sa.select(ApiToken).where(
            ApiToken.token_hash == _hash(token),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > utcnow(),
        )
    )
    if row is None or not row.user.active:
        return None
    return row.user


@dataclass(frozen=True)
class StartRefusal:
    """Why a process may not be started: a short ``reason`` code the web layer words in the
    user's language, and an English ``message`` for the API and the logs."""

    reason: str
    message: str


DIRECT = "direct"  # a start from the start page, the API or a message start event
# A rule the domain adds: given the definition and what starts it (``DIRECT``, or the name a
# domain command gives itself), a refusal or None. The engine does not know the domain.
StartGuard = Callable[[ProcessDefinition, str], StartRefusal | None]
_start_guards: list[StartGuard] = []


def register_start_guard(guard: StartGuard) -> None:
    """Add a rule every start obeys, for everyone, admins and the system included."""
    if guard not in _start_guards:
        _start_guards.append(guard)


def unregister_start_guard(guard: StartGuard) -> None:
    if guard in _start_guards:
        _start_guards.remove(guard)


def _refused_to_all(definition: ProcessDefinition, via: str) -> StartRefusal | None:
    """What no one may start this way: a process only others call (declared ``startable``
    false on its newest version, which deployment copies to the older ones) and what a
    domain guard refuses."""
    if not definition.startable:
        return StartRefusal(
            "called_only",
            f"process {definition.key!r} is called by other processes; "
            "it cannot be started on its own",
        )
    for guard in _start_guards:
        refusal = guard(definition, via)
        if refusal is not None:
            return refusal
    return None


NOT_GRANTED = "not_granted"


def start_refusal(
    session: Session,
    actor: Actor,
    definition: ProcessDefinition,
    *,
    via: str = DIRECT,
    permitted: bool = False,
) -> StartRefusal | None:
    """Why ``actor`` may not start ``definition`` now, or None when it may.

    A called-only process and what a domain guard refuses are refused to everyone; otherwise
    admins start anything, others only a process whose start lane holds one of their groups
    or that an admin granted to one of their groups or roles. A process with neither lanes
    nor grants is for admins. ``permitted``: a domain command decided who may (see
    ``StartInstance.permitted``).
    """
    refusal = _refused_to_all(definition, via)
    if refusal is not None:
        return refusal
    if permitted or actor.is_admin or _in_start_lane(actor, definition):
        return None
    granted = session.scalars(
        sa.select(StartGrant.group_name).where(StartGrant.process_key == definition.key)
    )
    if set(granted) & (actor.groups | actor.roles):
        return None
    return StartRefusal(NOT_GRANTED, f"you may not start process {definition.key!r}")


def may_start(
    session: Session, actor: Actor, definition: ProcessDefinition, *, via: str = DIRECT
) -> bool:
    return start_refusal(session, actor, definition, via=via) is None


def _in_start_lane(actor: Actor, definition: ProcessDefinition) -> bool:
    return bool(set(definition.start_groups or []) & actor.groups)


def startable_definitions(
    session: Session, actor: Actor, definitions: list[ProcessDefinition]
) -> list[ProcessDefinition]:
    """Those of ``definitions`` (newest versions) the actor may start directly, with one
    query for all the grants: what the start page lists."""
    names = actor.groups | actor.roles
    granted = {
        key
        for key, group in session.execute(sa.select(StartGrant.process_key, StartGrant.group_name))
        if group in names
    }
    return [
        d
        for d in definitions
        if _refused_to_all(d, DIRECT) is None
        and (actor.is_admin or _in_start_lane(actor, d) or d.key in granted)
    ]


SENDERS_PROPERTY = "messageSenders"


def may_send_message(actor: Actor, senders: Iterable[str]) -> bool:
    """Admins (and the system) send any message; anyone else only one whose receiving event
    names one of their groups or roles in its ``messageSenders`` property."""
    return actor.is_admin or bool(set(senders) & (actor.groups | actor.roles))


def task_groups(task: HumanTask) -> set[str]:
    return {g for g in (task.candidate_group or "").split(",") if g}


def may_see_task(actor: Actor, task: HumanTask) -> bool:
    """Within the actor's scope: its own tasks, its groups' and those without candidates."""
    if actor.is_admin:
        return True
    if not actor.sees(task.org_path):
        return False
    if task.assignee == actor.username:
        return True
    groups = task_groups(task)
    return not groups or bool(groups & actor.groups)


def may_work_task(actor: Actor, task: HumanTask) -> bool:
    """The assignee works a claimed task; a candidate in scope works an unclaimed one."""
    if actor.is_admin:
        return True
    if not actor.sees(task.org_path):
        return False
    if task.assignee:
        return task.assignee == actor.username
    groups = task_groups(task)
    return not groups or bool(groups & actor.groups)
