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
