"""Fixtures: a fresh database per test, on SQLite and (when DATABASE_URL names one) PostgreSQL.

Tests that take ``session_factory`` (directly or through ``engine_env``/``api``) run once per
backend. PostgreSQL gets one database per test run, built by the real migrations, and is
truncated before each test. In CI (``CI`` set) a skipped test fails the run, so integration
tests cannot silently stop running.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import aftersales
from engine.commands import Deploy, execute
from engine.db import make_engine, make_session_factory, normalize_url
from engine.identity import SYSTEM_ACTOR, Actor, actor_for, issue_token, upsert_user
from engine.migrate import upgrade
from engine.models import Base
from engine.services import registry
from engine.state import spec_cache
from forms import models as _form_models  # noqa: F401  (tables join Base.metadata)
from forms.binding import install as install_forms
from tests.environment import BPMN_DIR, HAS_PG, IN_CI, PG_URL, REPO_DIR
from tests.worlds import world_templates  # noqa: F401  (the fixture: worlds built once)
from webapp import models as _web_models  # noqa: F401


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if IN_CI and skipped:
        reporter.write_line(f"CI: {skipped} test(s) skipped; a skipped test fails CI", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own on the PostgreSQL server that DATABASE_URL names."""
    if not HAS_PG:
        if IN_CI:
            pytest.fail("CI needs DATABASE_URL pointing at PostgreSQL")
        pytest.skip("DATABASE_URL does not name a PostgreSQL database")
    base = make_url(normalize_url(PG_URL))
    name = f"csm_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


install_forms()
aftersales.install()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    spec_cache.clear()  # definition ids restart with every fresh database
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url
        return
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield url


@pytest.fixture
def session_factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@dataclass
class EngineEnv:
    """A database with the usual test users; runs commands the way the API does."""

    session_factory: sessionmaker[Session]
    actors: dict[str, Actor] = field(default_factory=dict)

    def run(self, command: object, as_user: str = "admin") -> object:
        with self.session_factory() as session:
            return execute(session, command, self.actors[as_user])

    def deploy(self, *names: str) -> list:
        files = [(n, (BPMN_DIR / n).read_bytes()) for n in names]
        with self.session_factory() as session:
            return execute(session, Deploy(files), SYSTEM_ACTOR)


USERS = {
    "admin": ([], True),
    "designer": ([], False),
    "agent": (["agents"], False),
    "agent2": (["agents"], False),
    "outlet": (["outlets"], False),
    "manager": (["managers", "agents"], False),
    "nobody": ([], False),
}


@pytest.fixture
def engine_env(session_factory: sessionmaker[Session]) -> EngineEnv:
    env = EngineEnv(session_factory)
    with session_factory() as session:
        for name, (groups, admin) in USERS.items():
            roles = {
                "designer": ["process_designer"],
                "manager": ["manager"],
                "agent": ["agent"],  # the call center registers callers
                "agent2": ["agent"],
            }.get(name, [])
            user = upsert_user(session, username=name, groups=groups, is_admin=admin, roles=roles)
            session.flush()
            env.actors[name] = actor_for(user)
        session.commit()
    return env


@dataclass
class Api:
    client: object
    tokens: dict[str, str]
    env: EngineEnv

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str = "admin", **kwargs: object):  # noqa: ANN201
        return self.client.get(f"/api/v1{path}", headers=self.headers(user), **kwargs)

    def post(self, path: str, user: str = "admin", **kwargs: object):  # noqa: ANN201
        return self.client.post(f"/api/v1{path}", headers=self.headers(user), **kwargs)

    def deploy_paths(self, *paths: str, user: str = "admin"):  # noqa: ANN201
        """Deploy the product's own files, named relative to the repository root."""
        files = [((REPO_DIR / p).open("rb"), Path(p).name) for p in paths]
        response = self.post(
            "/deployments", user, data={"files": files}, content_type="multipart/form-data"
        )
        assert response.status_code == 201, response.get_json()
        return response

    def deploy(self, *names: str, user: str = "admin"):  # noqa: ANN201
        files = [((BPMN_DIR / n).open("rb"), n) for n in names]
        return self.post(
            "/deployments", user, data={"files": files}, content_type="multipart/form-data"
        )

    def start(self, key: str, user: str = "admin", **body: object) -> dict:
        response = self.post("/process-instances", user, json={"process_key": key, **body})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def open_task(self, instance_id: int, name: str, user: str = "admin") -> dict:
        body = self.get(f"/process-instances/{instance_id}", user).get_json()
        matches = [t for t in body["tasks"] if t["name"] == name]
        assert matches, f"no open task {name} in {body['tasks']} ({body['status']})"
        return matches[0]


@pytest.fixture
def app(database_url: str, tmp_path: Path):  # noqa: ANN201
    from webapp import create_app

    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "SECRET_KEY": "test",
            "EMBEDDED_TIMERS": False,
        }
    )


@pytest.fixture
def api(app, engine_env: EngineEnv) -> Api:  # noqa: ANN001
    tokens = {}
    with engine_env.session_factory() as session:
        for name in USERS:
            user = upsert_user(session, username=name)
            tokens[name] = issue_token(session, user, "test")
        session.commit()
    return Api(app.test_client(), tokens, engine_env)


@pytest.fixture
def operations() -> Iterator[object]:
    """The service-task registry; operations a test registers are removed afterwards."""
    before = set(registry.names())
    yield registry
    for name in set(registry.names()) - before:
        registry.unregister(name)
