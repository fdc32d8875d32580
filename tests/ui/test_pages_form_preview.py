"""The form editor's live preview: the edited document drawn as a task would draw it."""

from __future__ import annotations

import html
import json
import re

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


def saved_version(world: World, label: str) -> None:
    client = world.client("designer")
    page = text(client.get("/admin/forms/report_review"))
    document = re.search(r'<textarea id="document"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    document = html.unescape(document).replace('"zh": "审核结果"', f'"zh": "{label}"')
    assert post(client, "/admin/forms/report_review", {"document": document}).status_code == 302


def test_each_version_of_a_form_downloads(world: World) -> None:
    saved_version(world, "中心审核意见")
    client = world.client("designer")
    first = client.get("/admin/forms/report_review/1.form.json")
    second = client.get("/admin/forms/report_review/2.form.json")
    assert first.headers["Content-Disposition"] == 'attachment; filename="report_review.form.json"'
    assert "审核结果" in first.get_data(as_text=True)
    assert "中心审核意见" in second.get_data(as_text=True)
    assert client.get("/admin/forms/report_review/9.form.json").status_code == 404


def test_two_versions_of_a_form_compare_line_by_line(world: World) -> None:
    saved_version(world, "中心审核意见")
    page = text(world.client("designer").get("/admin/forms/report_review/diff?from=1&to=2"))
    diff = page[page.index("data-diff") :]
    assert "审核结果" in diff and "中心审核意见" in diff and 'class="diff-add"' in diff


def test_an_agent_may_not_download_forms(world: World) -> None:
    assert world.client("agent").get("/admin/forms/report_review/1.form.json").status_code == 403
