"""Browser tests: Playwright (PyPI) driving Debian's Chromium against the real app.

Fixtures
- ``chromium_executable`` (session): the path of Debian's ``chromium`` (or ``CSM_CHROMIUM``);
  missing, it skips the browser tests, and fails them in CI (``CI`` set).
- ``live_server`` (session): the app in a process of its own (``tests/browser/live_app.py``,
  werkzeug, threaded) on a free port, against a fresh SQLite database built by the real
  migrations; ``live_server.url`` is its base URL, ``live_server.database_url`` the database,
  ``live_server.url_for(path)`` an absolute URL. Pages under ``/_test/`` exist only here.
- ``browser`` (session): the Playwright ``Browser``.
- ``browser_context_args`` (function): keyword arguments for ``browser.new_context``; override
  it in a test module to change the viewport, locale, etc.
- ``context`` (function): a fresh ``BrowserContext`` (own cookies) whose ``base_url`` is the
  live server, so ``page.goto("/tasks")`` works.
- ``page`` (function): a ``Page`` in that context. When the test fails, a full-page screenshot
  and the page's HTML go to ``test-output/screenshots/<test-name>.png`` / ``.html``.

Every test under tests/browser gets the ``browser`` marker (``-m "not browser"`` leaves them out).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
IN_CI = bool(os.environ.get("CI"))
HERE = Path(__file__).resolve().parent
# As the machine's notes advise for a closed network: no background connections, no updates.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 60


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    """Keep each phase's report on the item, so ``page`` knows at teardown if the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI must run the browser tests: apt-get install -y chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = os.environ.get("CSM_CHROMIUM") or shutil.which("chromium")
    if not path:
        _unavailable("Debian's chromium is not installed")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _unavailable('playwright is not installed (pip install -e ".[test]")')
    return path


@dataclass
class LiveServer:
    url: str
    database_url: str
    process: subprocess.Popen
    log_path: Path

    def url_for(self, path: str) -> str:
        return self.url + path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _worker_name() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@contextmanager
def serve(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    *,
    demo: bool = False,
    test_pages: bool = False,
) -> Iterator[LiveServer]:
    """The app in a process of its own on a fresh database built by the real migrations (as
    ``csm db upgrade`` runs them), with the demo (``bare()`` size) loaded when asked."""
    from engine.migrate import upgrade

    database_url = f"sqlite:///{tmp_path_factory.mktemp(f'{name}-db') / 'csm.sqlite'}"
    upgrade(database_url)
    if demo:
        load_bare_demo(database_url)
    OUTPUT.mkdir(exist_ok=True)
    log_path = OUTPUT / f"{name}-{_worker_name()}.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("DATABASE_URL", None)  # the server uses the database given on its command line
    env.pop("REDIS_URL", None)
    env["CSM_INSTANCE_DIR"] = str(tmp_path_factory.mktemp(f"{name}-instance"))
    command = [sys.executable, "-m", "tests.browser.live_app", "--database-url", database_url]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*command, *(["--test-pages"] if test_pages else [])],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        port = _wait_for_port(process, log_path)
        # keep draining stdout so the server never blocks on a full pipe
        threading.Thread(target=process.stdout.read, daemon=True).start()
        try:
            yield LiveServer(f"http://127.0.0.1:{port}", database_url, process, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def load_bare_demo(database_url: str) -> None:
    """The demo organisation, users, processes, forms and sample instances (idempotent)."""
    from aftersales.demo.world import bare
    from engine.db import make_engine, make_session_factory
    from webapp.demo import load_demo

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            for _line in load_demo(session, bare()):
                pass
            session.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory, "live-server", test_pages=True) as server:
        yield server


@pytest.fixture(scope="session")
def demo_server(live_server: LiveServer) -> LiveServer:
    """The live server with the demo organisation, users, processes, forms and instances."""
    load_bare_demo(live_server.database_url)
    return live_server


@pytest.fixture
def db(demo_server: LiveServer) -> Iterator[object]:
    """A session on the live server's database, to find the world's facts and check what
    the pages stored."""
    from engine.db import make_engine, make_session_factory

    engine = make_engine(demo_server.database_url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _wait_for_port(process: subprocess.Popen, log_path: Path) -> int:
    result: dict[str, str] = {}

    def read_first_line() -> None:
        result["line"] = process.stdout.readline()

    reader = threading.Thread(target=read_first_line, daemon=True)
    reader.start()
    reader.join(SERVER_START_TIMEOUT_S)
    match = re.match(r"LISTENING (\d+)", result.get("line", ""))
    if not match:
        process.kill()
        log = log_path.read_text(errors="replace")[-4000:]
        pytest.fail(f"the live server did not start; its log ({log_path}):\n{log}")
    return int(match.group(1))


@pytest.fixture(scope="session")
def browser(chromium_executable: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_context_args() -> dict:
    return {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def context(browser, live_server: LiveServer, browser_context_args: dict) -> Iterator[object]:  # noqa: ANN001
    context = browser.new_context(base_url=live_server.url, **browser_context_args)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context, request: pytest.FixtureRequest) -> Iterator[object]:  # noqa: ANN001
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        _save_failure(page, request.node.name)


def _save_failure(page, test_name: str) -> None:  # noqa: ANN001
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.\[\]-]+", "_", test_name)
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        (SCREENSHOTS / f"{name}.html").write_text(page.content())
    except Exception as exc:  # a screenshot must not hide the test's own failure
        print(f"could not save a screenshot of {test_name}: {exc}", file=sys.stderr)
