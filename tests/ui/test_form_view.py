"""How a form's fields render: the labels the form gives its choices, yes/no ones included."""

from __future__ import annotations

import json
from pathlib import Path

from flask import render_template_string

from webapp.ui.form_view import form_fields

FORMS = Path(__file__).resolve().parents[2] / "forms"
MACRO = '{% from "macros/form_fields.html" import form_fields %}{{ form_fields(fields) }}'


def review_form() -> dict:
    return json.loads((FORMS / "report_review.form.json").read_text(encoding="utf-8"))


def test_a_yes_no_radio_takes_the_labels_the_form_gives_it() -> None:
    approved = form_fields(review_form(), {}, {}, "zh")[0]
    assert approved.options == [(True, "通过"), (False, "退回")]


def test_the_labels_follow_the_locale() -> None:
    approved = form_fields(review_form(), {}, {}, "en")[0]
    assert [label for _, label in approved.options] == ["Approve", "Return"]


def test_a_yes_no_radio_without_labels_says_yes_and_no(app) -> None:  # noqa: ANN001
    form = {
        "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
        "ui": {"fields": {"ok": {"widget": "radio", "label": {"zh": "可以", "en": "OK"}}}},
    }
    with app.test_request_context():
        html = render_template_string(MACRO, fields=form_fields(form, {}, {}, "zh"))
    assert "> 是</label>" in html and "> 否</label>" in html


def test_the_rendered_radio_shows_the_forms_labels(app) -> None:  # noqa: ANN001
    with app.test_request_context():
        html = render_template_string(MACRO, fields=form_fields(review_form(), {}, {}, "zh"))
    assert "> 通过</label>" in html and "> 退回</label>" in html
