"""The instance list: filters, counts per status, pagination and the Excel export."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from openpyxl import load_workbook

from engine.commands import Suspend
from engine.models import HumanTask, ProcessInstance, utcnow

from . import pages
from .pages import World, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL


def listed(page: str) -> list[str]:
    return re.findall(r'data-instance="(\d+)"', page)


def counts(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-count="(\w+)">(\d+)<', page))


def ids(world: World, *keys: str) -> list[str]:
    with world.session_factory() as session:
        return [
            str(
                session.scalar(
                    sa.select(ProcessInstance.id).where(ProcessInstance.business_key == k)
                )
            )
            for k in keys
        ]


def test_the_list_counts_instances_per_status(world: World) -> None:
    demo = ids(world, "DEMO-0003")[0]
    world.run(Suspend(int(demo)), "admin")
    found = counts(text(world.client("manager").get("/instances")))
    assert found["all"] == "3" and found["suspended"] == "1" and found["running"] == "2"


def test_a_status_filter_keeps_the_other_counts(world: World) -> None:
    demo = ids(world, "DEMO-0003")[0]
    world.run(Suspend(int(demo)), "admin")
    page = text(world.client("manager").get("/instances?status=suspended"))
    assert listed(page) == [demo]
    assert counts(page)["running"] == "2"


def test_the_unit_filter_takes_the_units_subtree(world: World) -> None:
    page = text(world.client("manager").get("/instances?unit=C-SOUTH"))
    assert listed(page) == ids(world, "DEMO-0003")


def test_a_unit_outside_the_scope_is_refused(world: World) -> None:
    response = world.client("outlet").get("/instances?unit=O-GZ-TH")
    assert response.status_code == 422


def test_the_started_range_is_in_days_of_the_users_time_zone(world: World) -> None:
    client = world.client("manager")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert len(listed(text(client.get(f"/instances?started_from={today}")))) == 3
    tomorrow = today + timedelta(days=1)
    assert listed(text(client.get(f"/instances?started_from={tomorrow}"))) == []


def test_a_malformed_date_or_version_answers_422(world: World) -> None:
    client = world.client("manager")
    assert client.get("/instances?started_from=23.11.2026").status_code == 422
    assert client.get("/instances?version=abc").status_code == 422


def test_process_and_version_filter_together(world: World) -> None:
    client = world.client("manager")
    assert (
        len(listed(text(client.get("/instances?process_key=demo_service_request&version=1")))) == 3
    )
    assert listed(text(client.get("/instances?process_key=demo_service_request&version=2"))) == []


def test_the_overdue_filter_finds_instances_with_a_late_task(world: World) -> None:
    client = world.client("manager")
    assert listed(text(client.get("/instances?overdue=1"))) == []
    late = world.task("DEMO-0003", "visit")
    with world.session_factory() as session:
        session.get(HumanTask, late.id).due_at = utcnow() - timedelta(hours=1)
        session.commit()
    assert listed(text(client.get("/instances?overdue=1"))) == ids(world, "DEMO-0003")


def test_the_incident_filter_finds_nothing_when_all_is_well(world: World) -> None:
    assert listed(text(world.client("manager").get("/instances?incident=1"))) == []


def test_the_export_is_an_excel_sheet_of_the_filtered_rows(world: World) -> None:
    response = world.client("manager").get("/instances.xlsx?unit=C-EAST")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("ID", "业务单号", "流程")
    assert [r[1] for r in rows[1:]] == ["DEMO-0001"]  # DEMO-0002 stays at the call center


def test_an_outlet_exports_only_its_own_instances(world: World) -> None:
    response = world.client("outlet2").get("/instances.xlsx")
    sheet = load_workbook(BytesIO(response.data)).active
    assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["DEMO-0003"]


def test_the_export_keeps_odd_text_as_text(world: World) -> None:
    with world.session_factory() as session:
        demo = session.scalar(
            sa.select(ProcessInstance).where(ProcessInstance.business_key == "DEMO-0003")
        )
        demo.business_key = '=HYPERLINK("x")\x01'
        session.commit()
    response = world.client("manager").get("/instances.xlsx")
    assert response.status_code == 200
    keys = [r[1] for r in load_workbook(BytesIO(response.data)).active.iter_rows(values_only=True)]
    assert '\'=HYPERLINK("x")' in keys


def test_unknown_or_odd_arguments_do_no_harm(world: World) -> None:
    client = world.client("manager")
    assert client.get("/instances?endpoint=x&_external=1").status_code == 200
    assert client.get("/instances?version=%C2%B2").status_code == 422  # a superscript two
