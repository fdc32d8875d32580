"""The migrations build exactly the tables the models declare, so a database made by
`csm db upgrade` and one made by the tests' create_all are the same."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine.migrate import upgrade
from engine.models import Base


def _differences(url: str) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()


def test_the_migrated_sqlite_schema_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    upgrade(url)
    assert _differences(url) == []


def test_the_migrated_postgresql_schema_matches_the_models(postgres_url: str) -> None:
    from engine.db import normalize_url

    assert _differences(normalize_url(postgres_url)) == []
