"""Turning a flat HTML form post into typed data; it never raises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from forms.coerce import coerce_post as coerce_post_itself
from forms.models import FormDefinition
from forms.validation import coerce_post, validate_data

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"

SCHEMA = {
    "type": "object",
    "required": ["name", "photos", "answer"],
    "properties": {
        "name": {"type": "string"},
        "note": {"type": "string"},
        "qty": {"type": "integer", "minimum": 0},
        "price": {"type": "number"},
        "agree": {"type": "boolean"},
        "answer": {"type": "boolean"},
        "level": {"type": "integer", "enum": [1, 2, 3]},
        "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}},
        "photos": {"type": "array", "items": {"type": "string"}},
        "serials": {"type": "array", "items": {"type": "string"}},
        "parts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "qty": {"type": "integer"},
                    "price": {"type": "number"},
                    "warranty": {"type": "boolean"},
                },
            },
        },
        "fixed": {"type": "string"},
    },
}
UI = {
    "fields": {
        "note": {"widget": "textarea"},
        "answer": {"widget": "radio"},
        "photos": {"widget": "photo"},
        "serials": {"widget": "textarea"},
        "fixed": {"readonly": True},
    }
}
FORM = {"schema": SCHEMA, "ui": UI}


def post(**fields: object) -> dict:
    return coerce_post(FORM, {k: v if isinstance(v, list) else [v] for k, v in fields.items()})


def test_coerce_post_is_importable_from_validation() -> None:
    assert coerce_post is coerce_post_itself


def test_a_text_field_is_stripped() -> None:
    assert post(name="  张三 ")["name"] == "张三"


def test_a_textarea_keeps_its_lines() -> None:
    assert post(note="第一行\r\n第二行 ")["note"] == "第一行\n第二行 "


def test_an_empty_string_omits_the_field_so_required_fires() -> None:
    data = post(name="   ", qty="")
    assert "name" not in data and "qty" not in data
    assert validate_data(SCHEMA, data)["name"] == ["此项为必填"]


@pytest.mark.parametrize(
    ("raw", "value"),
    [("42", 42), ("-3", -3), (" 7 ", 7), ("3.0", 3), ("1,000", 1000), ("3.5", 3.5)],
)
def test_an_integer_field_parses(raw: str, value: object) -> None:
    assert post(qty=raw)["qty"] == value


@pytest.mark.parametrize(
    ("raw", "value"),
    [("12.5", 12.5), ("12", 12), ("1,200.50", 1200.5), (".5", 0.5), ("1e3", 1000.0)],
)
def test_a_number_field_parses(raw: str, value: object) -> None:
    assert post(price=raw)["price"] == value


@pytest.mark.parametrize(
    "raw", ["abc", "12abc", "nan", "inf", "1e999", "1_000", "1,00", "9" * 5000]
)
def test_a_number_that_does_not_parse_stays_as_text_and_validation_says_so(raw: str) -> None:
    data = post(price=raw, qty=raw)
    assert data["price"] == raw.strip() and data["qty"] == raw.strip()
    found = validate_data(SCHEMA, data)
    assert found["price"] == ["请输入数字"] and found["qty"] == ["请输入整数"]


def test_an_integer_enum_select_posts_a_number() -> None:
    assert post(level="2")["level"] == 2


def test_an_absent_checkbox_is_false() -> None:
    assert post()["agree"] is False


@pytest.mark.parametrize("raw", ["on", "true", "1", "yes"])
def test_a_checked_checkbox_is_true(raw: str) -> None:
    assert post(agree=raw)["agree"] is True


def test_a_hidden_false_before_a_checked_box_is_true() -> None:
    assert post(agree=["false", "on"])["agree"] is True


def test_an_absent_yes_no_radio_is_omitted_so_required_fires() -> None:
    assert "answer" not in post()


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("false", False)])
def test_a_yes_no_radio_posts_a_boolean(raw: str, value: bool) -> None:
    assert post(answer=raw)["answer"] is value


def test_a_garbage_boolean_stays_as_text_and_validation_says_so() -> None:
    data = post(answer="maybe")
    assert data["answer"] == "maybe"
    assert validate_data(SCHEMA, data)["answer"] == ["请选择是或否"]


def test_a_multi_checkbox_posts_every_checked_value() -> None:
    assert post(tags=["a", "c"])["tags"] == ["a", "c"]


def test_a_multi_checkbox_with_nothing_checked_is_an_empty_list() -> None:
    assert post()["tags"] == []


def test_a_required_array_with_nothing_posted_is_omitted() -> None:
    assert "photos" not in post(photos=["", " "])


def test_photos_post_their_attachment_ids() -> None:
    assert post(photos=["att-1", "att-2"])["photos"] == ["att-1", "att-2"]


def test_an_array_textarea_posts_one_value_per_line() -> None:
    assert post(serials="SN1\r\n\r\nSN2 \n")["serials"] == ["SN1", "SN2"]


def test_table_rows_become_row_objects_in_index_order() -> None:
    data = post(
        **{
            "parts-1-code": "P2",
            "parts-1-qty": "1",
            "parts-0-code": "P1",
            "parts-0-qty": "2",
            "parts-0-price": "9.9",
            "parts-0-warranty": "on",
        }
    )
    assert data["parts"] == [
        {"code": "P1", "qty": 2, "price": 9.9, "warranty": True},
        {"code": "P2", "qty": 1, "warranty": False},
    ]


def test_fully_empty_table_rows_are_skipped() -> None:
    data = post(
        **{"parts-0-code": "", "parts-0-qty": " ", "parts-1-code": "P1", "parts-2-code": ""}
    )
    assert data["parts"] == [{"code": "P1", "warranty": False}]


def test_an_unparsable_cell_stays_as_text_and_validation_keys_it_by_row() -> None:
    data = post(**{"parts-0-code": "P1", "parts-0-qty": "two"})
    assert data["parts"] == [{"code": "P1", "qty": "two", "warranty": False}]
    assert validate_data(SCHEMA, data) == {
        "name": ["此项为必填"],
        "photos": ["此项为必填"],
        "answer": ["此项为必填"],
        "parts.0.qty": ["请输入整数"],
    }


def test_table_cells_of_unknown_columns_or_malformed_names_are_ignored() -> None:
    data = post(**{"parts-0-hack": "x", "parts-x-code": "P", "parts--code": "P", "parts-0": "P"})
    assert data["parts"] == []


def test_read_only_and_unknown_fields_are_ignored() -> None:
    data = post(fixed="changed", csrf_token="abc")
    assert "fixed" not in data and "csrf_token" not in data


def test_a_werkzeug_multidict_is_read_with_all_its_values() -> None:
    fields = MultiDict([("tags", "a"), ("tags", "b"), ("qty", "3")])
    data = coerce_post(FORM, fields)
    assert (data["tags"], data["qty"]) == (["a", "b"], 3)


def test_single_string_values_are_accepted_as_well_as_lists() -> None:
    assert coerce_post(FORM, {"qty": "3", "tags": "a"})["qty"] == 3


def test_a_form_definition_row_uses_its_ui() -> None:
    form = FormDefinition(key="k", version=1, schema=SCHEMA, ui=UI)
    assert "answer" not in coerce_post(form, {})


@pytest.mark.parametrize(
    "fields",
    [
        None,
        "a string",
        42,
        ["qty", "3"],
        {"qty": None},
        {"qty": [None, 3]},
        {"qty": [b"\xff\xfe"]},
        {"qty": [["nested"]]},
        {1: ["x"]},
        {"parts-999999999-code": ["x"]},
        {"parts-" + "0" * 100 + "-code": ["x"]},
    ],
)
def test_garbage_input_never_raises(fields: object) -> None:
    assert isinstance(coerce_post(FORM, fields), dict)


def test_a_broken_form_gives_no_data_rather_than_an_error() -> None:
    assert coerce_post(object(), {"qty": ["1"]}) == {}


def test_a_posted_work_report_validates() -> None:
    document = json.loads((FORMS_DIR / "work_report.form.json").read_text("utf-8"))
    fields = {
        "check_in_at": ["2024-05-01T09:15"],
        "fault_class": ["electrical"],
        "solution": ["更换主板"],
        "parts_used-0-code": ["MB-1"],
        "parts_used-0-name": ["主板"],
        "parts_used-0-qty": ["1"],
        "parts_used-0-unit_price": ["260.00"],
        "parts_used-1-code": [""],
        "visit_fee": ["30"],
        "photos": ["att-9"],
        "customer_signature": ["data:image/png;base64,iVBORw0KGgo="],
    }
    data = coerce_post(document, fields)
    assert data["parts_used"] == [{"code": "MB-1", "name": "主板", "qty": 1, "unit_price": 260.0}]
    assert validate_data(document, data) == {}
