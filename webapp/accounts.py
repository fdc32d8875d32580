"""Switching a user on and off: a deactivated user is out at once, wherever they were in.

Every path that deactivates someone (the users page, ``csm user add --inactive``, the user
import) goes through ``set_active``. The session loader and the token lookup also refuse an
inactive user, so even a row this missed would not let them in.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.models import ApiToken, User, utcnow

from .models import LoginSession


def set_active(session: Session, user: User, active: bool) -> None:
    """Activate or deactivate ``user``; deactivating deletes their sign-in sessions and
    revokes their API tokens in the caller's transaction (reactivating brings neither back)."""
    user.active = active
    if active:
        return
    session.flush()  # a user created in this transaction needs its id
    session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id))
    session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
