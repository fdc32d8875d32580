"""A service type deployed while the server runs is usable at once in every web process:
``csm serve`` with two gunicorn workers, a type deployed through the API, then every answer
of either process lists it and opens orders of it. No restart, no stale cache."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.commands import Deploy, execute
from engine.identity import SYSTEM_ACTOR, issue_token
from engine.models import User
from tests.environment import IN_CI, REPAIR_FILES, REPO_DIR

CSM = str(Path(sys.executable).with_name("csm"))
REDIS_URL = os.environ.get("REDIS_URL", "")
WORKERS = 2


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        if IN_CI:
            pytest.fail("CI needs REDIS_URL pointing at Redis")
        pytest.skip("REDIS_URL is not set: the server runs one process without it")
    return REDIS_URL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, token: str, body: dict | None = None, files: bytes | None = None) -> tuple:
    """One request on a fresh connection (so the kernel may hand it to either process)."""
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    if files is not None:
        boundary = uuid.uuid4().hex
        data = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="warranty_repair.service.json"\r\nContent-Type: application/json\r\n\r\n'
            ).encode()
            + files
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"null")


def warranty_repair() -> bytes:
    document = json.loads((REPO_DIR / "bpmn" / "repair.service.json").read_text("utf-8"))
    document.update(
        key="warranty_repair",
        name={"zh": "保内维修单", "en": "Warranty repair"},
        prefix="WR",
        open={"roles": ["agent"], "groups": []},
    )
    return json.dumps(document, ensure_ascii=False).encode()


def test_a_type_deployed_while_serving_is_usable_in_every_process(
    engine_env, database_url, redis_url, tmp_path
) -> None:  # noqa: ANN001
    files = [(p, (REPO_DIR / p).read_bytes()) for p in REPAIR_FILES]
    support = "forms/phone_support.form.json"
    files.append((support, (REPO_DIR / support).read_bytes()))
    with engine_env.session_factory() as session:
        execute(session, Deploy(files), SYSTEM_ACTOR)
        tokens = {
            name: issue_token(session, session.scalar(sa.select(User).filter_by(username=name)))
            for name in ("admin", "agent")
        }
        session.commit()
    port = free_port()
    log = tmp_path / "serve.log"
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        WEB_CONCURRENCY=str(WORKERS),
        CSM_SECRET_KEY=uuid.uuid4().hex,
        CSM_CELERY_QUEUE=f"test-{uuid.uuid4().hex[:8]}",
    )
    server = subprocess.Popen(
        [CSM, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            booted = re.findall(r"Booting worker with pid: (\d+)", log.read_text())
            if len(booted) >= WORKERS:
                try:
                    if call(f"{base}/service-types", tokens["agent"])[0] == 200:
                        break
                except OSError:
                    pass
            time.sleep(0.3)
        else:
            pytest.fail(f"the server did not start:\n{log.read_text()[-3000:]}")
        for _ in range(8):  # every process has read the types before the new one exists
            status, listed = call(f"{base}/service-types", tokens["agent"])
            assert status == 200 and "warranty_repair" not in {t["key"] for t in listed["items"]}

        status, deployed = call(f"{base}/deployments", tokens["admin"], files=warranty_repair())
        assert status == 201, deployed

        for _ in range(12):
            status, listed = call(f"{base}/service-types", tokens["agent"])
            keys = {t["key"] for t in listed["items"]}
            assert status == 200 and "warranty_repair" in keys
        numbers = set()
        for i in range(4):
            status, order = call(
                f"{base}/orders",
                tokens["agent"],
                body={
                    "type": "warranty_repair",
                    "customer": {"name": "冯岚", "phone": f"1390000777{i}"},
                    "description": "冰箱不制冷",
                },
            )
            assert status == 201, order
            numbers.add(order["number"])
        assert all(n.startswith("WR") for n in numbers) and len(numbers) == 4
        booted = set(re.findall(r"Booting worker with pid: (\d+)", log.read_text()))
        assert len(booted) == WORKERS
    finally:
        server.terminate()
        server.wait(timeout=30)
