"""Running the Alembic migrations from code (``csm db upgrade``, tests)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config

# the repository's migrations/ folder, installed as the package csm_migrations (pyproject.toml)
MIGRATIONS = Path(str(resources.files("csm_migrations")))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    """Autogenerate a migration from the models (a developer's tool)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
