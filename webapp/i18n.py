"""Languages of the staff UI: Chinese (``zh``, the default) and English (``en``).

Message ids are the English source strings; ``webapp/translations/zh/LC_MESSAGES/messages.po``
holds the Chinese. The ``.mo`` files are build products (gitignored): ``init_app`` compiles a
catalog whose ``.mo`` is missing or older than its ``.po``, so a fresh clone, an installed
package and a container all start with working translations.

The locale of a request is, in order: the signed-in user's saved ``locale`` (when the user
model has that attribute and it is set), ``session["locale"]``, then ``zh``.
The request's time zone is the user's own (``webapp/times.py``).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, has_request_context, session
from flask_babel import Babel, get_locale

log = logging.getLogger(__name__)

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"
# what each language calls itself, for the language switch (never translated)
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
# the value of <html lang> for each locale
HTML_LANG = {"zh": "zh-CN", "en": "en"}
# gettext keywords beyond Babel's defaults, for `pybabel extract -k ...` and the catalog test
EXTRA_KEYWORDS = {
    "lazy_gettext": None,
    "_l": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}

babel = Babel()


def init_app(app: Flask) -> None:
    fallback = Path(app.instance_path) / "translations"
    compile_catalogs(TRANSLATIONS, fallback=fallback)
    directories = [str(TRANSLATIONS)]
    stale = [
        po
        for po in TRANSLATIONS.glob("*/LC_MESSAGES/*.po")
        if not _fresh(po.with_suffix(".mo"), po)
    ]
    if stale:
        # a read-only install compiled its catalogs there; Flask-Babel merges the directories
        # in order, the later overriding, so these newer catalogs come last
        directories.append(str(fallback))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(directories))
    from .times import select_timezone

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    @app.context_processor
    def _i18n_context() -> dict:
        return {
            "get_locale": get_locale,
            "current_locale": current_locale,
            "html_lang": lambda: HTML_LANG.get(current_locale(), current_locale()),
            "locales": LOCALES,
            "language_names": LANGUAGE_NAMES,
        }


def signed_in_user() -> object | None:
    """Flask-Login's current user when Flask-Login is set up and someone is signed in."""
    if not has_request_context() or not hasattr(current_app, "login_manager"):
        return None
    from flask_login import current_user

    user = current_user._get_current_object()
    return user if getattr(user, "is_authenticated", False) else None


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT_LOCALE
    try:
        user = signed_in_user()
    except Exception:  # a broken user loader (database down) must not break the error page
        log.exception("could not load the signed-in user to choose a language")
        user = None
    preferred = getattr(user, "locale", None) if user is not None else None
    if preferred in LOCALES:
        return preferred
    chosen = session.get("locale")
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def current_locale() -> str:
    """The request's language code, ``zh`` or ``en``."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LOCALE


def compile_catalogs(directory: Path = TRANSLATIONS, fallback: Path | None = None) -> list[Path]:
    """Compile each ``.po`` under ``directory`` whose ``.mo`` is missing or older.

    Writes atomically (several processes may start at once). An install whose package folder
    is read-only compiles into ``fallback`` (the instance folder) instead, so it still speaks
    Chinese; without a fallback it logs a warning and that language is unavailable.
    """
    compiled = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if _fresh(mo_path, po_path):
            continue
        with po_path.open("rb") as f:
            catalog = read_po(f, locale=po_path.parent.parent.name)
        targets = [mo_path]
        if fallback is not None:
            targets.append(fallback / po_path.relative_to(directory).with_suffix(".mo"))
        for target in targets:
            if target is not mo_path and _fresh(target, po_path):
                break
            try:
                _write_mo(catalog, target)
            except OSError as exc:
                log.warning("cannot compile %s into %s (%s)", po_path, target, exc)
                continue
            compiled.append(target)
            break
    return compiled


def _fresh(mo_path: Path, po_path: Path) -> bool:
    return mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime


def _write_mo(catalog: object, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
