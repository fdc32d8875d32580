"""The front-end files the staff UI serves from ``static/vendor/`` and the check that they are
there.

They are copied from ``node_modules`` by ``scripts/vendor_assets.py`` (which reads ``FILES``
from this file by its path, so it runs before the project is installed) and are not in git, so
a package built from a tree where nobody ran npm has none: the app then refuses to start and
names the commands that build them, instead of serving pages whose scripts are missing.
Standard library only.

Most files are copied as they are (``FILES``). The ES modules in ``ES_MODULES`` are copied
with their imports linked: a browser resolves no bare name such as ``'min-dash'`` without an
import map, and an import map is inline script, which the pages' Content-Security-Policy does
not run; so each bare import becomes the relative path of that package's vendored module,
which the policy allows like any script of this site (``linked_module``).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
BUILD_COMMAND = "npm ci --no-audit --no-fund && python3 scripts/vendor_assets.py"

# source under node_modules -> name under webapp/static/vendor (the URL is /static/vendor/NAME)
FILES = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "htmx.org/LICENSE": "htmx.LICENSE.txt",
    "signature_pad/dist/signature_pad.umd.min.js": "signature_pad.umd.min.js",
    "signature_pad/dist/signature_pad.umd.min.js.map": "signature_pad.umd.min.js.map",
    "signature_pad/LICENSE": "signature_pad.LICENSE.txt",
    "bpmn-js/LICENSE": "bpmn-js/LICENSE.txt",
    "bpmn-js/dist/bpmn-navigated-viewer.production.min.js": "bpmn-js/bpmn-navigated-viewer.min.js",
    "bpmn-js/dist/bpmn-modeler.production.min.js": "bpmn-js/bpmn-modeler.min.js",
    "bpmn-js/dist/assets/diagram-js.css": "bpmn-js/diagram-js.css",
    "bpmn-js/dist/assets/bpmn-js.css": "bpmn-js/bpmn-js.css",
    "bpmn-js/dist/assets/bpmn-font/css/bpmn.css": "bpmn-js/bpmn-font/css/bpmn.css",
    **{
        f"bpmn-js/dist/assets/bpmn-font/font/bpmn.{ext}": f"bpmn-js/bpmn-font/font/bpmn.{ext}"
        for ext in ("eot", "svg", "ttf", "woff", "woff2")
    },
    "dmn-js/LICENSE": "dmn-js/LICENSE.txt",
    "dmn-js/dist/dmn-modeler.production.min.js": "dmn-js/dmn-modeler.min.js",
    **{
        f"dmn-js/dist/assets/{name}.css": f"dmn-js/{name}.css"
        for name in (
            "diagram-js",
            "dmn-js-shared",
            "dmn-js-drd",
            "dmn-js-decision-table",
            "dmn-js-decision-table-controls",
            "dmn-js-literal-expression",
            "dmn-js-boxed-expression",
            "dmn-js-boxed-expression-controls",
        )
    },
    "dmn-js/dist/assets/dmn-font/css/dmn.css": "dmn-js/dmn-font/css/dmn.css",
    **{
        f"dmn-js/dist/assets/dmn-font/font/dmn.{ext}": f"dmn-js/dmn-font/font/dmn.{ext}"
        for ext in ("eot", "svg", "ttf", "woff", "woff2")
    },
}

# ES modules (source under node_modules -> name under static/vendor), imports linked.
# bpmn-auto-layout draws a process deployed without a diagram layout (no bpmndi section);
# the others are what it imports (bpmn-js bundles its own copies, which it does not export).
ES_MODULES = {
    "bpmn-auto-layout/dist/index.js": "bpmn-auto-layout/bpmn-auto-layout.js",
    "bpmn-moddle/dist/index.js": "bpmn-auto-layout/bpmn-moddle.js",
    "moddle/dist/index.js": "bpmn-auto-layout/moddle.js",
    "moddle-xml/dist/index.js": "bpmn-auto-layout/moddle-xml.js",
    "saxen/dist/index.js": "bpmn-auto-layout/saxen.js",
    "min-dash/dist/index.js": "bpmn-auto-layout/min-dash.js",
}
FILES.update(
    {
        f"{package}/LICENSE": f"bpmn-auto-layout/{package}.LICENSE.txt"
        for package in ("bpmn-moddle", "moddle", "moddle-xml", "saxen", "min-dash")
    }
)

# `import x from 'pkg'`, `export * from "pkg"`, `import 'pkg'`: a specifier that is not a path
_BARE_IMPORT = re.compile(r"""(\b(?:from|import)\s*)(['"])(@?[a-z0-9][\w.-]*(?:/[\w.-]+)*)\2""")
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


class UnlinkedImport(ValueError):
    """An ES module imports a package that ``ES_MODULES`` does not vendor."""


def _package(source: str) -> str:
    parts = source.split("/")
    return "/".join(parts[:2]) if source.startswith("@") else parts[0]


def linked_module(source: str, text: str) -> str:
    """The ES module ``source`` (its text) as served: each bare import made the relative path
    of the vendored module of that package, and the source-map comment dropped (the maps
    are not vendored). Raises UnlinkedImport for a package that is not vendored."""
    name = ES_MODULES[source]
    vendored = {_package(s): n for s, n in ES_MODULES.items()}

    def link(match: re.Match[str]) -> str:
        keyword, quote, specifier = match.groups()
        target = vendored.get(specifier)
        if target is None:
            raise UnlinkedImport(f"{source} imports {specifier!r}, which is not vendored")
        path = posixpath.relpath(target, posixpath.dirname(name))
        return f"{keyword}{quote}{path if path.startswith('.') else './' + path}{quote}"

    return _SOURCE_MAP.sub("", _BARE_IMPORT.sub(link, text))


def served() -> list[str]:
    """Every name under ``static/vendor`` the pages use, copied or linked."""
    return [*FILES.values(), *ES_MODULES.values()]


class MissingAssets(RuntimeError):
    """The package was built without its front-end files."""


def missing(vendor: Path | None = None) -> list[str]:
    """Names under ``vendor`` (the package's own by default) that the pages need and lack."""
    vendor = vendor or VENDOR
    return sorted(name for name in served() if not (vendor / name).is_file())


def require(vendor: Path | None = None) -> None:
    """Refuse to start without the vendored files, naming what builds them."""
    vendor = vendor or VENDOR
    absent = missing(vendor)
    if absent:
        raise MissingAssets(
            f"the front-end files are missing from {vendor} ({', '.join(absent[:3])}"
            f"{', ...' if len(absent) > 3 else ''}): run `{BUILD_COMMAND}` in the source "
            "tree, then install the project again (pip install .)"
        )
