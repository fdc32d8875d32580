"""Configuration from the environment, with embedded defaults (SQLite, no Redis)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from engine.db import database_url, engine_options
from engine.parsing import MAX_FILE_BYTES


def _secret_key(instance_path: Path) -> str:
    """CSM_SECRET_KEY, else a key generated once per instance folder."""
    key = os.environ.get("CSM_SECRET_KEY")
    if key:
        return key
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: Path) -> dict:
    url = database_url()
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "EMBEDDED_TIMERS": not os.environ.get("REDIS_URL"),
        "TIMER_INTERVAL_S": float(os.environ.get("CSM_TIMER_INTERVAL_S", "1")),
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        # a form field may carry a whole model file (the modeler's and DMN editor's XML)
        "MAX_FORM_MEMORY_SIZE": MAX_FILE_BYTES,
        "JSON_SORT_KEYS": False,
    }
