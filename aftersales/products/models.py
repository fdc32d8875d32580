"""Product categories and models, the installed base, parts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models import Base, utcnow

if TYPE_CHECKING:
    from aftersales.customers.models import Customer


class ProductCategory(Base):
    __tablename__ = "product_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(40))
    name_en: Mapped[str] = mapped_column(sa.String(40))
    warranty_months: Mapped[int] = mapped_column(default=12)


class ProductModel(Base):
    __tablename__ = "product_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("product_category.id"), index=True)
    warranty_months: Mapped[int | None]

    category: Mapped[ProductCategory] = relationship(lazy="joined")

    @property
    def warranty(self) -> int:
        return self.warranty_months or self.category.warranty_months


class InstalledProduct(Base):
    """A product a customer owns: its serial (the barcode), dates and warranty."""

    __tablename__ = "installed_product"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    model_id: Mapped[int] = mapped_column(sa.ForeignKey("product_model.id"))
    serial: Mapped[str] = mapped_column(sa.String(40), unique=True)
    # none when nobody knows it yet (a product registered by a call without its purchase date)
    purchase_date: Mapped[date | None]
    install_date: Mapped[date | None]
    # none while the warranty is unknown: no date, or a date nothing proves (registration.py)
    warranty_end: Mapped[date | None]
    # the proof of purchase a caller gave: the invoice's number and/or a photo of it
    invoice_number: Mapped[str | None] = mapped_column(sa.String(40))
    invoice_photo_id: Mapped[str | None] = mapped_column(sa.String(36))
    address_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customer_address.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="products")
    model: Mapped[ProductModel] = relationship(lazy="joined")

    def in_warranty(self, on: date) -> bool | None:
        """In warranty on ``on``; None while the warranty is unknown (someone decides)."""
        if self.warranty_end is None:
            return None
        return on <= self.warranty_end


class Part(Base):
    __tablename__ = "part"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    price: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    models: Mapped[list[Any]] = mapped_column(default=list)
