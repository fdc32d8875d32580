"""The security tests' world: the demo organisation, people and the product's processes,
on SQLite and PostgreSQL, as ``tests.ui.pages.world`` builds it, but built once per backend
and test process and then copied for each test (a file copy on SQLite, ``CREATE DATABASE
... TEMPLATE`` on PostgreSQL), so each test still starts from a fresh database of its own.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from aftersales.demo_world import bare
from engine.db import make_engine, make_session_factory, normalize_url
from engine.migrate import upgrade
from engine.models import Base
from engine.state import spec_cache
from tests.conftest import HAS_PG, IN_CI, PG_URL
from tests.ui.pages import World
from webapp.demo import load_demo

from .scope_world import deploy


def _fill(url: str) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        for _line in load_demo(session, bare()):
            pass
    app_less = World(app=None, session_factory=factory)  # type: ignore[arg-type]
    deploy(app_less)
    engine.dispose()


def _admin_engine() -> sa.Engine:
    return sa.create_engine(make_url(normalize_url(PG_URL)), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """The URL of the filled template database of a backend, built on first use."""
    built: dict[str, str] = {}

    def template(backend: str) -> str:
        if backend in built:
            return built[backend]
        spec_cache.clear()
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('world') / 'template.sqlite'}"
            engine = make_engine(url)
            Base.metadata.create_all(engine)
            engine.dispose()
        else:
            name = f"csm_world_{uuid.uuid4().hex[:10]}"
            with _admin_engine().connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = make_url(normalize_url(PG_URL)).set(database=name)
            url = url.render_as_string(hide_password=False)
            upgrade(url)
        _fill(url)
        built[backend] = url
        return url

    yield template
    if "postgresql" in built:
        name = make_url(built["postgresql"]).database
        with _admin_engine().connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, world_template: Callable[[str], str], tmp_path: Path
) -> Iterator[World]:
    from webapp import create_app

    backend = request.param
    if backend == "postgresql" and not HAS_PG:
        if IN_CI:
            pytest.fail("CI needs DATABASE_URL pointing at PostgreSQL")
        pytest.skip("DATABASE_URL does not name a PostgreSQL database")
    template = world_template(backend)
    spec_cache.clear()  # each copy is a database of its own
    if backend == "sqlite":
        copy = tmp_path / "world.sqlite"
        shutil.copyfile(make_url(template).database, copy)
        url, drop = f"sqlite:///{copy}", None
    else:
        name = f"csm_test_{uuid.uuid4().hex[:10]}"
        with _admin_engine().connect() as conn:
            conn.execute(
                sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"')
            )
        url = make_url(template).set(database=name).render_as_string(hide_password=False)
        drop = name
    engine = make_engine(url)
    app = create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": True,  # as in production
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "SECRET_KEY": "test",
            "EMBEDDED_TIMERS": False,
        }
    )
    yield World(app, make_session_factory(engine))
    engine.dispose()
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()
    if drop is not None:
        with _admin_engine().connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)'))
