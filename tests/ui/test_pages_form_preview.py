"""The form editor's live preview: the edited document drawn as a task would draw it."""

from __future__ import annotations

import json

from . import pages
from .pages import World, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

FORM = {
    "key": "review",
    "title": {"zh": "回访确认", "en": "Callback check"},
    "schema": {
        "type": "object",
        "required": ["reached"],
        "properties": {"reached": {"type": "boolean"}, "note": {"type": "string"}},
    },
    "ui": {
        "order": ["reached", "note"],
        "fields": {
            "reached": {"widget": "radio", "label": {"zh": "是否联系上", "en": "Reached?"}},
            "note": {"widget": "textarea", "label": {"zh": "备注", "en": "Note"}},
        },
    },
}


def preview(world: World, document: str, locale: str = "zh", user: str = "designer"):  # noqa: ANN201
    return post(
        world.client(user),
        "/admin/forms/review/preview",
        {"document": document, "locale": locale},
    )


def test_the_preview_draws_the_fields_with_their_labels(world: World) -> None:
    page = text(preview(world, json.dumps(FORM, ensure_ascii=False)))
    assert "回访确认" in page and "是否联系上" in page and 'name="note"' in page
    assert "<fieldset disabled" in page  # a preview, not a form to submit


def test_the_preview_follows_the_chosen_language(world: World) -> None:
    page = text(preview(world, json.dumps(FORM), locale="en"))
    assert "Callback check" in page and "Reached?" in page


def test_broken_json_shows_where_it_breaks(world: World) -> None:
    page = text(preview(world, '{"key": "review",'))
    problems = page[page.index("data-preview-problems") :]
    assert "invalid JSON" in problems


def test_a_widget_that_does_not_fit_its_field_is_named(world: World) -> None:
    broken = json.loads(json.dumps(FORM))
    broken["ui"]["fields"]["note"]["widget"] = "table"
    page = text(preview(world, json.dumps(broken)))
    assert "data-preview-problems" in page and "note" in page


def test_an_agent_gets_no_preview(world: World) -> None:
    assert preview(world, json.dumps(FORM), user="agent").status_code == 403


def test_the_preview_saves_nothing(world: World) -> None:
    preview(world, json.dumps(FORM))
    page = text(world.client("designer").get("/admin/forms/review"))
    assert "回访确认" not in page
