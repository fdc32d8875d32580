"""An operator's action is decided on what they read: the command checks the revision the
caller saw (the pages must send it), and an instance's data changes only while it is halted
(suspended, or stopped by an incident), through the API as through the pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.commands import SetVariables, Suspend, execute
from engine.errors import StaleRevision
from engine.identity import SYSTEM_ACTOR
from engine.models import AuditEntry, ProcessInstance


@pytest.fixture
def running(api) -> tuple[object, dict]:  # noqa: ANN001
    assert api.deploy("parallel.bpmn").status_code == 201
    return api, api.start("parallel", variables={"a": 1})


def state(api, instance_id: int) -> tuple[str, dict, int]:  # noqa: ANN001
    body = api.get(f"/process-instances/{instance_id}").get_json()
    return body["status"], body["variables"], body["revision"]


def test_variables_of_a_running_instance_cannot_be_set_through_the_api(running) -> None:  # noqa: ANN001
    api, started = running
    before = state(api, started["id"])
    response = api.post(
        f"/process-instances/{started['id']}/variables", json={"variables": {"a": 2}}
    )
    assert response.status_code == 409
    assert "suspend it" in response.get_json()["message"]
    assert state(api, started["id"]) == before


def test_variables_of_a_suspended_instance_are_set(running) -> None:  # noqa: ANN001
    api, started = running
    api.post(f"/process-instances/{started['id']}/suspend")
    response = api.post(
        f"/process-instances/{started['id']}/variables", json={"variables": {"a": 2}}
    )
    assert response.status_code == 200
    assert state(api, started["id"])[1]["a"] == 2


def test_an_action_on_a_stale_revision_answers_409_and_changes_nothing(running) -> None:  # noqa: ANN001
    api, started = running
    before = state(api, started["id"])
    response = api.post(
        f"/process-instances/{started['id']}/suspend", json={"revision": before[2] - 1 or 99}
    )
    assert response.status_code == 409
    assert state(api, started["id"]) == before


def test_an_action_on_the_current_revision_goes_through(running) -> None:  # noqa: ANN001
    api, started = running
    revision = state(api, started["id"])[2]
    response = api.post(f"/process-instances/{started['id']}/suspend", json={"revision": revision})
    assert response.status_code == 200 and response.get_json()["status"] == "suspended"


def test_the_revision_is_checked_inside_the_command(running) -> None:  # noqa: ANN001
    api, started = running
    with api.env.session_factory() as session:
        instance = session.get(ProcessInstance, started["id"])
        seen = instance.revision
        execute(session, Suspend(started["id"], expected_revision=seen), SYSTEM_ACTOR)
    with api.env.session_factory() as session, pytest.raises(StaleRevision):
        execute(
            session,
            SetVariables(started["id"], {"a": 5}, expected_revision=seen),
            SYSTEM_ACTOR,
        )
    with api.env.session_factory() as session:
        assert session.get(ProcessInstance, started["id"]).variables["a"] == 1
        commands = session.scalars(
            sa.select(AuditEntry.command).where(AuditEntry.instance_id == started["id"])
        ).all()
        assert "set_variables" not in commands
