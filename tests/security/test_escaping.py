"""The escaping holes found while putting the pages under the Content-Security-Policy stay
closed: a value someone typed cannot leave the attribute or text it is written into."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import sqlalchemy as sa

from engine.commands import SetVariables, Suspend
from engine.models import ProcessInstance
from tests.ui import pages
from tests.ui.pages import World, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

HOSTILE = [
    """x" autofocus onfocus="alert(1)""",
    """x' autofocus onfocus='alert(1)""",
    """</script><script>alert(1)</script>""",
    """{{ 7*7 }} <img src=x onerror=alert(1)>""",
]


class Elements(HTMLParser):
    """Every start tag with its attributes, as a browser's parser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _elements(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(page)
    return parser.tags


def _suspended_with(world: World, variables: dict[str, str]) -> int:
    with world.session_factory() as session:
        instance_id = session.scalar(
            sa.select(ProcessInstance.id).where(ProcessInstance.business_key == "DEMO-0003")
        )
    world.run(Suspend(instance_id), "admin")
    world.run(SetVariables(instance_id, variables), "admin")
    return instance_id


def test_data_values_in_the_operators_edit_form_stay_inside_their_attribute(world: World) -> None:
    values = {f"note{i}": value for i, value in enumerate(HOSTILE)}
    instance_id = _suspended_with(world, values)
    page = text(world.client("manager").get(f"/instances/{instance_id}"))
    inputs = {a.get("id"): a for tag, a in _elements(page) if tag == "input"}
    for name, value in values.items():
        assert inputs[f"v-{name}"]["value"] == value  # a text field holds the text itself
    assert not [a for _tag, a in _elements(page) if "onfocus" in a or "onerror" in a]
    assert "<script>alert(1)" not in page


def test_data_values_shown_to_readers_are_text(world: World) -> None:
    instance_id = _suspended_with(world, {"note": HOSTILE[3]})
    page = text(world.client("outlet2").get(f"/instances/{instance_id}"))  # reads, cannot edit
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_csrf_header_for_htmx_is_json_in_a_single_quoted_attribute(world: World) -> None:
    page = text(world.client("agent").get("/tasks"))
    body = next(a for tag, a in _elements(page) if tag == "body")
    assert set(json.loads(body["hx-headers"])) == {"X-CSRFToken"}
