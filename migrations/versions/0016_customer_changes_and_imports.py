"""Products registered by a call with an unknown warranty; customer change history; imports

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 19:30:00.000000

- ``installed_product.purchase_date`` and ``warranty_end`` may be NULL: a product registered
  by the request a caller makes for it (``aftersales/products/registration.py``) has an
  unknown warranty until a date and its proof are known; ``invoice_number`` and
  ``invoice_photo_id`` (an ``attachment`` id) keep that proof.
- ``customer_change``: every edit of a customer, their phones, addresses and products (who,
  when, which field, from what to what), shown on the customer page.
- ``customer_import``: a file of customers from the enterprise's existing systems, checked
  and stored in the background, with its progress and its errors per row.

Downgrading drops the two tables and the proof columns; it refuses while a product has no
purchase date or warranty end (those rows could not be kept).
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("installed_product") as batch:
        batch.alter_column("purchase_date", existing_type=sa.Date(), nullable=True)
        batch.alter_column("warranty_end", existing_type=sa.Date(), nullable=True)
        batch.add_column(sa.Column("invoice_number", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("invoice_photo_id", sa.String(length=36), nullable=True))
    op.create_table(
        "customer_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customer.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.String(length=400), nullable=True),
        sa.Column("new_value", sa.String(length=400), nullable=True),
        sa.Column("changed_by", sa.String(length=80), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_customer_change_customer", "customer_change", ["customer_id", "id"])
    op.create_table(
        "customer_import",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("checked_rows", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("products", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=400), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_customer_import_status", "customer_import", ["status"])


def downgrade() -> None:
    op.drop_index("ix_customer_import_status", table_name="customer_import")
    op.drop_table("customer_import")
    op.drop_index("ix_customer_change_customer", table_name="customer_change")
    op.drop_table("customer_change")
    unknown = op.get_bind().scalar(
        sa.text(
            "SELECT count(*) FROM installed_product "
            "WHERE purchase_date IS NULL OR warranty_end IS NULL"
        )
    )
    if unknown:
        raise RuntimeError(
            f"{unknown} products have no purchase date or warranty end; set them first"
        )
    with op.batch_alter_table("installed_product") as batch:
        batch.drop_column("invoice_photo_id")
        batch.drop_column("invoice_number")
        batch.alter_column("warranty_end", existing_type=sa.Date(), nullable=False)
        batch.alter_column("purchase_date", existing_type=sa.Date(), nullable=False)
