"""The service order: one generic case whatever its type."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models import Base, utcnow

if TYPE_CHECKING:
    from aftersales.customers.models import Customer
    from aftersales.products.models import InstalledProduct


class ServiceType(Base):
    """One version of a service form type (单据类型), deployed from a ``*.service.json`` file
    or saved in the designer's page. A version never changes: an order keeps the one it was
    opened with."""

    __tablename__ = "service_type"
    __table_args__ = (
        sa.UniqueConstraint("key", "version", name="uq_service_type_version"),
        sa.Index("ix_service_type_process", "process_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    name_zh: Mapped[str] = mapped_column(sa.String(80))
    name_en: Mapped[str] = mapped_column(sa.String(80))
    prefix: Mapped[str] = mapped_column(sa.String(4))
    process_key: Mapped[str] = mapped_column(sa.String(200))
    document: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    source: Mapped[str] = mapped_column(sa.String(10), default="file")
    created_by: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ServiceOrder(Base):
    """A service form (单据): the business record a process instance works on."""

    __tablename__ = "service_order"
    __table_args__ = (sa.Index("ix_service_order_customer", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(24), unique=True)
    type: Mapped[str] = mapped_column(sa.String(40), index=True)
    # the version of the type it was opened with: its statuses name the order's states
    type_version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(sa.String(40), default="received", index=True)
    # whether that status is final for its type (closed, cancelled): open orders are the rest
    is_open: Mapped[bool] = mapped_column(default=True, index=True)
    # none for a type that needs no customer (``"customer": "none"``)
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customer.id"))
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

    customer: Mapped[Customer | None] = relationship()
    product: Mapped[InstalledProduct | None] = relationship()

    def link(self, instance: Any) -> None:
        """Tie the order to its process instance before the instance's first step runs.

        The order has no unit of its own: it is the instance's, so moving the instance
        (dispatch, an organisation move) moves the order, and the two cannot disagree.
        """
        self.process_instance_id = instance.id
