"""The session signing key: required outside demo mode (``CSM_DEMO=1``), and in demo mode
generated once into the instance folder, atomically, readable by its owner only."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from webapp import create_app
from webapp.cli import cli
from webapp.config import ConfigError, instance_key

ROOT = Path(__file__).resolve().parents[2]
TEST_DB = {"SQLALCHEMY_ENGINE_OPTIONS": {}, "EMBEDDED_TIMERS": False, "TESTING": True}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No key, no demo flag, an empty instance folder and database of the test's own."""
    monkeypatch.delenv("CSM_SECRET_KEY", raising=False)
    monkeypatch.delenv("CSM_DEMO", raising=False)
    monkeypatch.setenv("CSM_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    return tmp_path / "instance"


def test_the_app_refuses_to_start_without_a_key_outside_demo_mode(env: Path) -> None:
    with pytest.raises(ConfigError, match="CSM_SECRET_KEY is not set"):
        create_app(TEST_DB)
    assert not (env / "secret_key").exists()


def test_csm_serve_refuses_to_start_without_a_key_and_says_what_to_set(env: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "1"])
    assert result.exit_code == 1
    assert "CSM_SECRET_KEY is not set" in result.stderr
    assert "CSM_DEMO=1" in result.stderr
    assert "Traceback" not in result.output


def test_a_short_key_is_refused(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSM_SECRET_KEY", "change-me")
    with pytest.raises(ConfigError, match="at least 16 characters"):
        create_app(TEST_DB)


def test_the_key_from_the_environment_signs_the_sessions(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSM_SECRET_KEY", "k" * 32)
    assert create_app(TEST_DB).config["SECRET_KEY"] == "k" * 32
    assert not (env / "secret_key").exists()


def test_demo_mode_generates_a_key_once_readable_by_its_owner_only(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSM_DEMO", "1")
    first = create_app(TEST_DB).config["SECRET_KEY"]
    second = create_app(TEST_DB).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    mode = stat.S_IMODE((env / "secret_key").stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in env.iterdir()] == ["secret_key"]  # no temporary file left


def test_an_empty_key_file_is_refused_not_used(env: Path) -> None:
    env.mkdir(parents=True)
    (env / "secret_key").write_text("")
    with pytest.raises(ConfigError, match="is empty"):
        instance_key(env)


def _race(folder: str, barrier, keys) -> None:  # noqa: ANN001
    barrier.wait()
    keys.put(instance_key(Path(folder)))


def test_processes_starting_at_once_end_up_with_the_same_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    count = 8
    barrier, keys = context.Barrier(count), context.Queue()
    workers = [
        context.Process(target=_race, args=(str(tmp_path), barrier, keys)) for _ in range(count)
    ]
    for worker in workers:
        worker.start()
    found = {keys.get(timeout=30) for _ in workers}
    for worker in workers:
        worker.join(timeout=30)
    assert len(found) == 1
    assert found == {(tmp_path / "secret_key").read_text()}


def test_a_malformed_proxy_setting_is_refused_naming_the_variable(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSM_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("CSM_PROXY_FIX", "x_for=one")
    with pytest.raises(ConfigError, match="CSM_PROXY_FIX"):
        create_app(TEST_DB)


def test_the_demo_script_runs_in_demo_mode_and_compose_requires_a_key() -> None:
    assert "export CSM_DEMO=1" in (ROOT / "scripts" / "serve.sh").read_text()
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "CSM_SECRET_KEY: ${CSM_SECRET_KEY:?" in compose
