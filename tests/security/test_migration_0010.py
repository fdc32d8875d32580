"""Migration 0010 keeps what users had: signed-in sessions stay signed in (their ids are
rehashed), tokens get 90 days, stored photos move into the database, attempt rows go."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.migrate import upgrade

NOW = datetime(2026, 12, 1, 12, 0)


@pytest.fixture
def migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    """A database at 0007 with a session, a token and a photo on disk, then upgraded."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0007")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO app_user (id, username, display_name, is_admin, created_at, roles,"
                " active) VALUES (1, 'agent', 'agent', 0, :now, '[]', 1)"
            ),
            {"now": NOW},
        )
        conn.execute(
            sa.text(
                "INSERT INTO login_session (id, user_id, created_at, last_seen_at, expires_at)"
                " VALUES ('the-old-secret', 1, :now, :now, :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            sa.text(
                "INSERT INTO api_token (user_id, token_hash, name, created_at)"
                " VALUES (1, 'h', 'cli', :now)"
            ),
            {"now": NOW},
        )
        for attachment_id in ("on-disk", "lost"):
            conn.execute(
                sa.text(
                    "INSERT INTO attachment (id, file_name, content_type, size, sha256,"
                    " uploaded_by, org_path, created_at) VALUES (:id, 'p.png', 'image/png', 4,"
                    " '', 'engineer', '', :now)"
                ),
                {"id": attachment_id, "now": NOW},
            )
    instance = tmp_path / "instance"
    (instance / "uploads").mkdir(parents=True)
    (instance / "uploads" / "on-disk").write_bytes(b"\x89PNG")
    monkeypatch.setenv("CSM_INSTANCE_DIR", str(instance))
    upgrade(url)
    yield engine
    engine.dispose()


def test_a_signed_in_session_keeps_working_under_its_hashed_id(migrated: sa.Engine) -> None:
    with migrated.connect() as conn:
        ids = conn.execute(sa.text("SELECT id FROM login_session")).scalars().all()
    assert ids == [hashlib.sha256(b"the-old-secret").hexdigest()]


def test_existing_tokens_get_ninety_days(migrated: sa.Engine) -> None:
    with migrated.connect() as conn:
        expires = conn.execute(sa.text("SELECT expires_at FROM api_token")).scalar()
    left = datetime.fromisoformat(str(expires)) - datetime.now().replace(microsecond=0)
    assert timedelta(days=89) < left < timedelta(days=91)


def test_photos_on_disk_move_into_the_database(migrated: sa.Engine) -> None:
    with migrated.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT id, content FROM attachment")).all())
    assert rows == {"on-disk": b"\x89PNG", "lost": None}


def test_the_sign_in_attempt_table_is_gone(migrated: sa.Engine) -> None:
    assert "login_attempt" not in sa.inspect(migrated).get_table_names()
