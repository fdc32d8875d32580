"""The front-end files the staff UI serves from ``static/vendor/`` and the check that they are
there.

They are copied from ``node_modules`` by ``scripts/vendor_assets.py`` (which reads ``FILES``
from this file by its path, so it runs before the project is installed) and are not in git, so
a package built from a tree where nobody ran npm has none: the app then refuses to start and
names the commands that build them, instead of serving pages whose scripts are missing.
Standard library only.
"""

from __future__ import annotations

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


class MissingAssets(RuntimeError):
    """The package was built without its front-end files."""


def missing(vendor: Path | None = None) -> list[str]:
    """Names under ``vendor`` (the package's own by default) that the pages need and lack."""
    vendor = vendor or VENDOR
    return sorted(name for name in FILES.values() if not (vendor / name).is_file())


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
