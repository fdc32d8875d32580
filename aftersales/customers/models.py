"""Customers, their phones and addresses."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models import Base, utcnow

if TYPE_CHECKING:
    from aftersales.products.models import InstalledProduct

MEMBER_LEVELS = ("none", "silver", "gold", "platinum")


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    member_no: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    member_level: Mapped[str] = mapped_column(sa.String(20), default="none")
    tags: Mapped[list[Any]] = mapped_column(default=list)
    customer_group: Mapped[str | None] = mapped_column(sa.String(40))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    phones: Mapped[list[CustomerPhone]] = relationship(
        back_populates="customer",
        cascade="all, delete-orphan",
        order_by="CustomerPhone.is_primary.desc()",
    )
    addresses: Mapped[list[CustomerAddress]] = relationship(
        back_populates="customer",
        cascade="all, delete-orphan",
        order_by="CustomerAddress.is_primary.desc()",
    )
    products: Mapped[list[InstalledProduct]] = relationship(back_populates="customer")


class CustomerPhone(Base):
    __tablename__ = "customer_phone"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10), default="mobile")
    is_primary: Mapped[bool] = mapped_column(default=False)

    customer: Mapped[Customer] = relationship(back_populates="phones")


class CustomerAddress(Base):
    __tablename__ = "customer_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    province: Mapped[str] = mapped_column(sa.String(20))
    city: Mapped[str] = mapped_column(sa.String(30))
    district: Mapped[str] = mapped_column(sa.String(30))
    street: Mapped[str] = mapped_column(sa.String(200), default="")
    is_primary: Mapped[bool] = mapped_column(default=False)
    # where the address is, once known: typed in, or learnt from an engineer's check-in
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]

    customer: Mapped[Customer] = relationship(back_populates="addresses")

    @property
    def region(self) -> str:
        """``province/city/district``: the key outlets' service districts are written in."""
        return f"{self.province}/{self.city}/{self.district}"

    @property
    def text(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.street}"


class CustomerChange(Base):
    """One field of a customer (or of one of their phones, addresses or products) changed
    by someone: the customer page's history. Values are kept as the text the page shows."""

    __tablename__ = "customer_change"
    __table_args__ = (sa.Index("ix_customer_change_customer", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"))
    # what was changed: customer, phone, address or product, and which one
    subject: Mapped[str] = mapped_column(sa.String(20), default="customer")
    subject_id: Mapped[int | None]
    field: Mapped[str] = mapped_column(sa.String(40))
    old_value: Mapped[str | None] = mapped_column(sa.String(400))
    new_value: Mapped[str | None] = mapped_column(sa.String(400))
    changed_by: Mapped[str] = mapped_column(sa.String(80))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerImport(Base):
    """A file of customers from the enterprise's existing systems, imported in the
    background (``customers.imports``): checked whole first, then stored all at once or not
    at all. The file's bytes stay in the row so any worker can read it."""

    __tablename__ = "customer_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    # waiting, checking, storing, completed, refused (bad rows), failed (could not store)
    status: Mapped[str] = mapped_column(sa.String(20), default="waiting", index=True)
    total_rows: Mapped[int] = mapped_column(default=0)
    checked_rows: Mapped[int] = mapped_column(default=0)
    customers: Mapped[int] = mapped_column(default=0)
    products: Mapped[int] = mapped_column(default=0)
    # [{"row", "column", "message"}], the first MAX_ERRORS of them; error_count counts all
    errors: Mapped[list[Any]] = mapped_column(default=list)
    error_count: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(sa.String(400), default="")
    created_by: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
