"""Schemathesis over the whole API, in-process, against a small after-sales world.

Every operation of ``/api/v1/openapi.json`` is called with generated requests, valid and
invalid (schemathesis' positive and negative modes), with an administrator's token and the
same request again with an agent's. Each answer must be no server error, a status and content
type the document declares for it, a body matching the declared schema, and cost at most
``SLOWEST_S`` of the request's own CPU time (the wall clock, which the suite's other worker
shares, at most ``WALL_LIMIT_S``). The run is derandomized, so CI sees the same requests every time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from aftersales.knowledge import service as knowledge
from engine.db import make_engine, make_session_factory
from engine.identity import actor_for, issue_token, upsert_user
from engine.models import Base
from engine.state import spec_cache
from tests.aftersales import world as small_world

MAX_EXAMPLES = 40  # per operation; the whole run stays well under two minutes on two cores
SLOWEST_S = 2.0  # of the request's own CPU time: the suite's other worker shares the cores
WALL_LIMIT_S = 10.0  # and of the wall clock, for a request that waits instead of working
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Figures:
    """What the run did, printed at the end and checked against the bound."""

    requests: int = 0
    operations: set[str] = field(default_factory=set)
    slowest: tuple[float, str] = (0.0, "")

    def record(self, label: str, seconds: float) -> None:
        self.requests += 1
        self.operations.add(label)
        self.slowest = max(self.slowest, (seconds, label))


FIGURES = Figures()


def _app(url: str):  # noqa: ANN202
    from webapp import create_app

    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "SECRET_KEY": "test",
            "EMBEDDED_TIMERS": False,
        }
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A throwaway SQLite world: processes and forms deployed, people, a customer, orders,
    an article; tokens of an administrator and an agent. Shared by the module's operations,
    which may change it as they like."""
    spec_cache.clear()
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    world = small_world.build(factory)
    for _ in range(2):
        world.open_order()
    with factory() as session:
        admin = upsert_user(session, username="admin", is_admin=True)
        session.flush()
        knowledge.save_article(
            session,
            title="空调不制冷怎么办",
            body="先检查滤网。",
            category="空调",
            models=["KFR-35GW"],
            actor=actor_for(admin),
        )
        tokens = {
            "admin": issue_token(session, admin, "fuzz"),
            "agent": issue_token(session, upsert_user(session, username="agent"), "fuzz"),
        }
        session.commit()
    yield {"app": _app(url), "tokens": tokens}
    engine.dispose()
    print(  # noqa: T201  (the figures the report quotes; shown with -s)
        f"\nschemathesis: {len(FIGURES.operations)} operations, {FIGURES.requests} requests, "
        f"slowest {FIGURES.slowest[0]:.3f} s ({FIGURES.slowest[1]})"
    )


# The document needs no database: it is built from the routes' declarations.
schema = schemathesis.openapi.from_dict(
    _app("sqlite://").test_client().get("/api/v1/openapi.json").get_json()
)
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, demo):  # noqa: ANN001
    for user in ("admin", "agent"):
        headers = {"Authorization": f"Bearer {demo['tokens'][user]}"}
        started, cpu_started = time.perf_counter(), time.thread_time()
        response = case.call(headers=headers, app=demo["app"])
        elapsed = time.perf_counter() - started
        cpu = time.thread_time() - cpu_started
        FIGURES.record(case.operation.label, cpu)
        case.validate_response(response, checks=CHECKS, headers=headers)
        label = case.operation.label
        assert cpu < SLOWEST_S, f"{label} worked {cpu:.2f} s as {user}"
        assert elapsed < WALL_LIMIT_S, f"{label} took {elapsed:.2f} s as {user}"
