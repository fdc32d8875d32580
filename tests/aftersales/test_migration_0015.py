"""Migration 0015 rewrites stored customer phones into the canonical form lookups compare with,
so a landline stored with its dash before is still found, and gives users a time zone column
(empty: the default zone)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from engine.migrate import upgrade

NOW = datetime(2026, 12, 1, 12, 0)
STORED = {
    1: "021-64881234",  # valid before 0015, with its dash
    2: "13800138000",  # already canonical
    3: "+86 139 0000 1111",
    4: "0571-8765 4321",
    5: "12345",  # no number this rule reads: kept as it was
}


def test_stored_phones_become_canonical_and_users_get_no_zone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0013")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO app_user (id, username, display_name, is_admin, created_at,"
                    " roles, active) VALUES (1, 'agent', 'agent', 0, :now, '[]', 1)"
                ),
                {"now": NOW},
            )
            for row_id, phone in STORED.items():
                conn.execute(
                    sa.text(
                        "INSERT INTO customer (id, name, member_level, tags, note, created_at)"
                        " VALUES (:id, 'c', 'none', '[]', '', :now)"
                    ),
                    {"id": row_id, "now": NOW},
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO customer_phone (id, customer_id, phone, kind, is_primary)"
                        " VALUES (:id, :id, :phone, 'mobile', 1)"
                    ),
                    {"id": row_id, "phone": phone},
                )
        upgrade(url, "0015")
        with engine.connect() as conn:
            phones = dict(conn.execute(sa.text("SELECT id, phone FROM customer_phone")).all())
            zones = conn.execute(sa.text("SELECT time_zone FROM app_user")).scalars().all()
    finally:
        engine.dispose()
    assert phones == {
        1: "02164881234",
        2: "13800138000",
        3: "13900001111",
        4: "057187654321",
        5: "12345",
    }
    assert zones == [None]
