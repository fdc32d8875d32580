"""One rule decides what a user sees: ``engine.scope``. Its SQL clause and its Python
predicate agree on every path (both databases), and no other module compares organisation
paths itself, so a new page, query or command cannot bring its own rule."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine import scope
from engine.identity import Actor
from engine.models import OrgUnit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("engine", "aftersales", "webapp", "forms", "worker")
RULE_MODULE = ROOT / "engine" / "scope.py"
HOW_TO_FIX = "decide scope with engine.scope (visible/within in SQL, sees/path_in for a loaded row)"

# (path, kind) of units; "/1/2/" and "/1/20/" share a prefix but not a subtree
UNITS = [
    ("/1/", "hq"),
    ("/1/2/", "center"),
    ("/1/2/3/", "outlet"),
    ("/1/2/30/", "outlet"),
    ("/1/20/", "center"),
    ("/1/20/4/", "outlet"),
    ("/1/5/", "department"),
    ("/10/", "center"),
]
SCOPES = [None, "/1/", "/1/2/", "/1/2/3/", "/1/20/", "/10/"]
# what names an organisation path: a unit's ``.path``, an ``org_path``, a scope
PATHLIKE = re.compile(r"\b(org_path|unit_path|outlet_path|center_path|scope)\b|\.path\b")
SCOPE_NAMES = {"within", "visible", "sees", "path_in", "path_within", "scope_range", "seen_by"}


def _sources() -> list[Path]:
    return [
        p
        for package in PACKAGES
        for p in sorted((ROOT / package).rglob("*.py"))
        if p != RULE_MODULE and "static" not in p.parts
    ]


def _pathlike(node: ast.AST) -> bool:
    text = ast.unparse(node)
    return bool(PATHLIKE.search(text.replace("request.path", "")))


def _own_rules(path: Path) -> list[str]:
    """What in one module decides scope by itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "startswith"
            and (_pathlike(node.func.value) or any(_pathlike(a) for a in node.args))
        ):
            found.append(f"{where}: prefix test {ast.unparse(node)}")
        if isinstance(node, ast.Compare):
            ordering = [o for o in node.ops if isinstance(o, ast.Lt | ast.LtE | ast.Gt | ast.GtE)]
            operands = [node.left, *node.comparators]
            if ordering and any(_pathlike(o) for o in operands):
                found.append(f"{where}: range comparison {ast.unparse(node)}")
            if any("ServiceOrder.org_path" in ast.unparse(o) for o in operands):
                found.append(f"{where}: an order's own path decides {ast.unparse(node)}")
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func).rsplit(".", 1)[-1]
            if name in SCOPE_NAMES and any(
                "ServiceOrder.org_path" in ast.unparse(a) or "order.org_path" in ast.unparse(a)
                for a in node.args
            ):
                found.append(f"{where}: scope of an order's own path {ast.unparse(node)}")
        if isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            group_inbox = path == ROOT / "engine" / "queries.py" and name == "RANGE_SQL"
            if name in {"path_within", "scope_range", "RANGE_SQL"} and not group_inbox:
                found.append(f"{where}: the rule's internals {name}")
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.search(r"org_path\s*(>=|<)", node.value)
        ):
            found.append(f"{where}: a range in SQL text {node.value!r}")
        if isinstance(node, ast.FunctionDef) and node.name in SCOPE_NAMES:
            found.append(f"{where}: a function of its own named {node.name}")
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("org"):
            names = {a.name for a in node.names} & (SCOPE_NAMES | {"unit_scope"})
            if names:
                found.append(f"{where}: imports {sorted(names)} from the org module")
    return found


def test_no_module_decides_scope_outside_the_scope_module() -> None:
    found = [problem for path in _sources() for problem in _own_rules(path)]
    # the actor's method is the rule's predicate, by delegation (checked below)
    found = [f for f in found if not f.startswith("engine/identity.py") or " sees" not in f]
    assert not found, HOW_TO_FIX + ":\n" + "\n".join(found)


def test_no_template_decides_scope_by_an_orders_own_path() -> None:
    """An order's unit is its process instance's; templates never compare or read paths of
    their own (``outlet_at`` and the views decide)."""
    found = []
    for path in sorted((ROOT / "webapp" / "templates").rglob("*.html")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\border\.org_path\b|(org_path|\.path)\s*\.startswith\(", line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, HOW_TO_FIX + ":\n" + "\n".join(found)


def test_the_checker_catches_a_page_bringing_its_own_rule(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text(
        "def visible(task, user):\n"
        "    return task.org_path.startswith(user.unit.path)\n"
        "rows = query.where(ServiceOrder.org_path >= low)\n"
        "sql = 'SELECT * FROM t WHERE org_path >= :low'\n"
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        problems = _own_rules(page)
    finally:
        ROOT = saved
    kinds = {p.split(": ", 1)[1].split(" ", 1)[0] for p in problems}
    assert {"prefix", "range", "a", "an"} <= kinds, problems


def test_the_actors_predicate_is_the_rules() -> None:
    source = inspect.getsource(Actor.sees)
    assert source.strip().endswith("return scope.sees(self, path)")


@pytest.fixture
def units(session):  # noqa: ANN001, ANN201
    for n, (path, kind) in enumerate(UNITS):
        session.add(OrgUnit(code=f"U{n}", name=f"unit {n}", kind=kind, path=path))
    session.commit()
    return session


@pytest.mark.parametrize("limit", SCOPES)
def test_the_sql_clause_and_the_python_predicate_agree(units, limit) -> None:  # noqa: ANN001
    in_sql = set(units.scalars(sa.select(OrgUnit.path).where(scope.within(OrgUnit.path, limit))))
    in_python = {path for path, _ in UNITS if scope.path_in(path, limit)}
    assert in_sql == in_python


@pytest.mark.parametrize("path", [p for p, _ in UNITS])
def test_who_sees_a_path_in_sql_is_who_sees_it_in_python(units, path) -> None:  # noqa: ANN001
    seers = units.scalars(
        sa.select(OrgUnit.path).where(
            scope.seen_by(path, unit_path=OrgUnit.path, unit_kind=OrgUnit.kind, is_admin=sa.false())
        )
    )
    expected = {
        unit
        for unit, kind in UNITS
        if scope.path_in(path, scope.unit_scope(OrgUnit(kind=kind, path=unit)))
    }
    assert set(seers) == expected


def test_an_administrator_and_hq_see_everything_and_a_unit_its_subtree() -> None:
    assert scope.sees(Actor("admin", is_admin=True, scope="/1/2/"), "/10/")
    assert scope.sees(Actor("agent"), "/10/")
    outlet = Actor("outlet", scope="/1/2/3/")
    assert scope.sees(outlet, "/1/2/3/") and not scope.sees(outlet, "/1/2/30/")
    assert not scope.sees(outlet, "") and not scope.sees(outlet, None)


def test_a_person_of_no_unit_sees_nothing() -> None:
    """A user whose unit is gone (or was never set by hand) is not everyone's reader."""
    nobody = Actor("ghost", scope=scope.unit_scope(None))
    assert not any(scope.sees(nobody, path) for path, _ in UNITS)
    assert not scope.sees(nobody, "")
