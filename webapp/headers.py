"""The security headers every answer carries, set in one place (``create_app``).

HTML pages get a Content-Security-Policy that allows only this site's own script files: no
inline script, no ``eval``, no inline styles, no plugins, no framing by other sites. The
decision-table editor alone also allows style attributes, which dmn-js draws with. Pages pass
data to scripts through ``data-`` attributes and ``<script type="application/json">`` blocks,
which the policy does not run. Every other answer (JSON, files, images) gets a policy that
allows nothing, so a file opened directly in the browser cannot run anything either. A view
that sets its own policy (a downloaded model file) keeps it.

Cookies are marked Secure when the request came over HTTPS (as ProxyFix reports it behind a
proxy) or when ``CSM_SECURE_COOKIES`` says so always.
"""

from __future__ import annotations

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    )
)
# dmn-js draws its decision table with style attributes (no script, no <style>): its page only
STYLE_ATTRIBUTES_POLICY = PAGE_POLICY + "; style-src-attr 'unsafe-inline'"
FILE_POLICY = "default-src 'none'; frame-ancestors 'self'; sandbox"
REFERRER_POLICY = "same-origin"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, Secure whenever the request itself is HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        configured = super().get_cookie_secure(app)
        return configured or (has_request_context() and request.is_secure)


def allow_style_attributes(response: Response) -> Response:
    """The page policy plus inline style attributes, for a page whose editor needs them."""
    response.headers["Content-Security-Policy"] = STYLE_ATTRIBUTES_POLICY
    return response


def add_headers(response: Response) -> Response:
    is_html = (response.mimetype or "") == "text/html"
    response.headers.setdefault("Content-Security-Policy", PAGE_POLICY if is_html else FILE_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    if is_html:
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")  # frame-ancestors' elder
    return response


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.after_request(add_headers)
