"""Knowledge-base articles, their categories, search terms and models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models import Base, utcnow


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
