"""Sign-in trust: hashed session ids, expiring API tokens, no per-name attempt rows, and
uploaded photos kept in the database with the completion that brought them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 20:00:00.000000

- ``login_session.id`` becomes the SHA-256 of the secret the cookie carries; existing rows
  are rehashed, so nobody is signed out.
- ``api_token.expires_at``: existing tokens get 90 days from now.
- ``login_attempt`` goes: sign-in throttling counts attempts in Flask-Limiter's storage
  (Redis or memory), never a row per name someone typed.
- ``attachment.content`` holds the bytes, written in the transaction of the completion; the
  files stored so far under ``$CSM_INSTANCE_DIR/uploads`` (default ``./instance/uploads``)
  are read in. A file that is not found leaves the row without content (served as 404).
"""

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TOKEN_DAYS = 90


def _uploads_dir() -> Path:
    # as webapp.config.instance_dir() finds the instance folder
    return Path(os.environ.get("CSM_INSTANCE_DIR", Path.cwd() / "instance")) / "uploads"


def upgrade() -> None:
    conn = op.get_bind()
    sessions = sa.table("login_session", sa.column("id", sa.String))
    for (old,) in conn.execute(sa.select(sessions.c.id)).all():
        new = hashlib.sha256(old.encode()).hexdigest()
        conn.execute(sessions.update().where(sessions.c.id == old).values(id=new))

    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
    tokens = sa.table("api_token", sa.column("expires_at", sa.DateTime))
    expiry = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=TOKEN_DAYS)  # naive UTC
    conn.execute(tokens.update().values(expires_at=expiry))
    with op.batch_alter_table("api_token") as batch:
        batch.alter_column("expires_at", existing_type=sa.DateTime(), nullable=False)

    op.drop_table("login_attempt")

    with op.batch_alter_table("attachment") as batch:
        batch.add_column(sa.Column("content", sa.LargeBinary(), nullable=True))
    attachments = sa.table("attachment", sa.column("id", sa.String), sa.column("content"))
    folder = _uploads_dir()
    for (attachment_id,) in conn.execute(sa.select(attachments.c.id)).all():
        path = folder / attachment_id
        if path.is_file():
            conn.execute(
                attachments.update()
                .where(attachments.c.id == attachment_id)
                .values(content=path.read_bytes())
            )


def downgrade() -> None:
    with op.batch_alter_table("attachment") as batch:
        batch.drop_column("content")
    op.create_table(
        "login_attempt",
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("username"),
    )
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
    # hashed session ids cannot be turned back into secrets: everybody signs in again
    op.execute(sa.text("DELETE FROM login_session"))
