"""Data in equals the form: a completion carries only the fields its task's form declares.

A field the process relies on (``order_number``, ``org_unit``, ``customer_id``, a threshold)
can be set only where a form declares it, so a user who adds one to a completion, through
the API or by editing the page's post, gets 422 naming it and changes nothing. A task
without a form accepts no data at all. Fields the form computes (a survey's score) and its
photo and signature fields keep working.
"""

from __future__ import annotations

import json
import re
from io import BytesIO
from pathlib import Path

import pytest
import sqlalchemy as sa

from aftersales.orders.models import ServiceOrder
from engine.commands import Deploy, execute
from engine.identity import SYSTEM_ACTOR
from engine.models import AuditEntry, HumanTask, ProcessInstance
from forms.binding import form_for
from forms.format import FormFileError, parse_document
from forms.models import FormDefinition, SurveyBinding
from forms.schemas import row_schema
from forms.validation import validate_data
from tests.ui.board_world import REPORT
from tests.ui.pages import World, post, text

from .images import png
from .scope_world import PUDONG, complete, customer, deploy, dispatched_order, open_task, token

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
UNKNOWN = "not_in_any_form"


def on_site(world: World) -> str:
    """A Pudong repair order whose engineer has checked in: the work report is theirs."""
    deploy(world)
    number = dispatched_order(world, customer(world, "陈静", "13800138000", PUDONG))
    complete(world, number, "accept", "outlet", {"accepted": True})
    complete(world, number, "assign_engineer", "outlet", {"engineer": "engineer"})
    complete(world, number, "check_in", "engineer", {"checked_in_at": "2026-11-20T10:00"})
    return number


def at_callback(world: World) -> str:
    """A repair order whose report the center approved: the agent's callback survey is next."""
    number = on_site(world)
    complete(world, number, "work_report", "engineer", REPORT)
    complete(world, number, "review", "center", {"approved": True})
    return number


def api_complete(world: World, username: str, task_id: str, data: object):  # noqa: ANN201
    return world.app.test_client().post(
        f"/api/v1/tasks/{task_id}/complete", headers=token(world, username), json={"data": data}
    )


def state(world: World, task_id: str) -> dict:
    """What a refused completion must leave as it was: the task, its instance, its order."""
    with world.session_factory() as session:
        task = session.get(HumanTask, task_id)
        instance = session.get(ProcessInstance, task.instance_id)
        order = session.scalar(
            sa.select(ServiceOrder).where(ServiceOrder.process_instance_id == instance.id)
        )
        return {
            "task": (task.status, task.completed_by),
            "variables": dict(instance.variables or {}),
            "revision": instance.revision,
            "org_path": instance.org_path,
            "order": (order.number, order.customer_id, order.status) if order else None,
            "audit": session.scalar(
                sa.select(sa.func.count()).where(AuditEntry.instance_id == instance.id)
            ),
        }


@pytest.mark.parametrize(
    ("field", "value"),
    [("order_number", "R-OTHER-1"), ("org_unit", "O-GZ-TH"), ("customer_id", 1)],
)
def test_an_undeclared_field_in_the_work_report_answers_422_naming_it(
    world: World, field: str, value: object
) -> None:
    task = open_task(world, on_site(world), "work_report")
    response = api_complete(world, "engineer", task.id, {**REPORT, field: value})
    assert response.status_code == 422
    assert list(response.get_json()["details"]["fields"]) == [field]


def test_a_refused_completion_changes_nothing(world: World) -> None:
    task = open_task(world, on_site(world), "work_report")
    before = state(world, task.id)
    extra = {"order_number": "R-OTHER-1", "org_unit": "O-GZ-TH", "customer_id": 1}
    response = api_complete(world, "engineer", task.id, {**REPORT, **extra})
    assert response.status_code == 422
    assert state(world, task.id) == before
    assert before["task"] == ("open", None)


def test_the_work_report_with_only_its_declared_fields_completes(world: World) -> None:
    number = on_site(world)
    task = open_task(world, number, "work_report")
    parts = [{"code": "CAP-35", "name": "启动电容", "qty": 1, "unit_price": 45.0}]
    response = api_complete(world, "engineer", task.id, {**REPORT, "parts_used": parts})
    assert response.status_code == 200, response.get_json()
    after = state(world, task.id)
    assert after["task"] == ("completed", "engineer")
    assert after["variables"]["parts_used"] == parts


def test_an_undeclared_key_in_a_table_row_answers_422_naming_its_path(world: World) -> None:
    task = open_task(world, on_site(world), "work_report")
    row = {"code": "CAP-35", "qty": 1, "org_unit": "O-GZ-TH"}
    response = api_complete(world, "engineer", task.id, {**REPORT, "parts_used": [row]})
    assert response.status_code == 422
    assert list(response.get_json()["details"]["fields"]) == ["parts_used.0.org_unit"]
    assert state(world, task.id)["task"] == ("open", None)


def test_an_object_where_the_form_wants_a_list_of_strings_is_refused_key_by_key(
    world: World,
) -> None:
    task = open_task(world, on_site(world), "work_report")
    response = api_complete(world, "engineer", task.id, {**REPORT, "photos": [{"org_unit": "x"}]})
    assert response.status_code == 422
    assert "photos.0.org_unit" in response.get_json()["details"]["fields"]


def test_an_undeclared_field_added_to_the_page_post_answers_422_naming_it(world: World) -> None:
    task = open_task(world, on_site(world), "work_report")
    before = state(world, task.id)
    client = world.client("engineer")
    response = post(client, f"/tasks/{task.id}/complete", {**REPORT, "org_unit": "O-GZ-TH"})
    assert response.status_code == 422
    assert "org_unit" in text(response)
    assert state(world, task.id) == before


def test_an_undeclared_table_cell_added_to_the_page_post_is_refused(world: World) -> None:
    task = open_task(world, on_site(world), "work_report")
    cells = {"parts_used-0-code": "CAP-35", "parts_used-0-qty": "1", "parts_used-0-cost": "0"}
    response = post(world.client("engineer"), f"/tasks/{task.id}/complete", {**REPORT, **cells})
    assert response.status_code == 422
    assert "parts_used-0-cost" in text(response)
    assert state(world, task.id)["task"] == ("open", None)


def test_the_page_post_with_a_photo_and_a_signature_completes(world: World) -> None:
    task = open_task(world, on_site(world), "work_report")
    data = {
        **REPORT,
        "parts_used-0-code": "CAP-35",
        "parts_used-0-qty": "1",
        "photos__upload": [(BytesIO(png()), "fault.png", "image/png")],
    }
    response = post(world.client("engineer"), f"/tasks/{task.id}/complete", data)
    assert response.status_code == 302, text(response)
    variables = state(world, task.id)["variables"]
    assert len(variables["photos"]) == 1
    assert variables["customer_signature"] == REPORT["customer_signature"]
    assert variables["parts_used"] == [{"code": "CAP-35", "qty": 1}]


def survey_answers() -> dict:
    return {"VISITED": True, "ATTITUDE": 4, "ONTIME": True, "FIXED": True}


def test_a_survey_answer_with_an_extra_key_answers_422_naming_it(world: World) -> None:
    task = open_task(world, at_callback(world), "callback")
    before = state(world, task.id)
    response = api_complete(world, "agent", task.id, {**survey_answers(), "verified": True})
    assert response.status_code == 422
    assert list(response.get_json()["details"]["fields"]) == ["verified"]
    assert state(world, task.id) == before


def test_the_survey_score_is_computed_from_the_declared_answers(world: World) -> None:
    task = open_task(world, at_callback(world), "callback")
    response = api_complete(world, "agent", task.id, survey_answers())
    assert response.status_code == 200, response.get_json()
    score = state(world, task.id)["variables"]["survey_score"]
    assert 0 < score < 100  # ATTITUDE 4 of 5 costs a little


def test_the_survey_score_is_computed_not_submitted(world: World) -> None:
    task = open_task(world, at_callback(world), "callback")
    response = api_complete(world, "agent", task.id, {**survey_answers(), "survey_score": 100})
    assert response.status_code == 422
    assert list(response.get_json()["details"]["fields"]) == ["survey_score"]


FORMLESS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
    targetNamespace="http://csm.test">
  <bpmn:process id="formless" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="look" />
    <bpmn:userTask id="look" name="Look at it">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="look" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def formless_task(world: World) -> str:
    """An open task of a process whose user task names no form (started by an admin)."""
    with world.session_factory() as session:
        execute(session, Deploy([("formless.bpmn", FORMLESS)]), SYSTEM_ACTOR)
    client = world.app.test_client()
    started = client.post(
        "/api/v1/process-instances", headers=token(world, "admin"), json={"process_key": "formless"}
    )
    assert started.status_code == 201, started.get_json()
    with world.session_factory() as session:
        return session.scalar(
            sa.select(HumanTask.id).where(HumanTask.instance_id == started.get_json()["id"])
        )


def test_a_task_without_a_form_answers_422_for_any_data_naming_each_field(world: World) -> None:
    task_id = formless_task(world)
    before = state(world, task_id)
    response = api_complete(world, "admin", task_id, {"org_unit": "O-GZ-TH", "threshold": 0})
    assert response.status_code == 422
    assert set(response.get_json()["details"]["fields"]) == {"org_unit", "threshold"}
    assert state(world, task_id) == before


def test_a_task_without_a_form_completes_without_data(world: World) -> None:
    task_id = formless_task(world)
    response = api_complete(world, "admin", task_id, {})
    assert response.status_code == 200, response.get_json()
    assert state(world, task_id)["task"] == ("completed", "admin")


def test_a_field_posted_to_the_page_of_a_task_without_a_form_is_refused(world: World) -> None:
    task_id = formless_task(world)
    response = post(world.client("admin"), f"/tasks/{task_id}/complete", {"org_unit": "O-GZ-TH"})
    assert response.status_code == 422
    assert "org_unit" in text(response)
    assert state(world, task_id)["task"] == ("open", None)


# ---- cannot be reintroduced: every form there is, and every form that can be stored, closes


def _form_files() -> list[Path]:
    return sorted(FORMS_DIR.glob("*.form.json"))


def _refuses_unknown_keys(form: dict) -> list[str]:
    """Where an unknown key is not refused: at the top, and in a row of every table."""
    schema = form["schema"]
    leaks = []
    if UNKNOWN not in validate_data(form, {UNKNOWN: 1}):
        leaks.append("the form")
    for name, prop in (schema.get("properties") or {}).items():
        if row_schema(schema, prop) is not None:
            path = f"{name}.0.{UNKNOWN}"
            if path not in validate_data(form, {name: [{UNKNOWN: 1}]}):
                leaks.append(f"the rows of {name}")
    return leaks


@pytest.mark.parametrize("path", _form_files(), ids=lambda p: p.name)
def test_every_form_file_refuses_an_unknown_key(path: Path) -> None:
    assert _refuses_unknown_keys(json.loads(path.read_text("utf-8"))) == []


def test_every_form_of_the_demo_database_refuses_an_unknown_key(world: World) -> None:
    deploy(world)
    with world.session_factory() as session:
        stored = list(session.scalars(sa.select(FormDefinition)))
        types = set(session.scalars(sa.select(SurveyBinding.form_type)))
        surveys = [form_for(session, f"survey:{kind}", 0, "zh") for kind in sorted(types)]
    assert stored and surveys  # the product's forms and its callback surveys
    documents = [{"schema": f.schema, "ui": f.ui} for f in stored] + surveys
    assert {i: _refuses_unknown_keys(d) for i, d in enumerate(documents)} == {
        i: [] for i in range(len(documents))
    }


def test_a_schema_that_does_not_say_additional_properties_false_still_closes() -> None:
    schema = {"type": "object", "properties": {"note": {"type": "string"}}}
    assert validate_data(schema, {"note": "x", "org_unit": "O-1"}) == {
        "org_unit": ["不允许填写此项"]
    }


def test_a_schema_that_opens_itself_still_closes() -> None:
    schema = {
        "type": "object",
        "properties": {"note": {"type": "string"}},
        "additionalProperties": True,
        "patternProperties": {"^x_": {}},
    }
    assert set(validate_data(schema, {"note": "x", "x_unit": 1, "org_unit": 2})) == {
        "x_unit",
        "org_unit",
    }


def test_a_read_only_field_is_shown_but_not_accepted() -> None:
    form = {
        "schema": {"type": "object", "properties": {"order_number": {"type": "string"}}},
        "ui": {"fields": {"order_number": {"readonly": True}}},
    }
    assert validate_data(form, {"order_number": "R-OTHER-1"}, "en") == {
        "order_number": ["This field is not allowed"]
    }


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("additionalProperties", True),
        ("additionalProperties", {"type": "string"}),
        ("unevaluatedProperties", True),
        ("patternProperties", {"^x_": {"type": "string"}}),
    ],
)
def test_a_form_whose_schema_opens_it_is_refused_when_stored(keyword: str, value: object) -> None:
    document = {
        "key": "open",
        "schema": {"type": "object", "properties": {"note": {"type": "string"}}, keyword: value},
    }
    with pytest.raises(FormFileError) as refused:
        parse_document("open.form.json", document)
    assert refused.value.problems[0].element == f"$.schema.{keyword}"


def test_a_form_whose_table_rows_open_themselves_is_refused_when_stored() -> None:
    row = {"type": "object", "properties": {"code": {"type": "string"}}}
    document = {
        "key": "open_rows",
        "schema": {
            "type": "object",
            "properties": {"parts": {"type": "array", "items": {"$ref": "#/$defs/row"}}},
            "$defs": {"row": {**row, "additionalProperties": True}},
        },
    }
    with pytest.raises(FormFileError) as refused:
        parse_document("open_rows.form.json", document)
    assert re.search(r"parts\.items\.additionalProperties$", refused.value.problems[0].element)
