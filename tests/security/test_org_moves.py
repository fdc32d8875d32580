"""Moving an organisation unit changes who sees its work, so it is the audited engine
command ``MoveOrgUnit``: administrators only, the unit, its subtree and every instance and
task path below it in one transaction, an audit row with the old and new parent and path.
``csm org add --parent``, ``csm org import`` and the admin org page all run it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from engine.commands import MoveOrgUnit, SaveOrgUnit, StartInstance
from engine.errors import Forbidden, InvalidInput
from engine.models import AuditEntry, HumanTask, OrgUnit, ProcessInstance
from engine.org import find_unit, upsert_unit
from tests.ui.pages import World, post
from webapp.cli import cli as main


@pytest.fixture
def tree(engine_env):  # noqa: ANN001, ANN201
    """Two centers, an outlet under the first, an instance with open tasks at the outlet."""
    units = (("C1", "center", None), ("C2", "center", None), ("O1", "outlet", "C1"))
    for code, kind, parent in units:
        engine_env.run(SaveOrgUnit(code, code, kind, parent))
    engine_env.deploy("parallel.bpmn")
    started = engine_env.run(StartInstance("parallel", org_unit="O1"))
    engine_env.instance_id = started.id
    return engine_env


def _paths(env) -> tuple[str, str, set[str]]:  # noqa: ANN001
    """The outlet's path, its instance's, and its open tasks'."""
    with env.session_factory() as session:
        unit = find_unit(session, "O1")
        instance = session.get(ProcessInstance, env.instance_id)
        tasks = set(
            session.scalars(
                sa.select(HumanTask.org_path).where(HumanTask.instance_id == env.instance_id)
            )
        )
        return unit.path, instance.org_path, tasks


def _moves(env) -> list[dict]:  # noqa: ANN001
    with env.session_factory() as session:
        return [
            e.details
            for e in session.scalars(
                sa.select(AuditEntry).where(AuditEntry.command == "move_org_unit")
            )
        ]


def test_moving_a_unit_moves_its_instances_and_tasks(tree) -> None:  # noqa: ANN001
    tree.run(MoveOrgUnit("O1", "C2"))
    unit, instance, tasks = _paths(tree)
    with tree.session_factory() as session:
        assert unit.startswith(find_unit(session, "C2").path)
    assert instance == unit and tasks == {unit}


def test_a_move_is_audited_with_the_old_and_new_parent_and_path(tree) -> None:  # noqa: ANN001
    before, _, _ = _paths(tree)
    tree.run(MoveOrgUnit("O1", "C2"))
    after, _, _ = _paths(tree)
    [move] = _moves(tree)
    assert (move["unit"], move["old_parent"], move["new_parent"]) == ("O1", "C1", "C2")
    assert (move["old_path"], move["new_path"]) == (before, after)
    assert move["moved"]["process_instance"] == 1


def test_a_non_administrator_may_not_move_a_unit(tree) -> None:  # noqa: ANN001
    before = _paths(tree)
    for user in ("manager", "agent"):
        with pytest.raises(Forbidden):
            tree.run(MoveOrgUnit("O1", "C2"), as_user=user)
    assert _paths(tree) == before and _moves(tree) == []


def test_a_unit_cannot_move_below_itself_and_nothing_moves(tree) -> None:  # noqa: ANN001
    tree.run(SaveOrgUnit("D1", "服务部", "department", "C1"))
    before = _paths(tree)
    with pytest.raises(InvalidInput, match="lies below"):
        tree.run(MoveOrgUnit("C1", "D1"))
    assert _paths(tree) == before and _moves(tree) == []


def test_saving_a_unit_without_a_move_audits_no_move(tree) -> None:  # noqa: ANN001
    tree.run(SaveOrgUnit("O1", "浦东网点", "outlet", "C1"))
    assert _moves(tree) == []
    with tree.session_factory() as session:
        assert find_unit(session, "O1").name == "浦东网点"


def test_the_plain_upsert_refuses_to_move_a_unit(tree) -> None:  # noqa: ANN001
    with tree.session_factory() as session, pytest.raises(InvalidInput, match="MoveOrgUnit"):
        upsert_unit(session, "O1", name="O1", kind="outlet", parent_code="C2")


@pytest.fixture
def csm(tree, database_url, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_csm_org_add_with_a_new_parent_is_an_audited_move(csm, tree) -> None:  # noqa: ANN001
    result = csm("org", "add", "O1", "--name", "O1", "--kind", "outlet", "--parent", "C2")
    assert result.exit_code == 0, result.output
    [move] = _moves(tree)
    assert (move["old_parent"], move["new_parent"]) == ("C1", "C2")
    assert _paths(tree)[1] == _paths(tree)[0]


def test_csm_org_import_moves_are_audited(csm, tree, tmp_path) -> None:  # noqa: ANN001
    units = tmp_path / "units.csv"
    units.write_text("code,name,kind,parent\nC3,华北中心,center,\nO1,O1,outlet,C3\n")
    assert csm("org", "import", str(units)).output.strip() == "2 units saved"
    assert [m["new_parent"] for m in _moves(tree)] == ["C3"]


def test_a_bad_row_in_an_org_import_moves_nothing(csm, tree, tmp_path) -> None:  # noqa: ANN001
    before = _paths(tree)
    units = tmp_path / "units.csv"
    units.write_text("code,name,kind,parent\nO1,O1,outlet,C2\nO9,x,outlet,NOWHERE\n")
    result = csm("org", "import", str(units))
    assert result.exit_code == 1 and "line 3" in result.output
    assert _paths(tree) == before and _moves(tree) == []


def test_the_admin_org_page_moves_a_unit_with_an_audit_row(world: World) -> None:
    response = post(
        world.client("admin"),
        "/admin/org",
        {"code": "O-SH-PD", "name": "上海浦东网点", "kind": "outlet", "parent": "C-SOUTH"},
    )
    assert response.status_code == 302
    with world.session_factory() as session:
        move = session.scalar(sa.select(AuditEntry).where(AuditEntry.command == "move_org_unit"))
        assert (move.actor, move.details["new_parent"]) == ("admin", "C-SOUTH")


def test_the_admin_org_page_is_refused_to_a_manager(world: World) -> None:
    with world.session_factory() as session:
        before = session.scalar(sa.select(OrgUnit.path).where(OrgUnit.code == "O-SH-PD"))
    form = {"code": "O-SH-PD", "name": "上海浦东网点", "kind": "outlet", "parent": "C-SOUTH"}
    assert post(world.client("manager"), "/admin/org", form).status_code == 403
    with world.session_factory() as session:
        after = session.scalar(sa.select(OrgUnit.path).where(OrgUnit.code == "O-SH-PD"))
    assert after == before
