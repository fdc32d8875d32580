"""Every route is declared in ``webapp/policy.py``, and every role gets what the table says.

One app and one small demo database serve the whole module. Each demo role (and an anonymous
visitor) is tried against every rule of ``app.url_map`` with each method it has, with path
arguments naming real objects of the demo world. A refusal by the policy layer is recognised
by its ``refused`` signal: a denied role must be refused there (401 or 403, or the sign-in
redirect for an anonymous page visitor); an allowed role must never be, and never gets 401.
What a view answers after the policy let the caller through (404 out of scope, 422 for an
empty form, 403 for someone else's task) is the view's business, checked elsewhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from aftersales.customers.models import Customer
from aftersales.demo.world import Size
from aftersales.orders.models import ServiceOrder
from engine.db import make_engine, make_session_factory
from engine.identity import actor_for, issue_token
from engine.models import (
    ApiToken,
    Base,
    HumanTask,
    Incident,
    MigrationBatch,
    OrgUnit,
    ProcessDefinition,
    ProcessInstance,
    User,
)
from engine.state import spec_cache
from forms.models import FormDefinition
from webapp import policy
from webapp.demo import DEMO_PASSWORD, load_demo
from webapp.models import Attachment, SavedFilter

ROLES = [
    "admin",
    "designer",
    "manager",
    "lead",
    "agent",
    "center",
    "outlet",
    "engineer",
    "complaints",
    "warehouse",
    "finance",
    "kb",
]
METHODS = ("GET", "POST", "PUT", "DELETE")
ANONYMOUS = "anonymous"


@dataclass
class PolicyWorld:
    app: Flask
    args: dict[str, object]
    per_endpoint: dict[str, dict[str, object]]
    tokens: dict[str, str]
    actors: dict[str, object]
    refusals: list[str] = field(default_factory=list)


def _first(session, query):  # noqa: ANN001, ANN202
    return session.scalar(query.limit(1))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PolicyWorld]:
    spec_cache.clear()
    url = f"sqlite:///{tmp_path_factory.mktemp('policy') / 'policy.sqlite'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        for _line in load_demo(session, Size(customers=3, orders=8, parts=0, articles=False)):
            pass
        session.commit()
        users = {u.username: u for u in session.scalars(sa.select(User))}
        tokens = {name: issue_token(session, users[name], "policy test") for name in ROLES}
        spare_token = issue_token(session, users["admin"], "revoked by the walk")
        session.add(SavedFilter(user_id=users["agent"].id, name="mine", list_name="mine"))
        outlet = _first(session, sa.select(OrgUnit).where(OrgUnit.code == "O-SH-PD"))
        session.add(
            Attachment(
                id=str(uuid.uuid4()),
                file_name="p.png",
                content_type="image/png",
                size=8,
                sha256="0" * 64,
                uploaded_by="engineer",
                org_path=outlet.path,
                content=b"\x89PNG\r\n\x1a\n",
            )
        )
        session.commit()
        task = _first(session, sa.select(HumanTask).where(HumanTask.status == "open"))
        instance = _first(session, sa.select(ProcessInstance).order_by(ProcessInstance.id))
        bpmn = _first(session, sa.select(ProcessDefinition).where(ProcessDefinition.kind == "bpmn"))
        dmn = _first(session, sa.select(ProcessDefinition).where(ProcessDefinition.kind == "dmn"))
        form = _first(session, sa.select(FormDefinition))
        customer = _first(session, sa.select(Customer))
        order = _first(session, sa.select(ServiceOrder))
        incident = _first(session, sa.select(Incident))
        spare = _first(session, sa.select(ApiToken).where(ApiToken.name == "revoked by the walk"))
        batch = MigrationBatch(
            process_key=bpmn.key,
            source_definition_id=bpmn.id,
            source_version=bpmn.version,
            target_version=bpmn.version + 1,
            created_by="manager",
            org_path=outlet.path,
            status="completed",
        )
        session.add(batch)
        session.commit()
        args = {
            "batch_id": batch.id,
            "task_id": task.id,
            "instance_id": instance.id,
            "key": bpmn.key,
            "version": bpmn.version,
            "customer_id": customer.id if customer else 1,
            "product_id": 1,
            "phone_id": 1,
            "address_id": 1,
            "import_id": 1,
            "number": order.number if order else "R000000000000",
            "attachment_id": session.scalar(sa.select(Attachment.id)),
            "article_id": 1,
            "filter_id": session.scalar(sa.select(SavedFilter.id)),
            "token_id": spare.id,
            "incident_id": incident.id if incident else 1,
            "kind": "user",
            "code": outlet.code,
            "action": "suspend",
            "filename": "css/app.css",
        }
        per_endpoint = {
            "ui.decision_editor": {"key": dmn.key},
            "ui.deploy_decision": {"key": dmn.key},
            **{
                f"ui.{name}": {"key": form.key, "version": form.version}
                for name in ("admin_forms", "admin_form_edit", "admin_form_preview")
                + ("admin_form_download", "admin_form_diff")
            },
        }
        actors = {name: actor_for(users[name]) for name in ROLES}
        assert spare_token
    app = _app(url)
    world = PolicyWorld(app, args, per_endpoint, tokens, actors)

    def record(_sender: object, endpoint: str, **_extra: object) -> None:
        world.refusals.append(endpoint)

    policy.refused.connect(record, app)
    yield world
    policy.refused.disconnect(record, app)
    engine.dispose()


def _app(url: str) -> Flask:
    from webapp import create_app

    return create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "SECRET_KEY": "test",
            "EMBEDDED_TIMERS": False,
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    )


def _rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "ui.logout", r.rule))


def _path(world: PolicyWorld, rule: Rule, method: str) -> str:
    values = {**world.args, **world.per_endpoint.get(rule.endpoint, {})}
    adapter = world.app.url_map.bind("localhost")
    return adapter.build(
        rule.endpoint, {a: values[a] for a in rule.arguments}, method=method, append_unknown=False
    )


def _client(world: PolicyWorld, role: str) -> FlaskClient:
    client = world.app.test_client()
    if role != ANONYMOUS:
        response = client.post("/login", data={"username": role, "password": DEMO_PASSWORD})
        assert response.status_code == 302, f"{role} could not sign in"
    return client


def _allowed(world: PolicyWorld, role: str, endpoint: str) -> bool:
    access = policy.ROUTES[endpoint]
    if access.policy.anonymous:
        return True
    return role != ANONYMOUS and access.policy.allows(world.actors[role])


def test_every_route_of_the_app_is_declared(world: PolicyWorld) -> None:
    undeclared = sorted(
        f"{r.endpoint} {r.rule}"
        for r in world.app.url_map.iter_rules()
        if r.endpoint not in policy.ROUTES
    )
    assert undeclared == [], "add these endpoints to webapp/policy.py ROUTES"


def test_the_table_names_no_route_the_app_does_not_have(world: PolicyWorld) -> None:
    endpoints = {r.endpoint for r in world.app.url_map.iter_rules()}
    assert sorted(set(policy.ROUTES) - endpoints) == []


def test_every_route_that_takes_an_object_applies_the_scope(world: PolicyWorld) -> None:
    objects = {
        "task_id",
        "instance_id",
        "customer_id",
        "number",
        "attachment_id",
        "incident_id",
        "batch_id",
        "import_id",
    }
    unscoped = sorted(
        r.endpoint
        for r in world.app.url_map.iter_rules()
        if objects & set(r.arguments) and not policy.ROUTES[r.endpoint].scoped
    )
    assert unscoped == []


def test_a_route_missing_from_the_table_is_refused(tmp_path: Path) -> None:
    app = _app(f"sqlite:///{tmp_path / 'bare.sqlite'}")

    @app.get("/_undeclared")
    def undeclared():  # noqa: ANN202
        return "should not be reached"

    response = app.test_client().get("/_undeclared")
    assert response.status_code == 403
    assert "should not be reached" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [*ROLES, ANONYMOUS])
def test_each_role_gets_what_the_table_says_on_every_route(world: PolicyWorld, role: str) -> None:
    client = _client(world, role)
    headers = {"Authorization": f"Bearer {world.tokens[role]}"} if role in world.tokens else {}
    wrong = []
    for rule in _rules(world.app):
        for method in [m for m in METHODS if m in rule.methods]:
            path = _path(world, rule, method)
            is_api = rule.endpoint.startswith("api.")
            world.refusals.clear()
            response = client.open(path, method=method, headers=headers if is_api else {})
            refused = rule.endpoint in world.refusals
            status = response.status_code
            to_login = status == 302 and response.headers["Location"].startswith("/login?next=")
            if _allowed(world, role, rule.endpoint):
                ok = not refused and not to_login and not (is_api and status == 401)
            elif role == ANONYMOUS:
                ok = refused and (status == 401 if is_api else to_login)
            else:
                ok = refused and status == 403
            if not ok:
                wrong.append(f"{method} {path} ({rule.endpoint}): {status}, refused={refused}")
            if rule.endpoint == "ui.logout" and role != ANONYMOUS:
                client = _client(world, role)  # the walk signed this client out
    assert wrong == []
