"""Worlds built once and copied for every test: the demo world of the page and security tests,
and the template databases behind it.

Building the demo organisation, its people, the product's processes and the sample instances
costs about a second per test (several on a loaded machine), and hundreds of tests need it. So
each world is built once per backend and test process into a template database, and every test
gets a copy of its own: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL.
A test still changes its world freely; no other test sees it.

- ``world_templates`` (session): the template databases, built on first use.
- ``world``: a copy of the demo world on SQLite and PostgreSQL, with an app on it (CSRF
  protection on, as in production) and sign-in helpers (``World``).
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from aftersales.demo.world import bare
from engine.commands import Deploy, execute
from engine.db import make_engine, make_session_factory, normalize_url
from engine.identity import SYSTEM_ACTOR, actor_for
from engine.migrate import upgrade
from engine.models import Base, HumanTask, ProcessInstance, User
from engine.state import spec_cache
from tests.environment import HAS_PG, IN_CI, PG_URL, REPO_DIR
from webapp.demo import DEMO_PASSWORD, load_demo

BACKENDS = ["sqlite", "postgresql"]
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
Build = Callable[[sessionmaker[Session]], None]


@dataclass
class World:
    """A world's app and database, and the ways tests act in it as its people."""

    app: Flask
    session_factory: sessionmaker[Session]

    def client(self, username: str | None = None, password: str = DEMO_PASSWORD) -> FlaskClient:
        """A browser of its own; signed in on the login page as ``username`` when given."""
        client = self.app.test_client()
        if username is not None:
            response = login(client, username, password)
            assert response.status_code == 302, response.get_data(as_text=True)
        return client

    def run(self, command: object, as_user: str) -> object:
        with self.session_factory() as session:
            user = session.scalar(sa.select(User).where(User.username == as_user))
            return execute(session, command, actor_for(user))

    def task(self, business_key: str, name: str) -> HumanTask:
        """The task ``name`` of the demo instance ``business_key`` (open before closed)."""
        with self.session_factory() as session:
            task = session.scalar(
                sa.select(HumanTask)
                .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                .where(ProcessInstance.business_key == business_key, HumanTask.name == name)
                .order_by(HumanTask.status.desc())
            )
            assert task is not None, f"no task {name} in {business_key}"
            session.expunge(task)
            return task

    def get(self, model: type, key: object) -> object:
        with self.session_factory() as session:
            row = session.get(model, key)
            if row is not None:
                session.expunge(row)
            return row

    def user(self, username: str) -> User | None:
        with self.session_factory() as session:
            user = session.scalar(sa.select(User).where(User.username == username))
            if user is not None:
                session.expunge(user)
            return user


def csrf(client: FlaskClient, path: str = "/login") -> str:
    """The csrf_token a page's forms carry, as a browser would read it."""
    match = TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"{path} carries no csrf_token"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = DEMO_PASSWORD, **extra: str):  # noqa: ANN201
    token = csrf(client)
    data = {"username": username, "password": password, "csrf_token": token, **extra}
    return client.post("/login", data=data)


def product_files() -> list[tuple[str, bytes]]:
    """The product's processes, decisions and forms, as an installation deploys them."""
    paths = [
        *sorted((REPO_DIR / "bpmn").glob("*.bpmn")),
        *sorted((REPO_DIR / "bpmn").glob("*.dmn")),
        *sorted((REPO_DIR / "forms").glob("*.form.json")),
        *sorted((REPO_DIR / "bpmn").glob("*.service.json")),
    ]
    return [(str(p), p.read_bytes()) for p in paths]


def build_demo(factory: sessionmaker[Session]) -> None:
    """The demo organisation, people, processes and sample instances (``csm demo`` without
    customers and orders), then the product's files deployed as an installation does."""
    with factory() as session:
        for _line in load_demo(session, bare()):
            pass
        execute(session, Deploy(product_files()), SYSTEM_ACTOR)


def _admin_engine() -> sa.Engine:
    return sa.create_engine(make_url(normalize_url(PG_URL)), isolation_level="AUTOCOMMIT")


def require_backend(backend: str) -> None:
    """Skip (fail in CI) a PostgreSQL test when DATABASE_URL names no PostgreSQL database."""
    if backend == "postgresql" and not HAS_PG:
        if IN_CI:
            pytest.fail("CI needs DATABASE_URL pointing at PostgreSQL")
        pytest.skip("DATABASE_URL does not name a PostgreSQL database")


class _Snapshot:
    """A PostgreSQL database of one test process holding one world, and a copy of its rows in
    schema ``snapshot``. Before each test the rows are put back in place (all tables emptied,
    the snapshot's rows inserted, the sequences set as they were): under 0.1 s, where creating
    a database from a template and dropping it per test costs seconds (a dropped database
    forces a checkpoint of the whole server)."""

    SCHEMA = "snapshot"

    def __init__(self, url: str) -> None:
        self.url = url
        self.tables = [t.name for t in Base.metadata.sorted_tables]
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.SCHEMA}"'))
            for table in self.tables:
                conn.execute(
                    sa.text(f'CREATE TABLE "{self.SCHEMA}"."{table}" AS TABLE public."{table}"')
                )
            self.filled = [
                t
                for t in self.tables
                if conn.scalar(sa.text(f'SELECT EXISTS (SELECT FROM public."{t}")'))
            ]
            self.sequences = conn.execute(
                sa.text(
                    "SELECT sequencename, start_value, last_value FROM pg_sequences"
                    " WHERE schemaname = 'public'"
                )
            ).all()
        engine.dispose()

    def restore(self) -> str:
        """The database as the world's build left it; no connection of a test stays open."""
        engine = make_engine(self.url)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))  # no FK checks
            for table in self.tables:  # DELETE: TRUNCATE makes new files, ten times slower here
                conn.execute(sa.text(f'DELETE FROM public."{table}"'))
            for table in self.filled:
                conn.execute(
                    sa.text(f'INSERT INTO public."{table}" SELECT * FROM "{self.SCHEMA}"."{table}"')
                )
            for name, start, last in self.sequences:
                value = {"name": f'public."{name}"', "value": last or start, "is": last is not None}
                conn.execute(sa.text("SELECT setval(CAST(:name AS regclass), :value, :is)"), value)
        engine.dispose()
        return self.url


class Templates:
    """Built worlds by backend and world name, each built on first use: a template file on
    SQLite, a snapshot database (``_Snapshot``) on PostgreSQL."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite: dict[str, str] = {}
        self.postgresql: dict[str, _Snapshot] = {}

    def _build(self, backend: str, name: str, build: Build) -> str:
        spec_cache.clear()
        if backend == "sqlite":
            url = f"sqlite:///{self.folder / f'{name}.sqlite'}"
            engine = make_engine(url)
            Base.metadata.create_all(engine)
            engine.dispose()
        else:
            database = f"csm_world_{uuid.uuid4().hex[:10]}"
            with _admin_engine().connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
            url = make_url(normalize_url(PG_URL)).set(database=database)
            url = url.render_as_string(hide_password=False)
            upgrade(url)
        engine = make_engine(url)
        build(make_session_factory(engine))
        engine.dispose()
        return url

    def fresh(self, backend: str, name: str, build: Build, folder: Path) -> str:
        """The URL of a database holding world ``name`` as built, for one test to change."""
        if backend == "sqlite":
            if name not in self.sqlite:
                self.sqlite[name] = self._build(backend, name, build)
            copy = folder / f"{name}.sqlite"
            shutil.copyfile(make_url(self.sqlite[name]).database, copy)
            url = f"sqlite:///{copy}"
        elif name not in self.postgresql:
            self.postgresql[name] = _Snapshot(self._build(backend, name, build))
            url = self.postgresql[name].url
        else:
            url = self.postgresql[name].restore()
        spec_cache.clear()  # definition ids repeat in every copy, with what each test deploys
        return url

    def drop(self) -> None:
        if self.postgresql:
            with _admin_engine().connect() as conn:
                for snapshot in self.postgresql.values():
                    database = make_url(snapshot.url).database
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def world_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    templates = Templates(tmp_path_factory.mktemp("worlds"))
    yield templates
    templates.drop()


def world_app(url: str) -> Flask:
    """The app of a world's database, configured as the page tests expect it."""
    from webapp import create_app

    return create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": True,  # as in production
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "SECRET_KEY": "test",
            "EMBEDDED_TIMERS": False,
            # sign-in counters of this app only, also when they live in a shared Redis
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    )


@contextmanager
def copied_world(
    templates: Templates, backend: str, folder: Path, name: str = "demo", build: Build = build_demo
) -> Iterator[World]:
    """A copy of world ``name`` with an app on it, for one test."""
    require_backend(backend)
    url = templates.fresh(backend, name, build, folder)
    engine = make_engine(url)
    app = world_app(url)
    try:
        yield World(app, make_session_factory(engine))
    finally:
        engine.dispose()
        with app.app_context():
            from webapp.extensions import db

            db.engine.dispose()


@pytest.fixture(params=BACKENDS)
def world(
    request: pytest.FixtureRequest, world_templates: Templates, tmp_path: Path
) -> Iterator[World]:
    """The demo world on SQLite and PostgreSQL, a copy of its own for each test."""
    with copied_world(world_templates, request.param, tmp_path) as built:
        yield built
