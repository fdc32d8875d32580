"""The engine's tables. Times are naive UTC, identically on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

_clock_offset: ContextVar[timedelta] = ContextVar("clock_offset", default=timedelta(0))


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None) + _clock_offset.get()


@contextmanager
def clock_set_to(moment: datetime) -> Iterator[None]:
    """Record what runs inside as having happened at ``moment`` (naive UTC).

    Every timestamp the engine writes comes from ``utcnow``; the demo replays weeks of
    service history through the real commands with it.
    """
    token = _clock_offset.set(moment - datetime.now(UTC).replace(tzinfo=None))
    try:
        yield
    finally:
        _clock_offset.reset(token)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: sa.JSON, list[Any]: sa.JSON}


def org_path_type() -> sa.String:
    """Paths like ``/1/4/17/`` compare byte by byte, so a prefix is an index range on both
    databases (PostgreSQL's default collation would order them as words)."""
    return sa.String(400).with_variant(sa.String(400, collation="C"), "postgresql")


ORG_KINDS = ("hq", "department", "center", "outlet")


class OrgUnit(Base):
    """HQ, its departments, service centers and outlets; ``path`` lists the ids from the root."""

    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(20))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"))
    path: Mapped[str] = mapped_column(org_path_type(), index=True, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


user_group = sa.Table(
    "user_group",
    Base.metadata,
    sa.Column("user_id", sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("group_id", sa.ForeignKey("app_group.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120), default="")
    is_admin: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    org_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    roles: Mapped[list[Any]] = mapped_column(default=list)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    # the IANA zone the user reads times in (webapp/times.py); None: the app's default
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(default=True)

    groups: Mapped[list[Group]] = relationship(secondary=user_group, lazy="selectin")
    org_unit: Mapped[OrgUnit | None] = relationship(lazy="joined")

    @property
    def group_names(self) -> list[str]:
        return sorted(g.name for g in self.groups)


class Group(Base):
    __tablename__ = "app_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class StartGrant(Base):
    """A group or role an admin allows to start a process key, beyond its start lane."""

    __tablename__ = "start_grant"

    process_key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    group_name: Mapped[str] = mapped_column(sa.String(80), primary_key=True)


class Deployment(Base):
    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployed_by: Mapped[str | None] = mapped_column(sa.String(80))
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(sa.String(20), default="api")
    files: Mapped[list[Any]] = mapped_column(default=list)


class ProcessDefinition(Base):
    """One version of one BPMN process or DMN decision."""

    __tablename__ = "process_definition"
    __table_args__ = (sa.UniqueConstraint("kind", "key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10), default="bpmn")
    key: Mapped[str] = mapped_column(sa.String(200), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    file_name: Mapped[str] = mapped_column(sa.String(255), default="")
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    source: Mapped[str] = mapped_column(sa.Text, deferred=True)
    spec_json: Mapped[str | None] = mapped_column(sa.Text, deferred=True)
    start_groups: Mapped[list[Any]] = mapped_column(default=list)
    message_starts: Mapped[list[Any]] = mapped_column(default=list)
    start_form_key: Mapped[str | None] = mapped_column(sa.String(200))
    # false for a process only other processes call (its ``startable`` property)
    startable: Mapped[bool] = mapped_column(default=True)
    deployment_id: Mapped[int] = mapped_column(sa.ForeignKey("deployment.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (
        sa.Index("ix_instance_key_status", "process_key", "status"),
        sa.Index("ix_instance_business_key", "business_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(sa.ForeignKey("process_definition.id"))
    process_key: Mapped[str] = mapped_column(sa.String(200))
    process_version: Mapped[int]
    business_key: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(20), default="running", index=True)
    started_by: Mapped[str | None] = mapped_column(sa.String(80))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    current_activities: Mapped[list[Any]] = mapped_column(default=list)
    # BPMN ids of completed steps whose history was pruned: the path drawn on the diagram
    passed_activities: Mapped[list[Any]] = mapped_column(default=list)
    # the ``orderStatus`` its tokens last reached (engine.business_status)
    business_status: Mapped[str | None] = mapped_column(sa.String(40))
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(sa.Text)
    waiting: Mapped[bool] = mapped_column(default=False)
    org_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"))
    org_path: Mapped[str] = mapped_column(org_path_type(), default="", index=True)
    revision: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": revision}


class HumanTask(Base):
    """The projection of a READY user or manual task; inboxes read only this table."""

    __tablename__ = "human_task"
    __table_args__ = (
        sa.Index("ix_human_task_assignee_open", "assignee", "status", "priority", "created_at"),
        sa.Index("ix_human_task_completed_by", "completed_by", "completed_at"),
        sa.Index("ix_human_task_instance", "instance_id", "status"),
        sa.Index("ix_human_task_phone", "customer_phone", "status"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE")
    )
    process_key: Mapped[str] = mapped_column(sa.String(200))
    business_key: Mapped[str | None] = mapped_column(sa.String(200))
    name: Mapped[str] = mapped_column(sa.String(200))
    title: Mapped[str] = mapped_column(sa.String(500), default="")
    lane: Mapped[str | None] = mapped_column(sa.String(200))
    candidate_group: Mapped[str | None] = mapped_column(sa.String(500))
    assignee: Mapped[str | None] = mapped_column(sa.String(80))
    form_key: Mapped[str | None] = mapped_column(sa.String(200))
    due_at: Mapped[datetime | None]
    priority: Mapped[int] = mapped_column(default=50)
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(sa.String(80))
    org_path: Mapped[str] = mapped_column(org_path_type(), default="")
    form_version: Mapped[int | None]
    customer_phone: Mapped[str | None] = mapped_column(sa.String(40))
    # what the task showed when it was completed: ``{"data": submitted, "context": {...}}``;
    # its completer reads this once the instance has left their scope
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))


class TaskCandidate(Base):
    """One row per candidate group of an open task; rows go when the task leaves the inbox.

    Whether the task is claimed, its priority and creation time are copied in, so the list of
    a user's groups' unclaimed tasks is read from this index alone, at any table size.
    """

    __tablename__ = "task_candidate"

    task_id: Mapped[str] = mapped_column(
        sa.ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True
    )
    group_name: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    claimed: Mapped[bool] = mapped_column(default=False)
    priority: Mapped[int] = mapped_column(default=50)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    org_path: Mapped[str] = mapped_column(org_path_type(), default="")


sa.Index(
    "ix_task_candidate_scoped",
    TaskCandidate.group_name,
    TaskCandidate.claimed,
    TaskCandidate.org_path,
)
sa.Index(
    "ix_task_candidate_inbox",
    TaskCandidate.group_name,
    TaskCandidate.claimed,
    TaskCandidate.priority.desc(),
    TaskCandidate.created_at,
    TaskCandidate.task_id,
)


class Timer(Base):
    """A waiting timer event with its due time; the scheduler fires the due rows."""

    __tablename__ = "timer"
    __table_args__ = (sa.Index("ix_timer_due", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str] = mapped_column(sa.String(36))
    activity: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(40))
    due_at: Mapped[datetime]


class MessageSubscription(Base):
    """A waiting message catch event, found by message name and the instance's business key."""

    __tablename__ = "message_subscription"
    __table_args__ = (sa.Index("ix_message_subscription_name", "message_name", "business_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str] = mapped_column(sa.String(36))
    activity: Mapped[str] = mapped_column(sa.String(200))
    message_name: Mapped[str] = mapped_column(sa.String(200))
    business_key: Mapped[str | None] = mapped_column(sa.String(200))


class Incident(Base):
    __tablename__ = "incident"
    __table_args__ = (sa.Index("ix_incident_instance", "instance_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE")
    )
    task_id: Mapped[str] = mapped_column(sa.String(36))
    activity: Mapped[str] = mapped_column(sa.String(200))
    message: Mapped[str] = mapped_column(sa.Text)
    details: Mapped[str] = mapped_column(sa.Text, default="")
    phase: Mapped[str] = mapped_column(sa.String(10), default="run")
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class Comment(Base):
    """A remark a person adds to an instance, or to one of its tasks."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str | None] = mapped_column(sa.String(36))
    author: Mapped[str] = mapped_column(sa.String(80))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """History: one row per command, with the data keys it changed (old and new values)."""

    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE")
    )
    command: Mapped[str] = mapped_column(sa.String(40))
    actor: Mapped[str | None] = mapped_column(sa.String(80))
    task_id: Mapped[str | None] = mapped_column(sa.String(36))
    activity: Mapped[str | None] = mapped_column(sa.String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class MigrationBatch(Base):
    """Migrating every running instance of one version to a newer one, in the background
    (Camunda's batch): the row holds the plan, the progress and a lease, so one worker at a
    time moves it on, chunk by chunk, and a page shows how far it got."""

    __tablename__ = "migration_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(sa.String(200))
    source_definition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("process_definition.id", ondelete="CASCADE")
    )
    source_version: Mapped[int]
    target_version: Mapped[int]
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(sa.String(80))
    # the scope the batch works in (its creator's), which also decides who may watch it
    org_path: Mapped[str] = mapped_column(org_path_type(), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="running", index=True)
    total: Mapped[int] = mapped_column(default=0)
    migrated: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    reasons: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cursor: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    message: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
