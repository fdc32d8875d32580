"""package.json pins, and scripts/vendor_assets.py copying from node_modules."""

from __future__ import annotations

import importlib.util
import json
import re
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


def fake_node_modules(script, root: Path) -> Path:  # noqa: ANN001
    """Every file the script reads, each a one-line comment naming itself."""
    node_modules = root / "node_modules"
    for source in [*script.FILES, *script.ES_MODULES]:
        path = node_modules / source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"// {source}\n")
    return node_modules


def test_copies_the_dist_files(tmp_path: Path) -> None:
    script = load_script()
    node_modules = fake_node_modules(script, tmp_path)
    vendor = tmp_path / "vendor"
    served = [*script.FILES.values(), *script.ES_MODULES.values()]
    assert script.stale(node_modules, vendor) == served
    written = script.copy(node_modules, vendor)
    assert sorted(p.relative_to(vendor).as_posix() for p in written) == sorted(served)
    assert (vendor / "htmx.min.js").read_text() == "// htmx.org/dist/htmx.min.js\n"
    assert script.stale(node_modules, vendor) == []


def test_es_modules_are_served_with_their_imports_linked_to_each_other(tmp_path: Path) -> None:
    """A browser resolves no bare ``'min-dash'``, and an import map would be inline script:
    each import names the vendored file, relative to the importing one."""
    script = load_script()
    node_modules = fake_node_modules(script, tmp_path)
    (node_modules / "bpmn-auto-layout/dist/index.js").write_text(
        "import { BpmnModdle } from 'bpmn-moddle';\n"
        'import { assign } from "min-dash";\n'
        "import { layout } from './grid.js';\n"
        "export { layoutProcess };\n"
        "//# sourceMappingURL=index.js.map\n"
    )
    vendor = tmp_path / "vendor"
    script.copy(node_modules, vendor)
    assert (vendor / "bpmn-auto-layout/bpmn-auto-layout.js").read_text() == (
        "import { BpmnModdle } from './bpmn-moddle.js';\n"
        'import { assign } from "./min-dash.js";\n'
        "import { layout } from './grid.js';\n"  # a path already: left alone
        "export { layoutProcess };\n"
        "\n"
    )
    assert script.stale(node_modules, vendor) == []
    (vendor / "bpmn-auto-layout/min-dash.js").write_text("// changed by hand\n")
    assert script.stale(node_modules, vendor) == ["bpmn-auto-layout/min-dash.js"]


def test_an_es_module_importing_a_package_not_vendored_fails_clearly(tmp_path: Path) -> None:
    script = load_script()
    node_modules = fake_node_modules(script, tmp_path)
    (node_modules / "saxen/dist/index.js").write_text("import { x } from 'left-pad';\n")
    with pytest.raises(SystemExit, match="saxen/dist/index.js imports 'left-pad'.*ES_MODULES"):
        script.copy(node_modules, tmp_path / "vendor")


def test_the_real_auto_layout_modules_import_only_each_other() -> None:
    """The vendored graph is closed: every import of the real files resolves to one of them."""
    script = load_script()
    node_modules = ROOT / "node_modules"
    if not (node_modules / "bpmn-auto-layout").is_dir():
        pytest.skip("npm ci has not run")
    names = set(script.ES_MODULES.values())
    for source, name in script.ES_MODULES.items():
        linked = script._linked(node_modules, source)
        for target in re.findall(r"""^import .* from ['"](.+)['"];$""", linked, re.MULTILINE):
            assert f"bpmn-auto-layout/{target.removeprefix('./')}" in names, (name, target)


def test_fails_clearly_without_node_modules(tmp_path: Path) -> None:
    script = load_script()
    with pytest.raises(SystemExit, match="npm ci --no-audit --no-fund"):
        script.copy(tmp_path / "node_modules", tmp_path / "vendor")
    (tmp_path / "node_modules").mkdir()
    with pytest.raises(SystemExit, match="not in node_modules: htmx.org/dist/htmx.min.js"):
        script.copy(tmp_path / "node_modules", tmp_path / "vendor")
