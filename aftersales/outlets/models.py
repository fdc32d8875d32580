"""Outlets' service profiles, their engineers, the praise they earn."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, utcnow


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


class Praise(Base):
    """A customer's praise, kept against the outlet and the engineer it names."""

    __tablename__ = "praise"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_order.id"), unique=True)
    outlet_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
