"""Service form types as data, and a business status on every instance

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 19:00:00.000000

- ``service_type`` holds the versions of each ``*.service.json`` type (CONTRACT.md).
- ``process_instance.business_status`` is the ``orderStatus`` its tokens last reached.
- ``service_order`` keeps the type version it was opened with and whether its status is
  final for that type (``is_open``), so open orders are counted without a list of states in
  code; ``type`` and ``status`` widen to the keys a type may use.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FINAL = ("closed", "cancelled")


def upgrade() -> None:
    op.create_table(
        "service_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("prefix", sa.String(length=4), nullable=False),
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "version", name="uq_service_type_version"),
    )
    with op.batch_alter_table("service_type", schema=None) as batch_op:
        batch_op.create_index("ix_service_type_process", ["process_key"], unique=False)
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("business_status", sa.String(length=40), nullable=True))
    with op.batch_alter_table("service_order", schema=None) as batch_op:
        batch_op.alter_column(
            "type", existing_type=sa.String(length=20), type_=sa.String(length=40)
        )
        batch_op.alter_column(
            "status", existing_type=sa.String(length=20), type_=sa.String(length=40)
        )
        batch_op.alter_column("customer_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(
            sa.Column("type_version", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("is_open", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.create_index(batch_op.f("ix_service_order_type"), ["type"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_order_is_open"), ["is_open"], unique=False)
    order = sa.table("service_order", sa.column("status"), sa.column("is_open"))
    op.execute(order.update().where(order.c.status.in_(FINAL)).values(is_open=False))


def downgrade() -> None:
    with op.batch_alter_table("service_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_order_is_open"))
        batch_op.drop_index(batch_op.f("ix_service_order_type"))
        batch_op.drop_column("is_open")
        batch_op.drop_column("type_version")
        batch_op.alter_column("customer_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column(
            "status", existing_type=sa.String(length=40), type_=sa.String(length=20)
        )
        batch_op.alter_column(
            "type", existing_type=sa.String(length=40), type_=sa.String(length=20)
        )
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_column("business_status")
    with op.batch_alter_table("service_type", schema=None) as batch_op:
        batch_op.drop_index("ix_service_type_process")
    op.drop_table("service_type")
