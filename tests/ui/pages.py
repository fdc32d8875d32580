"""The page tests' helpers: the demo world (``world``, built once and copied for each test, see
tests/worlds.py), signing in, form posts with the page's token, reading what a page shows."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.worlds import World, csrf, login, world

__all__ = [
    "World",
    "counts",
    "csrf",
    "field_block",
    "flashes",
    "listed_tasks",
    "login",
    "post",
    "text",
    "world",
]


def post(client: FlaskClient, path: str, data: dict | None = None, **kwargs: object):  # noqa: ANN201
    """A form post with the token of the current session, as the page's form sends it."""
    return client.post(
        path, data={**(data or {}), "csrf_token": csrf(client, "/nowhere")}, **kwargs
    )


def text(response) -> str:  # noqa: ANN001
    assert response.content_type.startswith("text/html"), response.content_type
    return response.get_data(as_text=True)


def field_block(page: str, name: str) -> str:
    """The HTML of the form row of field ``name`` (its label, input and errors)."""
    start = page.index(f'data-field="{name}"')
    end = page.find('data-field="', start + 1)
    return page[start : end if end != -1 else len(page)]


def counts(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-count="(\w+)">([^<]*)<', page))


def listed_tasks(page: str) -> list[str]:
    return re.findall(r'data-task="([^"]+)"', page)


def flashes(page: str) -> str:
    return " ".join(re.findall(r'class="flash[^"]*"[^>]*>(.*?)</', page, re.S))
