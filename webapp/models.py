"""Tables of the web front end: sign-in sessions, saved inbox filters, uploads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, utcnow


class LoginSession(Base):
    """A server-side sign-in, so it can be revoked. The cookie carries a random secret and
    ``id`` is its SHA-256 hex digest: the table alone lets nobody in."""

    __tablename__ = "login_session"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))


class SavedFilter(Base):
    """An inbox filter a user named and keeps."""

    __tablename__ = "saved_filter"
    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(80))
    list_name: Mapped[str] = mapped_column(sa.String(20))
    query: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(Base):
    """An uploaded file (a photo in a work report). The bytes are in the row, written in the
        transaction of the completion that brought them: a refused completion keeps nothing, and
        every web server sees every photo. ``content`` is loaded only when the file is served.

    Who sees it follows its instance, wherever the instance (or its unit) has moved since, and
    the person who uploaded it keeps seeing it beside the task they completed."""

    __tablename__ = "attachment"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by: Mapped[str] = mapped_column(sa.String(80))
    # the instance whose task brought it: whoever sees that instance now sees the photo
    instance_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("process_instance.id"), index=True
    )
    # the unit at upload, for photos stored before migration 0013 linked them to instances
    org_path: Mapped[str] = mapped_column(sa.String(400), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None only for a file stored before migration 0010 that was not found to read in
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
