"""Timers fire by themselves: through a real Celery worker and beat, or in embedded mode."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from engine.commands import StartInstance
from tests.conftest import IN_CI
from tests.helpers import task_names

pytestmark = pytest.mark.integration
REDIS_URL = os.environ.get("REDIS_URL", "")
CSM = str(Path(sys.executable).with_name("csm"))


def _wait_for(predicate, seconds: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        if IN_CI:
            pytest.fail("CI needs REDIS_URL pointing at Redis")
        pytest.skip("REDIS_URL is not set")
    return REDIS_URL


def test_a_celery_worker_and_beat_fire_a_due_timer(engine_env, database_url, redis_url, tmp_path):
    engine_env.deploy("short_timer.bpmn")
    started = engine_env.run(StartInstance("short_timer"))
    assert task_names(engine_env.session_factory, started.id) == []

    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CSM_CELERY_QUEUE=f"test-{uuid.uuid4().hex[:8]}",
        CSM_TIMER_INTERVAL_S="0.5",
    )
    worker = subprocess.Popen(
        [CSM, "worker", "--pool=solo", "--without-heartbeat", "--without-mingle"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "worker.log").open("w"),
    )
    beat = subprocess.Popen(
        [CSM, "beat", "--schedule", str(tmp_path / "beat-schedule")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "beat.log").open("w"),
    )
    try:
        fired = _wait_for(
            lambda: task_names(engine_env.session_factory, started.id) == ["after"], 60
        )
    finally:
        for process in (beat, worker):
            process.terminate()
        for process in (beat, worker):
            process.wait(timeout=30)
    logs = (tmp_path / "worker.log").read_text()[-3000:]
    assert fired, f"timer did not fire; worker log:\n{logs}"


def test_embedded_mode_fires_due_timers_in_the_web_process(engine_env, database_url):
    from webapp import create_app

    engine_env.deploy("short_timer.bpmn")
    started = engine_env.run(StartInstance("short_timer"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "SECRET_KEY": "test",
            "EMBEDDED_TIMERS": True,
            "TIMER_INTERVAL_S": 0.2,
        }
    )
    threads = [app.extensions["csm_timer_thread"], app.extensions["csm_import_thread"]]
    try:
        assert _wait_for(
            lambda: task_names(engine_env.session_factory, started.id) == ["after"], 15
        )
    finally:
        for thread in threads:
            thread.stop.set()
            thread.join(timeout=10)
