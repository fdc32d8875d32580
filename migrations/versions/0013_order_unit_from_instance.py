"""An order's unit is its instance's; a photo follows the instance whose task brought it

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 15:00:00.000000

- ``service_order.org_path`` goes: it was written beside the instance's unit and could
  disagree with it (an organisation move rewrote one, not the other). Scope and dispatch
  read the instance's ``org_path``.
- ``attachment.instance_id`` links a photo to its instance, so who sees it follows the
  instance when it or its unit moves. Photos stored before keep their ``org_path``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PATH = sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("service_order") as batch:
        batch.drop_index("ix_service_order_org_path_status")
        batch.drop_column("org_path")
    with op.batch_alter_table("attachment") as batch:
        batch.add_column(sa.Column("instance_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_attachment_instance_id_process_instance",
            "process_instance",
            ["instance_id"],
            ["id"],
        )
        batch.create_index("ix_attachment_instance_id", ["instance_id"])


def downgrade() -> None:
    with op.batch_alter_table("attachment") as batch:
        batch.drop_index("ix_attachment_instance_id")
        batch.drop_constraint("fk_attachment_instance_id_process_instance", type_="foreignkey")
        batch.drop_column("instance_id")
    with op.batch_alter_table("service_order") as batch:
        batch.add_column(sa.Column("org_path", PATH, nullable=False, server_default=""))
        batch.create_index("ix_service_order_org_path_status", ["org_path", "status"])
    service_order = sa.table(
        "service_order",
        sa.column("org_path", sa.String),
        sa.column("process_instance_id", sa.Integer),
    )
    instance = sa.table("process_instance", sa.column("id"), sa.column("org_path", sa.String))
    op.execute(
        service_order.update().values(
            org_path=sa.func.coalesce(
                sa.select(instance.c.org_path)
                .where(instance.c.id == service_order.c.process_instance_id)
                .scalar_subquery(),
                "",
            )
        )
    )
