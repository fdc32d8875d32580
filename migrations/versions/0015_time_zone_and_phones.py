"""A user's own time zone; customer phones in their one canonical form

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 19:00:00.000000

- ``app_user.time_zone``: the IANA zone the user reads times in (``webapp/times.py``); NULL
  means the app's default, Asia/Shanghai.
- ``customer_phone.phone`` is rewritten to the canonical form lookups compare with
  (``aftersales/customers/phones.py``): digits only, mobile 11 digits, landline area code
  and number,
  no country code. Before this, a landline could be stored with its dash (``021-64881234``)
  and a lookup of ``02164881234`` would miss it. The rule is copied here, not imported, so
  this migration keeps doing what it did when the module changes; a number it cannot read
  stays as it was. Downgrading keeps the canonical numbers (they were valid before too).
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SEPARATORS = re.compile(r"[\s\-()\.]")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^(?:0(?:10|2\d)\d{8}|0[3-9]\d{2}\d{7,8})$")


def canonical(stored: str) -> str | None:
    """The canonical form of a stored phone, or None when it is no number this rule reads."""
    text = SEPARATORS.sub("", stored or "")
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            if text[:1] in tuple("23456789"):
                text = "0" + text
            break
    else:
        if text.startswith("86") and MOBILE.match(text[2:]):
            text = text[2:]
    return text if MOBILE.match(text) or LANDLINE.match(text) else None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
    phones = sa.table("customer_phone", sa.column("id", sa.Integer), sa.column("phone", sa.String))
    written_otherwise = sa.or_(
        *(phones.c.phone.contains(c) for c in ("-", " ", "(", ")", ".")),
        phones.c.phone.startswith("+"),
        phones.c.phone.startswith("86"),
        phones.c.phone.startswith("0086"),
    )
    connection = op.get_bind()
    query = sa.select(phones.c.id, phones.c.phone).where(written_otherwise)
    for row_id, stored in connection.execute(query).all():
        number = canonical(stored)
        if number is not None and number != stored:
            connection.execute(phones.update().where(phones.c.id == row_id).values(phone=number))


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("time_zone")
