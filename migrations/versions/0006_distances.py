"""Coordinates of customer addresses and the measured outlet distance of an order

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_address") as batch:
        batch.add_column(sa.Column("latitude", sa.Double(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Double(), nullable=True))
    with op.batch_alter_table("service_order") as batch:
        batch.add_column(sa.Column("distance_km", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_order") as batch:
        batch.drop_column("distance_km")
    with op.batch_alter_table("customer_address") as batch:
        batch.drop_column("longitude")
        batch.drop_column("latitude")
