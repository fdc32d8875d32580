"""package.json pins, and scripts/vendor_assets.py copying from node_modules."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_script():  # noqa: ANN201
    spec = importlib.util.spec_from_file_location(
        "vendor_assets", ROOT / "scripts/vendor_assets.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_package_json_pins_exact_versions() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert package["private"] is True
    deps = package["dependencies"]
    assert deps["htmx.org"].startswith("2.0.")
    assert deps["signature_pad"].startswith("5.")
    for name, version in deps.items():
        assert version[0].isdigit(), f"{name} is not pinned exactly: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_copies_the_dist_files(tmp_path: Path) -> None:
    script = load_script()
    node_modules = tmp_path / "node_modules"
    for source in script.FILES:
        path = node_modules / source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"// {source}\n")
    vendor = tmp_path / "vendor"
    assert script.stale(node_modules, vendor) == list(script.FILES.values())
    written = script.copy(node_modules, vendor)
    assert sorted(p.relative_to(vendor).as_posix() for p in written) == sorted(
        script.FILES.values()
    )
    assert (vendor / "htmx.min.js").read_text() == "// htmx.org/dist/htmx.min.js\n"
    assert script.stale(node_modules, vendor) == []


def test_fails_clearly_without_node_modules(tmp_path: Path) -> None:
    script = load_script()
    with pytest.raises(SystemExit, match="npm ci --no-audit --no-fund"):
        script.copy(tmp_path / "node_modules", tmp_path / "vendor")
    (tmp_path / "node_modules").mkdir()
    with pytest.raises(SystemExit, match="not in node_modules: htmx.org/dist/htmx.min.js"):
        script.copy(tmp_path / "node_modules", tmp_path / "vendor")
