"""Commands on human tasks: claim, unclaim, assign, complete."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from SpiffWorkflow.util.task import TaskState

from .. import projection, runtime, task_forms
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..identity import actor_for, find_user, may_work_task, task_groups
from ..models import (
    HumanTask,
    ProcessInstance,
    utcnow,
)
from .executor import (
    CommandContext,
    advance,
    audit,
    check_org_variable,
    check_variables,
    require_active,
)

_TASK_WITH_INSTANCE = (
    sa.select(HumanTask, ProcessInstance)
    .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    .where(HumanTask.id == sa.bindparam("task_id"))
    .execution_options(populate_existing=True)
)


@dataclass
class _TaskCommand:
    task_id: str

    def _open_task(self, context: CommandContext) -> tuple[HumanTask, ProcessInstance]:
        """The task and its instance, read in one statement.

        One statement gives one consistent snapshot, so the instance revision that the
        optimistic check compares against is the one the task row was read with.
        """
        try:
            UUID(self.task_id)
        except (ValueError, TypeError):
            raise NotFound(f"task {self.task_id} not found") from None
        row = context.session.execute(_TASK_WITH_INSTANCE, {"task_id": self.task_id}).first()
        if row is None:
            raise NotFound(f"task {self.task_id} not found")
        task, instance = row
        if task.status != "open":
            raise Conflict(f"task {task.id} is already {task.status}")
        require_active(instance)
        return task, instance


def _reassign(
    context: CommandContext,
    command: str,
    task: HumanTask,
    instance: ProcessInstance,
    username: str | None,
) -> HumanTask:
    """Claim, unclaim and assign: change the assignee, bump the instance revision, audit."""
    previous = task.assignee
    projection.set_assignee(context.session, task, username)
    instance.updated_at = utcnow()
    audit(
        context,
        command,
        instance,
        old=instance.variables,
        task_id=task.id,
        activity=task.name,
        details={"assignee": username, "previous_assignee": previous},
    )
    return task


@dataclass
class Claim(_TaskCommand):
    def execute(self, context: CommandContext) -> HumanTask:
        task, instance = self._open_task(context)
        actor = context.actor
        if task.assignee == actor.username:
            return task
        if task.assignee:
            raise Conflict(f"task {task.id} is already claimed by {task.assignee}")
        if not may_work_task(actor, task):
            raise Forbidden("you are not a candidate for this task")
        return _reassign(context, "claim", task, instance, actor.username)


@dataclass
class Unclaim(_TaskCommand):
    def execute(self, context: CommandContext) -> HumanTask:
        task, instance = self._open_task(context)
        if task.assignee is None:
            return task
        if task.assignee != context.actor.username and not context.actor.is_admin:
            raise Forbidden("only the assignee or an administrator may unclaim this task")
        return _reassign(context, "unclaim", task, instance, None)


@dataclass
class Assign(_TaskCommand):
    user: str = ""

    def execute(self, context: CommandContext) -> HumanTask:
        task, instance = self._open_task(context)
        actor = context.actor
        allowed = (
            actor.is_admin
            or task.assignee == actor.username
            or (actor.may_assign and actor.sees(task.org_path))
        )
        if not allowed:
            raise Forbidden("only the assignee, team leads and managers may assign this task")
        target = find_user(context.session, self.user) if self.user else None
        if target is None or not target.active:
            raise InvalidInput(f"unknown user {self.user!r}", {"user": "unknown user"})
        groups = task_groups(task)
        target_actor = actor_for(target)
        if not target_actor.is_admin and groups and not (target_actor.groups & groups):
            raise InvalidInput(
                f"{target.username} is in none of the task's groups", {"user": "not a candidate"}
            )
        if not target_actor.sees(task.org_path) or not actor.sees(_unit_path(target)):
            raise InvalidInput(
                f"{target.username} is outside this task's organisation scope",
                {"user": "out of scope"},
            )
        return _reassign(context, "assign", task, instance, target.username)


def _unit_path(user: Any) -> str:
    return user.org_unit.path if user.org_unit is not None else ""


@dataclass
class Complete(_TaskCommand):
    """Complete a task with data its form declares (none for a task without a form)."""

    data: dict[str, Any] = field(default_factory=dict)
    locale: str = "zh"

    def execute(self, context: CommandContext) -> HumanTask:
        session = context.session
        task, instance = self._open_task(context)
        if not may_work_task(context.actor, task):
            raise Forbidden("this task is not yours to complete")
        data = self.data if self.data is not None else {}
        if not isinstance(data, dict):
            raise InvalidInput("data must be a JSON object")
        # data in equals the form: checked before anything reads a value (org_unit...)
        errors = task_forms.field_errors(
            session, task.form_key, task.form_version, data, self.locale, context.actor
        )
        if errors:
            message = "the form has errors" if task.form_key else "this task has no form"
            raise InvalidInput(message, {"fields": errors})
        data = check_org_variable(context, check_variables(data, "data"))
        data = {**data, **task_forms.derived_fields(session, task.form_key, data)}
        workflow = runtime.load(session, instance)
        spiff_task = workflow.get_task_from_id(UUID(task.id))
        if spiff_task is None or not spiff_task.has_state(TaskState.READY):
            raise Conflict(f"task {task.id} is no longer ready")
        old = dict(instance.variables or {})
        projection.completing(workflow, spiff_task, data)
        spiff_task.data.update(data)
        try:
            spiff_task.run()
        except Exception as exc:  # its post-script, or a successor's pre-script, failed
            failure = runtime.step_failure(workflow, exc, spiff_task)
            runtime.record_incident(session, instance, failure)
            runtime.save(
                session,
                instance,
                workflow,
                completed_task_id=task.id,
                completed_by=context.actor.username,
                worker=context.actor,
            )
        else:
            advance(context, instance, workflow, completed_task_id=task.id)
        audit(
            context,
            "complete",
            instance,
            old=old,
            task_id=task.id,
            activity=task.name,
            details={"submitted": sorted(data)},
        )
        return task
