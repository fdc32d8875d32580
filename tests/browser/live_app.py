"""The app as the browser tests see it: a separate process on a free port.

    python -m tests.browser.live_app --database-url URL [--test-pages]

Prints ``LISTENING <port>`` once it accepts connections, then serves (werkzeug, threaded)
until terminated. A process of its own keeps the server's globals (the engine's spec cache,
Flask-Babel's caches) apart from the tests'. ``--test-pages`` adds pages that exist only for
the browser tests (under ``/_test/``), such as a sample of every layout element.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flask import Blueprint, Flask, flash, render_template
from werkzeug.serving import make_server

from engine.db import engine_options
from webapp import create_app
from webapp.policy import OPEN, declare

test_pages = Blueprint(
    "browser_test",
    __name__,
    url_prefix="/_test",
    template_folder=str(Path(__file__).resolve().parent / "templates"),
)


@test_pages.get("/layout")
def layout_sample():  # noqa: ANN201
    """Every element of the layout at once: nav, flashes, form errors, a stacked table."""
    flash("Saved.", "success")
    flash("Something needs your attention.", "warning")
    flash("Could not save: the task was completed meanwhile.", "error")
    rows = [
        {
            "title": f"维修单 R2026{n:05d} 上门检查空调不制冷，客户要求尽快处理",
            "process": "repair",
            "group": "outlets",
            "due": f"2026-11-2{n % 10} 18:00",
            "priority": (90, 50, 10)[n % 3],
            "overdue": n % 4 == 0,
        }
        for n in range(1, 9)
    ]
    return render_template("layout_sample.html", rows=rows, total=135)


def build_app(database_url: str, with_test_pages: bool) -> Flask:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
            "SECRET_KEY": "browser-tests",
            "EMBEDDED_TIMERS": False,
        }
    )
    if with_test_pages:
        app.register_blueprint(test_pages)
        declare(app, "browser_test.layout_sample", OPEN)  # the route policy covers it too
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--test-pages", action="store_true")
    args = parser.parse_args(argv)
    app = build_app(args.database_url, args.test_pages)
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"LISTENING {server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
