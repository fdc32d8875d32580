"""Serving under gunicorn. Embedded mode uses one process (it also fires the timers)."""

from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # noqa: ANN201
        from . import create_app

        return create_app()


def run_server(host: str, port: int) -> None:
    embedded = not os.environ.get("REDIS_URL")
    workers = 1 if embedded else int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) * 2))
    _Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": 8,
            "worker_class": "gthread",
            "accesslog": "-",
            "timeout": 60,
            # gunicorn's largest request line: the longest query the API declares (GET /tasks,
            # every text parameter at its maxLength in 4-byte characters, percent-encoded)
            # fits, where the default 4,094 bytes answered schema-valid searches with 414
            "limit_request_line": 8190,
        }
    ).run()
