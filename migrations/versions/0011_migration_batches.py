"""Migration batches that workers carry out in the background, with their progress

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 21:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PATH = sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "migration_batch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column(
            "source_definition_id",
            sa.Integer(),
            sa.ForeignKey("process_definition.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("source_version", sa.Integer(), nullable=False),
        sa.Column("target_version", sa.Integer(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("org_path", PATH, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("migrated", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_migration_batch_status", "migration_batch", ["status"])
    op.create_index("ix_migration_batch_org_path", "migration_batch", ["org_path"])


def downgrade() -> None:
    op.drop_index("ix_migration_batch_org_path", table_name="migration_batch")
    op.drop_index("ix_migration_batch_status", table_name="migration_batch")
    op.drop_table("migration_batch")
