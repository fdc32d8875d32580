"""The steps an instance passed whose history was pruned, for drawing its path

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 17:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance") as batch:
        batch.add_column(
            sa.Column("passed_activities", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("process_instance") as batch:
        batch.drop_column("passed_activities")
