"""Database URLs, engines and sessions for code that runs outside the web app (CLI, worker)."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

INSTANCE_DIR = Path(os.environ.get("CSM_INSTANCE_DIR", Path.cwd() / "instance"))


def database_url() -> str:
    """``DATABASE_URL``, else a SQLite file under ``instance/``."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return normalize_url(url)
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'csm.sqlite'}"


def normalize_url(url: str) -> str:
    """Let ``postgres://`` and ``postgresql://`` URLs use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_size": 10, "max_overflow": 20, "pool_recycle": 1800}


def is_postgres(bind: Engine | Session) -> bool:
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "postgresql"


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    engine = sa.create_engine(url, **engine_options(url))
    install_sqlite_pragmas(engine)
    return engine


def install_sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys, a busy timeout, WAL with NORMAL sync, and savepoints that nest.

    WAL lets readers run beside the writer; NORMAL syncs at checkpoints rather than every
    commit, which survives a crash of the application (not of the machine) without loss.

    pysqlite emits BEGIN only before the first INSERT, UPDATE or DELETE, so a SAVEPOINT that
    comes first would itself start the transaction and its RELEASE would commit it: an engine
    step's savepoint would commit half a command. SQLAlchemy's documented workaround (its
    SQLite notes, "Serializable isolation / Savepoints / Transactional DDL") emits BEGIN for
    every transaction; that also holds a read snapshot from the first SELECT, so a command
    whose snapshot went stale before its first write fails at once with "database is locked"
    instead of waiting its turn (racing timer workers then skip timers). The same event
    mechanism is used here more narrowly: BEGIN is emitted just before a SAVEPOINT when
    pysqlite has not begun the transaction yet, and nothing else changes.
    """
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "savepoint")
    def _begin_before_savepoint(connection, _name) -> None:  # noqa: ANN001
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
