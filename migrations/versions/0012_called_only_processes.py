"""Processes only other processes call: the ``startable`` flag of a definition

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_definition") as batch:
        batch.add_column(
            sa.Column("startable", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("process_definition") as batch:
        batch.drop_column("startable")
