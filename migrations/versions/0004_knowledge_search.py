"""Knowledge-base search: the inverted index (kb_term) and the models an article is for

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:07:44.283276

Articles saved before this revision have no terms: run ``aftersales.knowledge.reindex_all``
once (it is idempotent) to make them findable.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_article_model",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("model_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "model_code"),
    )
    op.create_index(
        "ix_kb_article_model_code", "kb_article_model", ["model_code", "article_id"], unique=False
    )
    op.create_table(
        "kb_term",
        sa.Column(
            "term",
            sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("scoped", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("term", "article_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_kb_term_article", "kb_term", ["article_id"], unique=False)
    op.create_index("ix_kb_article_active", "kb_article", ["active"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_kb_article_active", table_name="kb_article")
    op.drop_index("ix_kb_term_article", table_name="kb_term")
    op.drop_table("kb_term")
    op.drop_index("ix_kb_article_model_code", table_name="kb_article_model")
    op.drop_table("kb_article_model")
