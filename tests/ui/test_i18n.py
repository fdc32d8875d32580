"""Every message the UI uses has Chinese; the catalogs compile; the en catalog exists."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from webapp.i18n import EXTRA_KEYWORDS, TRANSLATIONS, compile_catalogs

ROOT = Path(__file__).resolve().parents[2]
HOW_TO_FIX = "see babel.cfg for the pybabel extract/update commands, then translate"


def used_messages() -> dict[str, str]:
    """msgid -> where it is used, from webapp/ Python code and templates (Babel's extractor)."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, **EXTRA_KEYWORDS}
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=keywords,
        directory_filter=lambda d: (
            Path(d).name not in {"node_modules", "instance"}
            and not Path(d).name.startswith((".", "_"))
        ),
    ):
        ids = message if isinstance(message, tuple) else (message,)
        if ids and ids[0]:
            found.setdefault(ids[0], f"{filename}:{lineno}")
    return found


def catalog(locale: str):  # noqa: ANN201
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def test_extraction_finds_the_layouts_messages() -> None:
    used = used_messages()
    assert "After-sales Service" in used  # templates
    assert "Someone else got there first — reload to see the current state." in used  # Python
    assert used["After-sales Service"].startswith("webapp/templates/")


def test_every_message_used_has_a_chinese_translation() -> None:
    zh = catalog("zh")
    missing, fuzzy = [], []
    for msgid, where in sorted(used_messages().items()):
        entry = zh.get(msgid)
        strings = entry.string if entry is not None else ""
        strings = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or not all(s.strip() for s in strings):
            missing.append(f"{where}: {msgid!r}")
        elif entry.fuzzy:
            fuzzy.append(f"{where}: {msgid!r}")
    assert not missing, "no Chinese translation (" + HOW_TO_FIX + "):\n" + "\n".join(missing)
    assert not fuzzy, "fuzzy (not compiled) Chinese translations:\n" + "\n".join(fuzzy)


def test_chinese_translations_keep_the_placeholders() -> None:
    problems = [f"{message.id!r}: {errors}" for message, errors in catalog("zh").check() if errors]
    assert not problems, "\n".join(problems)


def test_the_english_catalog_exists_and_stays_the_source() -> None:
    en = catalog("en")
    assert str(en.locale) == "en"
    translated = [m.id for m in en if m.id and m.string and m.string != m.id]
    assert not translated, f"the en catalog should not reword the source strings: {translated}"


def test_catalogs_compile_when_missing_or_stale(tmp_path: Path) -> None:
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, copy, ignore=shutil.ignore_patterns("*.mo"))
    compiled = compile_catalogs(copy)
    assert sorted(p.parent.parent.name for p in compiled) == ["en", "zh"]
    assert compile_catalogs(copy) == []  # up to date: nothing to do
    po = copy / "zh" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    older = po.stat().st_mtime - 10
    os.utime(mo, (older, older))
    assert compile_catalogs(copy) == [mo]
    assert not list(copy.rglob("*.tmp"))


def test_a_read_only_install_compiles_its_catalogs_into_the_fallback(tmp_path, monkeypatch):
    from webapp import i18n

    package = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, package, ignore=shutil.ignore_patterns("*.mo"))
    real_write = i18n._write_mo

    def read_only_package(catalog, target: Path) -> None:  # noqa: ANN001
        if target.is_relative_to(package):
            raise PermissionError("read-only file system")
        real_write(catalog, target)

    monkeypatch.setattr(i18n, "_write_mo", read_only_package)
    fallback = tmp_path / "instance" / "translations"
    compiled = compile_catalogs(package, fallback=fallback)
    assert sorted(p.relative_to(fallback).parts[0] for p in compiled) == ["en", "zh"]
    assert not list(package.rglob("*.mo"))
    assert compile_catalogs(package, fallback=fallback) == []  # the fallback is up to date


def test_the_app_speaks_chinese_when_its_package_folder_is_read_only(tmp_path, monkeypatch):
    from webapp import create_app, i18n

    package = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, package, ignore=shutil.ignore_patterns("*.mo"))
    real_write = i18n._write_mo

    def read_only_package(catalog, target: Path) -> None:  # noqa: ANN001
        if target.is_relative_to(package):
            raise PermissionError("read-only file system")
        real_write(catalog, target)

    monkeypatch.setattr(i18n, "_write_mo", read_only_package)
    monkeypatch.setattr(i18n, "TRANSLATIONS", package)
    monkeypatch.setenv("CSM_INSTANCE_DIR", str(tmp_path / "instance"))
    app = create_app(
        {
            "SECRET_KEY": "x" * 32,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "SQLALCHEMY_ENGINE_OPTIONS": {},
        }
    )
    assert (
        str(tmp_path / "instance" / "translations") in app.config["BABEL_TRANSLATION_DIRECTORIES"]
    )
    with app.test_request_context("/"):
        from flask_babel import gettext

        assert gettext("Sign in") != "Sign in"
