"""Configuration from the environment, with embedded defaults (SQLite, no Redis).

Outside demo mode the session signing key must come from ``CSM_SECRET_KEY``: a key generated
on one machine and kept in its instance folder cannot be shared by several web servers, and a
lost folder silently signs everybody out. Demo mode (``CSM_DEMO=1``, which ``scripts/serve.sh``
sets) keeps the generated key, created atomically so that processes starting at once agree.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from engine.db import database_url, engine_options
from engine.parsing import MAX_FILE_BYTES

MIN_KEY_LENGTH = 16
PROXY_FIX_KEYS = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")
TRUE_WORDS = ("1", "true", "yes", "on")
MISSING_KEY = (
    "CSM_SECRET_KEY is not set. Outside demo mode the web app needs a session signing key "
    "shared by all its processes, e.g. "
    "export CSM_SECRET_KEY=\"$(python3 -c 'import secrets; print(secrets.token_hex(32))')\"; "
    "for a local demo set CSM_DEMO=1 (scripts/serve.sh does) to keep a generated key in the "
    "instance folder."
)


class ConfigError(RuntimeError):
    """The environment cannot run the web app; the message says what to set."""


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in TRUE_WORDS


def demo_mode() -> bool:
    """The embedded demo set-up: ``CSM_DEMO=1``."""
    return _flag("CSM_DEMO")


def instance_key(instance_path: Path) -> str:
    """The key kept in ``instance_path/secret_key``, created once with mode 0600.

    The key is written to a private temporary file that is then hard-linked to its name: the
    link either creates the file whole or fails because another process got there first, in
    which case that process's key is read. Nobody ever reads a half-written key.
    """
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / "secret_key"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=instance_path, prefix=".secret_key.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another process's key won
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    key = path.read_text().strip()
    if not key:
        raise ConfigError(f"{path} is empty; delete it or set CSM_SECRET_KEY")
    return key


def secret_key(instance_path: Path) -> str | None:
    """``CSM_SECRET_KEY``; in demo mode without it, the instance folder's key; else None."""
    key = os.environ.get("CSM_SECRET_KEY", "").strip()
    if key:
        if len(key) < MIN_KEY_LENGTH:
            raise ConfigError(f"CSM_SECRET_KEY must have at least {MIN_KEY_LENGTH} characters")
        return key
    return instance_key(instance_path) if demo_mode() else None


def proxy_fix() -> dict[str, int] | None:
    """``CSM_PROXY_FIX="x_for=1,x_proto=1,x_host=1"``: how many proxies in front of the app
    set each X-Forwarded-* header (werkzeug's ProxyFix arguments); unset trusts none."""
    raw = os.environ.get("CSM_PROXY_FIX", "").strip()
    if not raw:
        return None
    out: dict[str, int] = {}
    for part in raw.split(","):
        name, _, value = part.strip().partition("=")
        name = name.strip()
        if name not in PROXY_FIX_KEYS or not value.strip().isdigit():
            raise ConfigError(
                f"CSM_PROXY_FIX: {part.strip()!r} is not NAME=COUNT with NAME one of "
                + ", ".join(PROXY_FIX_KEYS)
            )
        out[name] = int(value)
    return out


def instance_dir() -> Path:
    """``CSM_INSTANCE_DIR``, else ``./instance``: the generated key and compiled files live here."""
    return Path(os.environ.get("CSM_INSTANCE_DIR", Path.cwd() / "instance")).resolve()


def check_serving() -> None:
    """Raise ``ConfigError`` when the environment cannot serve the web app (``csm serve``
    checks before it starts gunicorn, so the message is not lost in a worker's boot log)."""
    from . import assets

    try:
        assets.require()
    except assets.MissingAssets as exc:
        raise ConfigError(str(exc)) from None
    if not from_environment(instance_dir())["SECRET_KEY"]:
        raise ConfigError(MISSING_KEY)


def days_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= 3660:
        raise ConfigError(f"{name} must be a whole number of days from 1 to 3660")
    return int(raw)


def from_environment(instance_path: Path) -> dict:
    url = database_url()
    redis_url = os.environ.get("REDIS_URL") or None
    return {
        "SECRET_KEY": secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url),
        "REDIS_URL": redis_url,
        "EMBEDDED_TIMERS": not redis_url,
        "TIMER_INTERVAL_S": float(os.environ.get("CSM_TIMER_INTERVAL_S", "1")),
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        # a form field may carry a whole model file (the modeler's and DMN editor's XML)
        "MAX_FORM_MEMORY_SIZE": MAX_FILE_BYTES,
        "JSON_SORT_KEYS": False,
        "PROXY_FIX": proxy_fix(),
        # Secure cookies always, not only on requests that arrived over HTTPS (webapp/headers.py)
        "SESSION_COOKIE_SECURE": _flag("CSM_SECURE_COOKIES"),
        "TOKEN_DAYS": days_from_env("CSM_TOKEN_DAYS", 90),
        # sign-in throttling (webapp/throttle.py): failed attempts counted in Redis if there
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "SIGNIN_LIMIT_PER_ADDRESS": os.environ.get(
            "CSM_SIGNIN_LIMIT_PER_ADDRESS", "30 per minute;300 per day"
        ),
        "SIGNIN_LIMIT_PER_NAME": os.environ.get(
            "CSM_SIGNIN_LIMIT_PER_NAME", "5 per minute;30 per day"
        ),
    }
