"""The tables of forms and survey items, on the engine's Base so one metadata holds them all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models import Base, utcnow


class FormDefinition(Base):
    """One version of one form; rows are never changed, an edit adds the next version."""

    __tablename__ = "form_definition"
    __table_args__ = (sa.UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), index=True)
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    title_zh: Mapped[str] = mapped_column(sa.String(200), default="")
    title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    schema: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ui: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(sa.String(20), default="file")

    def title(self, locale: str = "zh") -> str:
        """The title in the locale, falling back to the other language and then the key."""
        first, second = (
            (self.title_en, self.title_zh)
            if locale == "en"
            else (
                self.title_zh,
                self.title_en,
            )
        )
        return first or second or self.key


class SurveyItem(Base):
    """A callback question (调查项目); deactivated rather than deleted, answers refer to it."""

    __tablename__ = "survey_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    question_zh: Mapped[str] = mapped_column(sa.String(500))
    question_en: Mapped[str] = mapped_column(sa.String(500), default="")
    answer_type: Mapped[str] = mapped_column(sa.String(20))
    choices: Mapped[list[Any]] = mapped_column(default=list)
    max_score: Mapped[int] = mapped_column(default=5)
    weight: Mapped[float] = mapped_column(default=1.0)
    required: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyBinding(Base):
    """Which items a form type's callback asks, in which order."""

    __tablename__ = "survey_binding"

    form_type: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_item.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int]

    item: Mapped[SurveyItem] = relationship(lazy="joined")
