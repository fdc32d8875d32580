#!/usr/bin/env python3
"""Copy the front-end files the staff UI serves from node_modules into webapp/static/vendor/.

Run after ``npm ci --no-audit --no-fund`` (scripts/serve.sh and scripts/test.sh do both). The
versions are pinned in package.json / package-lock.json; webapp/static/vendor/ is generated and
gitignored. Standard library only, so it runs before the project is pip-installed (Dockerfile).

    python3 scripts/vendor_assets.py [--check]

``--check`` copies nothing and exits 1 when a vendored file is missing or differs.

The ES modules of ``webapp/assets.py``'s ``ES_MODULES`` are written with their imports linked
to each other (``linked_module`` there says why); the check compares them as linked.
"""

from __future__ import annotations

import argparse
import filecmp
import importlib.util
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "webapp" / "static" / "vendor"


def _load_manifest():  # noqa: ANN202
    """``webapp/assets.py`` by its path: the app checks the same list at start-up, and this
    script must run before the project is installed."""
    spec = importlib.util.spec_from_file_location("csm_assets", ROOT / "webapp" / "assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_MANIFEST = _load_manifest()
FILES = _MANIFEST.FILES
ES_MODULES = _MANIFEST.ES_MODULES


def _linked(node_modules: Path, source: str) -> str:
    try:
        return _MANIFEST.linked_module(source, (node_modules / source).read_text("utf-8"))
    except _MANIFEST.UnlinkedImport as exc:
        raise SystemExit(
            f"error: {exc}; add that package to ES_MODULES in webapp/assets.py"
        ) from None


def stale(node_modules: Path = NODE_MODULES, vendor: Path = VENDOR) -> list[str]:
    """Names under ``vendor`` that are missing or differ from their node_modules source."""
    copied = [
        name
        for source, name in FILES.items()
        if not (vendor / name).is_file()
        or not (node_modules / source).is_file()
        or not filecmp.cmp(node_modules / source, vendor / name, shallow=False)
    ]
    linked = [
        name
        for source, name in ES_MODULES.items()
        if not (vendor / name).is_file()
        or not (node_modules / source).is_file()
        or (vendor / name).read_text("utf-8") != _linked(node_modules, source)
    ]
    return copied + linked


def copy(node_modules: Path = NODE_MODULES, vendor: Path = VENDOR) -> list[Path]:
    if not node_modules.is_dir():
        raise SystemExit(
            f"error: {node_modules} does not exist; run `npm ci --no-audit --no-fund` "
            "in the repository root first"
        )
    missing = [s for s in [*FILES, *ES_MODULES] if not (node_modules / s).is_file()]
    if missing:
        raise SystemExit(
            "error: not in node_modules: "
            + ", ".join(missing)
            + "; run `npm ci --no-audit --no-fund` (package.json may have changed)"
        )
    vendor.mkdir(parents=True, exist_ok=True)
    written = []
    for source, name in FILES.items():
        target = vendor / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(node_modules / source, target)
        written.append(target)
    for source, name in ES_MODULES.items():
        target = vendor / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_linked(node_modules, source), "utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, copy nothing")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale()
        for name in out_of_date:
            print(f"out of date: {VENDOR / name}", file=sys.stderr)
        return 1 if out_of_date else 0
    for path in copy():
        print(f"vendored {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
