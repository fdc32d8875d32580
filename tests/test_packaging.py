"""What `pip install .` (not editable) gives: a package that migrates, deploys and serves.

The wheel is built from the files git knows plus the vendored front-end files (what a fresh
clone has after the README's set-up), installed into a folder of its own and run from
outside the repository, so nothing can come from the source tree by accident.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from webapp import assets

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_dir(package: str) -> Path:
    """The folder in the repository a listed package comes from."""
    top, _, rest = package.partition(".")
    base = PYPROJECT.get("package-dir", {}).get(top, top)
    return ROOT / base / rest.replace(".", "/") if rest else ROOT / base


def test_every_python_package_of_the_tree_is_listed() -> None:
    listed = {_package_dir(p).resolve() for p in PYPROJECT["packages"]}
    tops = {_package_dir(p.partition(".")[0]) for p in PYPROJECT["packages"]}
    in_tree = {
        init.parent.resolve()
        for top in tops
        for init in top.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert in_tree <= listed, f"not in pyproject.toml: {sorted(map(str, in_tree - listed))}"


def test_the_dockerfile_copies_every_package_folder() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) \1$", dockerfile, re.MULTILINE))
    needed = {
        str(_package_dir(p.partition(".")[0]).relative_to(ROOT)) for p in PYPROJECT["packages"]
    }
    assert needed <= copied, f"the Dockerfile does not copy {sorted(needed - copied)}"


def test_the_app_refuses_to_start_without_its_front_end_files(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(assets, "VENDOR", tmp_path / "vendor")
    from webapp import create_app

    with pytest.raises(assets.MissingAssets, match=re.escape(assets.BUILD_COMMAND)):
        create_app({"SECRET_KEY": "x" * 32})


def test_csm_serve_names_the_command_that_builds_the_front_end_files(tmp_path, monkeypatch) -> None:
    from webapp.cli import cli

    monkeypatch.setattr(assets, "VENDOR", tmp_path / "vendor")
    monkeypatch.setenv("CSM_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("CSM_INSTANCE_DIR", str(tmp_path / "instance"))
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert assets.BUILD_COMMAND in result.output
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel of a fresh clone (git's files plus the vendored assets), installed alone."""
    if assets.missing():
        pytest.fail(f"run `{assets.BUILD_COMMAND}` first")
    base = tmp_path_factory.mktemp("package")
    source = base / "source"
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (t.decode() for t in tracked)):
        if (ROOT / name).is_file() and not name.startswith("node_modules"):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    shutil.copytree(assets.VENDOR, source / "webapp" / "static" / "vendor")
    wheels = base / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), "."],
        cwd=source,
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("csm-*.whl")
    target = base / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target)]
        + [str(wheel)],
        check=True,
        capture_output=True,
    )
    return target


def _run(installed: Path, code: str, tmp_path: Path) -> dict:
    """Run ``code`` with only the installed package on the path (dependencies come from this
    virtualenv), in an empty folder, and answer the JSON it prints last."""
    env = {
        **os.environ,
        "PYTHONPATH": str(installed),
        "CSM_INSTANCE_DIR": str(tmp_path / "instance"),
        "CSM_SECRET_KEY": "s" * 32,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'csm.sqlite'}",
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_wheel_carries_templates_translations_migrations_processes_forms_and_assets(
    installed,
) -> None:
    def count(pattern: str, folder: Path) -> int:
        return len(list(folder.glob(pattern)))

    assert count("csm_migrations/versions/*.py", installed) == count(
        "migrations/versions/*.py", ROOT
    )
    assert count("csm_bpmn/*.bpmn", installed) == count("bpmn/*.bpmn", ROOT)
    assert count("csm_bpmn/*.dmn", installed) == count("bpmn/*.dmn", ROOT)
    assert count("forms/*.form.json", installed) == count("forms/*.form.json", ROOT)
    assert count("webapp/templates/**/*.html", installed) == count(
        "webapp/templates/**/*.html", ROOT
    )
    assert (installed / "webapp/translations/zh/LC_MESSAGES/messages.po").is_file()
    assert not [
        n for n in assets.served() if not (installed / "webapp/static/vendor" / n).is_file()
    ]


def test_the_installed_package_migrates_deploys_and_serves_in_chinese(installed, tmp_path) -> None:
    code = f"""
import json, sys
from click.testing import CliRunner
import engine, webapp, csm_bpmn
from webapp.cli import cli
from webapp.demo import BPMN_DIR, FORMS_DIR
assert all(m.__file__.startswith({str(installed)!r}) for m in (engine, webapp, csm_bpmn))
runner = CliRunner()
upgrade = runner.invoke(cli, ["db", "upgrade"])
deploy = runner.invoke(cli, ["deploy", str(BPMN_DIR), str(FORMS_DIR)])
from webapp import create_app
client = create_app().test_client()
login = client.get("/login")
htmx = client.get("/static/vendor/htmx.min.js")
print(json.dumps({{
    "upgrade": upgrade.exit_code, "deploy": deploy.exit_code, "deployed": deploy.output,
    "login": login.status_code, "login_text": login.get_data(as_text=True),
    "htmx": htmx.status_code,
}}))
"""
    answer = _run(installed, code, tmp_path)
    assert answer["upgrade"] == 0
    assert answer["deploy"] == 0, answer["deployed"]
    assert "repair 1 new" in answer["deployed"]
    # the retail entries are data files only: the wheel carries their processes, types, forms
    for key in ("consultation_entry", "return_exchange", "quick_return", "price_protection"):
        assert f"{key} 1 new" in answer["deployed"], key
    assert "vip_home_refund_entry 1 new" in answer["deployed"]
    assert "retail_callback 1 new" in answer["deployed"]
    assert "service_request 1 new" in answer["deployed"]
    assert answer["login"] == 200
    assert "登录" in answer["login_text"]
    assert answer["htmx"] == 200
