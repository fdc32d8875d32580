"""The executor: one command, one transaction; and what every command shares.

Only ``execute`` commits; a command that calls another runs it inside the same transaction.
The instance row carries a revision: a concurrent command that changed it first makes this
one fail with ``Conflict``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import runtime
from ..errors import Conflict, Forbidden, InvalidInput, NotFound, StaleRevision
from ..identity import Actor
from ..models import (
    AuditEntry,
    Incident,
    ProcessInstance,
    utcnow,
)
from ..org import find_unit
from ..services import Invocation, command_session_bound, invoking

_IDENTIFIER = re.compile(r"^[A-Za-z\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*$")
_RESERVED = {"True", "False", "None", "and", "or", "not", "if", "else", "for", "in", "is", "lambda"}


@dataclass
class CommandContext:
    session: Session
    actor: Actor


def execute(session: Session, command: Any, actor: Actor) -> Any:
    """Run one command in one transaction; map a lost race to ``Conflict``."""
    context = CommandContext(session, actor)
    try:
        with command_session_bound(session):
            result = command.execute(context)
        write_instances(session)
        session.flush()
        session.commit()
        return result
    except StaleDataError:
        session.rollback()
        raise Conflict("the process instance was changed by someone else meanwhile") from None
    except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
        session.rollback()
        if _is_race(exc):
            raise Conflict("the process instance was changed by someone else meanwhile") from None
        raise
    except BaseException:
        session.rollback()
        raise


@functools.cache
def _instance_update(columns: tuple[str, ...]) -> Any:
    table = ProcessInstance.__table__
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("_id"), table.c.revision == sa.bindparam("_revision"))
        .values({name: sa.bindparam(name) for name in columns})
    )


def write_instances(session: Session) -> None:
    """Write changed instance rows with one plain UPDATE each, guarded by the revision.

    This is what the ORM's flush would do for them, without its unit-of-work bookkeeping,
    which cost more than the UPDATE itself on every command. The written values become
    the objects' committed state, so the flush that follows has nothing left to do.
    """
    for instance in [o for o in session.dirty if isinstance(o, ProcessInstance)]:
        state = sa.inspect(instance)
        if state.pending or state.deleted:
            continue
        changed = {
            key: state.dict[key]
            for key in state.committed_state
            if key in state.dict and key != "revision" and state.attrs[key].history.added
        }
        if changed:
            revision = instance.revision
            changed["updated_at"] = utcnow()
            changed["revision"] = revision + 1
            statement = _instance_update(tuple(sorted(changed)))
            result = session.connection().execute(
                statement, {**changed, "_id": instance.id, "_revision": revision}
            )
            if result.rowcount != 1:
                raise StaleDataError(f"process instance {instance.id} changed meanwhile")
            state.dict["updated_at"] = changed["updated_at"]
            state.dict["revision"] = changed["revision"]
        # SQLAlchemy's own post-flush step: the object now matches its row.
        state._commit_all(state.dict, session.identity_map)


def _is_race(exc: Exception) -> bool:
    if isinstance(exc, sa.exc.IntegrityError):
        return True
    text = str(getattr(exc, "orig", exc)).lower()
    return any(s in text for s in ("database is locked", "could not serialize", "deadlock"))


def check_variables(variables: Any, what: str = "variables") -> dict[str, Any]:
    """Data keys become names in scripts and conditions, so they must be identifiers."""
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    bad = {k: "not a valid name" for k in variables if not _valid_name(k)}
    if bad:
        raise InvalidInput(f"{what} has invalid names", bad)
    return variables


def _valid_name(key: Any) -> bool:
    return isinstance(key, str) and bool(_IDENTIFIER.match(key)) and key not in _RESERVED


def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before != after:
            changes[key] = {"old": _short(before), "new": _short(after)}
    return changes


def _short(value: Any) -> Any:
    text = repr(value)
    return value if len(text) <= runtime.MAX_VALUE_CHARS else text[: runtime.MAX_VALUE_CHARS] + "…"


_INSERT_AUDIT = sa.insert(AuditEntry)


def audit(
    context: CommandContext,
    command: str,
    instance: ProcessInstance | None,
    *,
    old: dict[str, Any] | None = None,
    task_id: str | None = None,
    activity: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    changes = _diff(old or {}, instance.variables or {}) if instance is not None else {}
    context.session.connection().execute(
        _INSERT_AUDIT,
        [
            {
                "instance_id": instance.id if instance is not None else None,
                "command": command,
                "actor": context.actor.username,
                "task_id": task_id,
                "activity": activity,
                "at": utcnow(),
                "changes": changes,
                "details": details or {},
            }
        ],
    )


def check_org_variable(context: CommandContext, data: dict[str, Any]) -> dict[str, Any]:
    """Data that names an owning unit (``org_unit``) must name one in the actor's scope, so
    no one hands an instance to a unit they cannot see."""
    code = data.get(runtime.ORG_VARIABLE)
    if code is None:
        return data
    unit = find_unit(context.session, str(code))
    if unit is None or not context.actor.sees(unit.path):
        raise InvalidInput(
            f"no organisation unit {code!r} in your scope",
            {runtime.ORG_VARIABLE: "not in scope"},
        )
    return data


def load_instance(session: Session, instance_id: int) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"process instance {instance_id} not found")
    return instance


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only administrators may do this")


def require_operator(actor: Actor) -> None:
    if not actor.may_operate:
        raise Forbidden("only administrators and managers may act on process instances")


def operable_instance(
    context: CommandContext, instance_id: int, expected_revision: int | None = None
) -> ProcessInstance:
    """The instance an operator acts on: one outside their scope does not exist for them."""
    require_operator(context.actor)
    instance = load_instance(context.session, instance_id)
    if not context.actor.sees(instance.org_path):
        raise NotFound(f"process instance {instance_id} not found")
    check_revision(instance, expected_revision)
    return instance


def check_revision(instance: ProcessInstance, expected: int | None) -> None:
    """Refuse an action decided on an older state of the instance (a page drawn before
    someone else acted). Checked here, in the command that then writes the row guarded by
    the same revision, so nothing can change in between."""
    if expected is not None and expected != instance.revision:
        raise StaleRevision(
            f"process instance {instance.id} changed since it was read"
            f" (revision {expected}, now {instance.revision}); reload it"
        )


def require_active(instance: ProcessInstance) -> None:
    if instance.status in ("completed", "terminated"):
        raise Conflict(f"process instance {instance.id} has {instance.status}")
    if instance.status == "suspended":
        raise Conflict(f"process instance {instance.id} is suspended")


def invocation_of(context: CommandContext, instance: ProcessInstance) -> Invocation:
    """What the operations of this instance's steps may act on: this instance's case."""
    return Invocation(instance.id, instance.id, instance.business_key, context.actor)


def advance(
    context: CommandContext,
    instance: ProcessInstance,
    workflow: Any,
    *,
    completed_task_id: str | None = None,
    handover: bool = True,
) -> Incident | None:
    """Run the engine's steps up to the next wait and save. ``handover``: the actor just
    finished a step, so a new task of one of their groups is theirs (see
    ``projection.project_human_tasks``); operators moving or retrying an instance did not."""
    with invoking(invocation_of(context, instance)):
        failure = runtime.run_engine_steps(workflow)
    incident = None
    if failure is not None:
        incident = runtime.record_incident(context.session, instance, failure)
    runtime.save(
        context.session,
        instance,
        workflow,
        completed_task_id=completed_task_id,
        completed_by=context.actor.username,
        worker=context.actor if handover else None,
    )
    return incident
