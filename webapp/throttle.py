"""Sign-in throttling with Flask-Limiter: failed sign-ins are counted per client address and
per (client address, user name), in Redis when ``REDIS_URL`` is set (shared by every web
process), in memory otherwise.

Keying the per-name limit on the address as well means that someone guessing passwords from
one place locks out only themselves: the real user signs in from their own address. The
counters are Flask-Limiter's storage entries, which expire with their window; nothing is
stored per name in the database, so typing made-up names fills no table. The client address
is ``request.remote_addr``: the socket's peer unless ``CSM_PROXY_FIX`` names the proxies
whose ``X-Forwarded-For`` to believe (``create_app`` installs werkzeug's ProxyFix then).
"""

from __future__ import annotations

import hashlib
import time

from flask import Flask, Response, request
from flask_limiter import Limiter, RequestLimit

NAME_MAX = 80


def client_address() -> str:
    return request.remote_addr or "unknown"


def address_and_name() -> str:
    """The per-name key: the address with a digest of the name (names are not kept)."""
    name = (request.form.get("username") or "").strip().lower()[:NAME_MAX]
    return f"{client_address()}/{hashlib.sha256(name.encode()).hexdigest()[:32]}"


def _failed(response: Response) -> bool:
    """Only a refused password counts; a success or a malformed post costs nothing."""
    return response.status_code == 401


def _too_many(limit: RequestLimit) -> Response:
    """The sign-in page again, saying how long to wait, with ``Retry-After``."""
    from .ui.auth_views import login_page

    wait = max(1, int(limit.reset_at - time.time()))
    response = login_page(too_many_for=wait)
    response.headers["Retry-After"] = str(wait)
    return response


def init_app(app: Flask) -> Limiter:
    """Limit the sign-in page's POSTs; call after the UI blueprint is registered."""
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "csm")
    limiter = Limiter(
        client_address,
        strategy="moving-window",
        in_memory_fallback_enabled=True,  # Redis down: each process still counts on its own
    )
    limiter.init_app(app)
    view = app.view_functions["ui.login"]
    per_name = limiter.limit(
        app.config["SIGNIN_LIMIT_PER_NAME"],
        key_func=address_and_name,
        methods=["POST"],
        deduct_when=_failed,
        on_breach=_too_many,
        scope="signin-name",
    )
    per_address = limiter.limit(
        app.config["SIGNIN_LIMIT_PER_ADDRESS"],
        methods=["POST"],
        deduct_when=_failed,
        on_breach=_too_many,
        scope="signin-address",
    )
    app.view_functions["ui.login"] = per_address(per_name(view))
    app.extensions["csm_limiter"] = limiter
    return limiter
