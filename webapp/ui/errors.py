"""HTML error pages for everything outside ``/api/``; never a stack trace.

The JSON API keeps its own handlers (``webapp.api.errors``) unchanged: ``register`` wraps each
handler registered by exception class so that a request under ``/api/`` is still answered by
the original handler, and any other request gets ``templates/errors/error.html`` in the user's
language. Call it after ``webapp.api.errors.register_error_handlers``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus

from flask import Flask, render_template, request
from flask_babel import lazy_gettext
from markupsafe import escape
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from engine.errors import Conflict, EngineError, Forbidden, InvalidInput, NotFound

from ..api.errors import ApiError
from ..extensions import db

log = logging.getLogger(__name__)

# status -> (title, what the person reads); English source strings, translated at render time
MESSAGES = {
    400: (
        lazy_gettext("Bad request"),
        lazy_gettext("The request could not be understood. Check what you entered and try again."),
    ),
    403: (
        lazy_gettext("Not allowed"),
        lazy_gettext("You may not do this."),
    ),
    404: (
        lazy_gettext("Page not found"),
        lazy_gettext("This page does not exist, or it is not visible to you."),
    ),
    405: (
        lazy_gettext("Action not allowed"),
        lazy_gettext("This page does not accept this kind of request."),
    ),
    409: (
        lazy_gettext("Changed meanwhile"),
        lazy_gettext("Someone else got there first — reload to see the current state."),
    ),
    413: (
        lazy_gettext("Too large"),
        lazy_gettext("What you sent is too large. Send a smaller file or less data."),
    ),
    422: (
        lazy_gettext("Cannot be processed"),
        lazy_gettext("Some of what you entered is not valid. Go back, correct it and try again."),
    ),
    429: (
        lazy_gettext("Too many requests"),
        lazy_gettext("Too many requests in a short time. Wait a moment and try again."),
    ),
    500: (
        lazy_gettext("Something went wrong"),
        lazy_gettext("An unexpected error occurred. It has been logged; please try again later."),
    ),
}
GENERIC = (
    lazy_gettext("Error"),
    lazy_gettext("The request could not be completed."),
)
ENGINE_STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, InvalidInput: 422}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def render_error(status: int, detail: str | None = None) -> tuple[str, int]:
    """The error page for ``status``; a plain fallback if the page itself cannot render."""
    title, message = MESSAGES.get(status, GENERIC)
    try:
        return (
            render_template(
                "errors/error.html", status=status, title=title, message=message, detail=detail
            ),
            status,
        )
    except Exception:
        log.exception("the error page for %s failed to render", status)
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return (
            f"<!doctype html><meta charset=utf-8><title>{status} {escape(phrase)}</title>"
            f"<h1>{status} {escape(phrase)}</h1>",
            status,
        )


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:
        log.exception("rollback after an error failed")


def status_of(exc: BaseException) -> int:
    """The HTTP status a non-API request answers ``exc`` with."""
    if isinstance(exc, HTTPException):
        return exc.code or 500
    if isinstance(exc, ApiError):
        return exc.status
    if isinstance(exc, EngineError):
        for cls, status in ENGINE_STATUS.items():
            if isinstance(exc, cls):
                return status
        return 400
    if isinstance(exc, DataError | OverflowError):
        return 422
    return 500


def html_error(exc: Exception):  # noqa: ANN201
    if isinstance(exc, HTTPException):
        if exc.response is not None:
            return exc.response  # an answer made for the occasion (the throttled sign-in page)
        if exc.code is None or exc.code < 400:
            return exc  # redirects and the like pass through
        response = render_error(exc.code)
        headers = exc.get_headers()
        allow = [v for k, v in headers if k.lower() == "allow"]
        retry = [v for k, v in headers if k.lower() == "retry-after"]
        extra = {}
        if allow:
            extra["Allow"] = allow[0]
        if retry:
            extra["Retry-After"] = retry[0]
        return (*response, extra) if extra else response
    status = status_of(exc)
    if status >= 500:
        log.exception("unhandled error on %s %s", request.method, request.path)
    _rollback()
    # a refused action says why (a conflict or bad input); a 404 or 403 says no more
    detail = exc.message if isinstance(exc, EngineError) and status in (409, 422) else None
    return render_error(status, detail)


def register(app: Flask) -> None:
    """Answer non-API requests with HTML; leave the API's JSON handlers as they are."""
    by_class = app.error_handler_spec[None][None]
    api_handlers: dict[type, Callable] = dict(by_class)

    def api_handler_for(exc: Exception) -> Callable | None:
        for cls in type(exc).__mro__:
            if cls in api_handlers:
                return api_handlers[cls]
        return None

    def dispatch(exc: Exception):  # noqa: ANN202
        if is_api_request():
            handler = api_handler_for(exc)
            if handler is not None:
                return handler(exc)
            if isinstance(exc, HTTPException):
                return exc
            raise exc
        return html_error(exc)

    for cls in {HTTPException, Exception, *api_handlers}:
        app.register_error_handler(cls, dispatch)
