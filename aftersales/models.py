"""Tables of the after-sales domain, on the engine's metadata so one migration chain holds all."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models import Base, utcnow

MEMBER_LEVELS = ("none", "silver", "gold", "platinum")
ORDER_TYPES = ("repair", "installation", "consultation", "praise", "complaint")


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
    purchase_date: Mapped[date]
    install_date: Mapped[date | None]
    warranty_end: Mapped[date]
    address_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customer_address.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="products")
    model: Mapped[ProductModel] = relationship(lazy="joined")

    def in_warranty(self, on: date) -> bool:
        return on <= self.warranty_end


class OutletProfile(Base):
    """What dispatch needs to know of an outlet unit: where it serves, what, how much."""

    __tablename__ = "outlet_profile"

    org_unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True
    )
    districts: Mapped[list[Any]] = mapped_column(default=list)
    categories: Mapped[list[Any]] = mapped_column(default=list)
    capacity: Mapped[int] = mapped_column(default=20)
    status: Mapped[str] = mapped_column(sa.String(20), default="active")
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]


class Engineer(Base):
    __tablename__ = "engineer"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE"), unique=True
    )
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    skills: Mapped[list[Any]] = mapped_column(default=list)
    phone: Mapped[str] = mapped_column(sa.String(20), default="")


class Part(Base):
    __tablename__ = "part"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    price: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    models: Mapped[list[Any]] = mapped_column(default=list)


class ServiceOrder(Base):
    """A service form (单据): the business record a process instance works on."""

    __tablename__ = "service_order"
    __table_args__ = (sa.Index("ix_service_order_customer", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(24), unique=True)
    type: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default="received", index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"))
    installed_product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("installed_product.id"))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    in_warranty: Mapped[bool | None]
    process_instance_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("process_instance.id"), index=True
    )
    kb_article_id: Mapped[int | None] = mapped_column(sa.ForeignKey("kb_article.id"))
    verified: Mapped[bool] = mapped_column(default=False)
    # from the outlet to the customer, measured for the visit fee's distance band
    distance_km: Mapped[float | None]
    created_by: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship()
    product: Mapped[InstalledProduct | None] = relationship()

    def link(self, instance: Any) -> None:
        """Tie the order to its process instance before the instance's first step runs.

        The order has no unit of its own: it is the instance's, so moving the instance
        (dispatch, an organisation move) moves the order, and the two cannot disagree.
        """
        self.process_instance_id = instance.id


class KbCategory(Base):
    __tablename__ = "kb_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)


class KbArticle(Base):
    """A knowledge-base answer; ``terms`` holds its words for Chinese search."""

    __tablename__ = "kb_article"
    # search counts the active articles (the N of its word rarity) from this index alone
    __table_args__ = (sa.Index("ix_kb_article_active", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("kb_category.id"))
    models: Mapped[list[Any]] = mapped_column(default=list)
    terms: Mapped[str] = mapped_column(sa.Text, default="")
    solved_count: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(80))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    category: Mapped[KbCategory | None] = relationship(lazy="joined")


def _term_type() -> sa.String:
    """Terms compare byte by byte on PostgreSQL too (the C collation keeps the index lean)."""
    return sa.String(40).with_variant(sa.String(40, collation="C"), "postgresql")


class KbTerm(Base):
    """The inverted index of the knowledge base: one row per word of an active article.

    ``weight`` is the word's importance in that article (title words weigh more than body
    words); search sums weight times the word's rarity over the words of a query.
    """

    __tablename__ = "kb_term"
    # On SQLite the rows live in the primary-key b-tree itself: a word's postings, weights
    # included, are one range read.
    __table_args__ = (sa.Index("ix_kb_term_article", "article_id"), {"sqlite_with_rowid": False})

    term: Mapped[str] = mapped_column(_term_type(), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("kb_article.id", ondelete="CASCADE"), primary_key=True
    )
    weight: Mapped[float]
    scoped: Mapped[int] = mapped_column(sa.SmallInteger, default=0)  # 1: the article names models


class KbArticleModel(Base):
    """The product models an article is written for (none: it applies to every model)."""

    __tablename__ = "kb_article_model"
    __table_args__ = (sa.Index("ix_kb_article_model_code", "model_code", "article_id"),)

    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("kb_article.id", ondelete="CASCADE"), primary_key=True
    )
    model_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)


class Praise(Base):
    """A customer's praise, kept against the outlet and the engineer it names."""

    __tablename__ = "praise"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_order.id"), unique=True)
    outlet_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppSetting(Base):
    """A value that a role may change in the UI (the callback satisfaction threshold)."""

    __tablename__ = "app_setting"

    name: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)
    updated_by: Mapped[str | None] = mapped_column(sa.String(80))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
