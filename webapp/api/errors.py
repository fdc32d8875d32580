"""One place that turns errors into JSON answers: ``{"error", "message", "details"}``."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from engine.errors import Conflict, EngineError, Forbidden, InvalidInput, NotFound

from ..extensions import db

log = logging.getLogger(__name__)

STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, InvalidInput: 422}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: object = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(status: int, code: str, message: str, details: object = None):  # noqa: ANN201
    response = jsonify({"error": code, "message": message, "details": details})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="csm"'
    return response


def _status_of(exc: EngineError) -> int:
    for cls, status in STATUS.items():
        if isinstance(exc, cls):
            return status
    return 400


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):  # noqa: ANN202
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(EngineError)
    def _engine_error(exc: EngineError):  # noqa: ANN202
        return error_response(_status_of(exc), exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # noqa: ANN202
        code = (exc.name or "error").lower().replace(" ", "_")
        if request.path.startswith("/api/"):
            return error_response(exc.code or 500, code, exc.description or exc.name)
        return exc

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _out_of_range(exc: Exception):  # noqa: ANN202
        db.session.rollback()
        return error_response(422, "invalid", "a value is too long or out of range")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # noqa: ANN202
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "an unexpected error occurred; it was logged")
