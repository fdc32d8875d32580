"""The form file format: what parse_form accepts, what it refuses and how it says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import DeploymentError
from forms.format import (
    MAX_FORM_BYTES,
    FormFileError,
    default_ui,
    effective_ui,
    parse_document,
    parse_form,
)

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"


def form(**overrides: object) -> dict:
    document = {
        "key": "sample",
        "title": {"zh": "示例", "en": "Sample"},
        "schema": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "qty": {"type": "integer", "minimum": 0},
                "visit": {"type": "string", "format": "date"},
            },
        },
    }
    document.update(overrides)
    return document


def encode(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def refused(document: object = None, raw: bytes | None = None) -> FormFileError:
    content = raw if raw is not None else encode(document)
    with pytest.raises(FormFileError) as caught:
        parse_form("sample.form.json", content)
    return caught.value


def only_problem(error: FormFileError) -> dict:
    assert len(error.details) == 1, error.details
    return error.details[0]


# --- accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["service_request", "work_report", "review"])
def test_the_example_forms_parse(name: str) -> None:
    path = FORMS_DIR / f"{name}.form.json"
    parsed = parse_form(path.name, path.read_bytes())
    assert parsed.key == name
    assert parsed.title_zh and parsed.title_en


@pytest.mark.parametrize("name", ["service_request", "work_report", "review"])
def test_every_example_field_has_a_chinese_and_an_english_label(name: str) -> None:
    document = json.loads((FORMS_DIR / f"{name}.form.json").read_text("utf-8"))
    fields = document["ui"]["fields"]
    columns = [c for f in fields.values() for c in f.get("columns", {}).get("fields", {}).values()]
    for hints in [*fields.values(), *columns]:
        assert hints["label"]["zh"] and hints["label"]["en"]
    assert set(fields) == set(document["schema"]["properties"])


def test_a_minimal_form_needs_only_key_and_schema() -> None:
    parsed = parse_form("m.form.json", encode({"key": "m", "schema": form()["schema"]}))
    assert (parsed.key, parsed.title_zh, parsed.ui) == ("m", "", {})


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    assert parse_form("sample.form.json", b"\xef\xbb\xbf" + encode(form())).key == "sample"


def test_reformatting_does_not_change_the_content_hash() -> None:
    compact = json.dumps(form(), separators=(",", ":")).encode()
    assert parse_form("a", compact).content_hash == parse_form("b", encode(form())).content_hash


def test_local_refs_are_accepted() -> None:
    schema = {
        "type": "object",
        "properties": {"parts": {"type": "array", "items": {"$ref": "#/$defs/part"}}},
        "$defs": {"part": {"type": "object", "properties": {"code": {"type": "string"}}}},
    }
    assert parse_form("s", encode(form(schema=schema))).schema == schema


def test_a_form_file_error_is_a_deployment_error_with_a_problem_per_place() -> None:
    error = refused(form(key="1bad"))
    assert isinstance(error, DeploymentError)
    assert only_problem(error) == {
        "file": "sample.form.json",
        "line": None,
        "element": "$.key",
        "message": error.problems[0].message,
    }


# --- refused: the file itself -----------------------------------------------------------------


def test_invalid_json_is_refused_with_line_and_column() -> None:
    error = refused(raw=b'{\n  "key": "sample",\n  "schema": {,}\n}')
    problem = only_problem(error)
    assert problem["line"] == 3
    assert "line 3, column 14" in problem["message"]
    assert error.message.startswith("sample.form.json:3: invalid JSON")


def test_an_oversize_file_is_refused() -> None:
    padding = b" " * (MAX_FORM_BYTES + 1 - len(encode(form())))
    error = refused(raw=encode(form()) + padding)
    assert "larger than 1024 KB" in only_problem(error)["message"]


def test_a_file_of_exactly_the_limit_is_accepted() -> None:
    content = encode(form())
    assert parse_form("s", content + b" " * (MAX_FORM_BYTES - len(content))).key == "sample"


def test_non_utf8_text_is_refused_with_its_line() -> None:
    error = refused(raw='{\n"key": "示例"}'.encode("gbk"))
    problem = only_problem(error)
    assert "not UTF-8" in problem["message"] and problem["line"] == 2


def test_a_duplicate_member_is_refused() -> None:
    error = refused(raw=b'{"key": "a", "key": "b", "schema": {}}')
    assert "duplicate key 'key'" in error.message


def test_nan_is_refused() -> None:
    assert "NaN" in refused(raw=b'{"key": "a", "schema": {"minimum": NaN}}').message


def test_a_deeply_nested_document_is_refused() -> None:
    assert "nested" in refused(raw=b"[" * 200_000).message


def test_a_document_that_is_not_an_object_is_refused() -> None:
    assert only_problem(refused([1, 2]))["element"] == "$"


# --- refused: the form format -----------------------------------------------------------------


@pytest.mark.parametrize("key", ["1abc", "", "has space", "a/b", "x" * 201, "中文"])
def test_a_bad_key_is_refused(key: str) -> None:
    assert only_problem(refused(form(key=key)))["element"] == "$.key"


@pytest.mark.parametrize("key", ["a", "repair.report-v2_1", "A" + "x" * 199])
def test_a_good_key_is_accepted(key: str) -> None:
    assert parse_form("s", encode(form(key=key))).key == key


def test_a_missing_schema_is_refused() -> None:
    document = form()
    del document["schema"]
    assert "'schema' is a required property" in refused(document).message


def test_an_unknown_top_level_member_is_refused() -> None:
    problem = only_problem(refused(form(uI={})))
    assert problem["element"] == "$" and "'uI' was unexpected" in problem["message"]


def test_an_unknown_widget_is_refused_at_its_path() -> None:
    error = refused(form(ui={"fields": {"name": {"widget": "slider"}}}))
    problem = only_problem(error)
    assert problem["element"] == "$.ui.fields.name.widget"
    assert "'slider'" in problem["message"]
    assert "sample.form.json ($.ui.fields.name.widget)" in error.message


def test_a_label_must_give_zh_or_en() -> None:
    problem = only_problem(refused(form(ui={"fields": {"name": {"label": "Name"}}})))
    assert problem["element"] == "$.ui.fields.name.label"


def test_an_order_naming_a_missing_field_is_refused() -> None:
    problem = only_problem(refused(form(ui={"order": ["name", "phone"]})))
    assert problem["element"] == "$.ui.order[1]"
    assert "'phone' is not a property" in problem["message"]


def test_fields_naming_a_missing_field_is_refused() -> None:
    problem = only_problem(refused(form(ui={"fields": {"phone": {"widget": "text"}}})))
    assert problem["element"] == "$.ui.fields.phone"


def test_an_order_naming_a_field_twice_is_refused() -> None:
    assert only_problem(refused(form(ui={"order": ["name", "name"]})))["element"] == "$.ui.order"


# --- refused: widget and property type --------------------------------------------------------


@pytest.mark.parametrize(
    ("prop", "widget"),
    [
        ({"type": "string"}, "number"),
        ({"type": "string"}, "money"),
        ({"type": "integer"}, "text"),
        ({"type": "string"}, "date"),
        ({"type": "string", "format": "date"}, "datetime"),
        ({"type": "integer"}, "date"),
        ({"type": "string"}, "checkbox"),
        ({"type": "array", "items": {"type": "string"}}, "checkbox"),
        ({"type": "string"}, "select"),
        ({"type": "boolean"}, "select"),
        ({"type": "array", "items": {"type": "string", "enum": ["a"]}}, "radio"),
        ({"type": "array", "items": {"type": "string"}}, "table"),
        ({"type": "string"}, "table"),
        ({"type": "string"}, "photo"),
        ({"type": "array", "items": {"type": "integer"}}, "photo"),
        ({"type": "boolean"}, "signature"),
        ({"type": "integer"}, "customer"),
    ],
)
def test_a_widget_that_does_not_fit_the_property_type_is_refused(prop: dict, widget: str) -> None:
    schema = {"type": "object", "properties": {"f": prop}}
    error = refused(form(schema=schema, ui={"fields": {"f": {"widget": widget}}}))
    assert only_problem(error)["element"] == "$.ui.fields.f.widget"


@pytest.mark.parametrize(
    ("prop", "widget"),
    [
        ({"type": "string"}, "text"),
        ({"type": "string", "maxLength": 10}, "textarea"),
        ({"type": "array", "items": {"type": "string"}}, "textarea"),
        ({"type": "number"}, "money"),
        ({"type": "integer"}, "number"),
        ({"type": "string", "format": "date"}, "date"),
        ({"type": "string", "format": "date-time"}, "datetime"),
        ({"type": "string", "enum": ["a", "b"]}, "select"),
        ({"type": "integer", "enum": [1, 2]}, "radio"),
        ({"type": "boolean"}, "radio"),
        ({"type": "boolean"}, "checkbox"),
        ({"type": "array", "items": {"enum": ["a", "b"]}}, "checkbox"),
        ({"type": "array", "items": {"enum": ["a", "b"]}}, "select"),
        ({"type": "array", "items": {"type": "object", "properties": {"a": {}}}}, "table"),
        ({"type": "array", "items": {"type": "string"}}, "photo"),
        ({"type": "string", "pattern": "^data:image/png"}, "signature"),
        ({"type": "string"}, "customer"),
        ({"type": ["string", "null"]}, "user"),
        ({"$ref": "#/$defs/when"}, "date"),
    ],
)
def test_a_widget_that_fits_the_property_type_is_accepted(prop: dict, widget: str) -> None:
    schema = {
        "type": "object",
        "properties": {"f": prop},
        "$defs": {"when": {"type": "string", "format": "date"}},
    }
    parse_form("s", encode(form(schema=schema, ui={"fields": {"f": {"widget": widget}}})))


def test_a_table_column_that_does_not_fit_its_widget_is_refused() -> None:
    schema = {
        "type": "object",
        "properties": {
            "parts": {
                "type": "array",
                "items": {"type": "object", "properties": {"qty": {"type": "integer"}}},
            }
        },
    }
    ui = {
        "fields": {"parts": {"widget": "table", "columns": {"fields": {"qty": {"widget": "date"}}}}}
    }
    problem = only_problem(refused(form(schema=schema, ui=ui)))
    assert problem["element"] == "$.ui.fields.parts.columns.fields.qty.widget"


def test_a_table_column_naming_a_missing_row_property_is_refused() -> None:
    schema = {
        "type": "object",
        "properties": {
            "parts": {"type": "array", "items": {"type": "object", "properties": {"qty": {}}}}
        },
    }
    ui = {"fields": {"parts": {"columns": {"order": ["qty", "price"]}}}}
    problem = only_problem(refused(form(schema=schema, ui=ui)))
    assert problem["element"] == "$.ui.fields.parts.columns.order[1]"


def test_an_option_value_outside_the_enum_is_refused() -> None:
    schema = {"type": "object", "properties": {"u": {"type": "string", "enum": ["a", "b"]}}}
    options = [{"value": "c", "label": {"zh": "丙"}}]
    ui = {"fields": {"u": {"widget": "radio", "options": options}}}
    problem = only_problem(refused(form(schema=schema, ui=ui)))
    assert problem["element"] == "$.ui.fields.u.options[0].value"


def test_a_nested_object_property_is_refused() -> None:
    schema = {"type": "object", "properties": {"address": {"type": "object", "properties": {}}}}
    problem = only_problem(refused(form(schema=schema)))
    assert problem["element"] == "$.ui.fields.address"
    assert "nested objects" in problem["message"]


def test_a_property_of_two_types_is_refused() -> None:
    schema = {"type": "object", "properties": {"x": {"type": ["string", "integer"]}}}
    assert "one type" in only_problem(refused(form(schema=schema)))["message"]


# --- refused: the JSON Schema -----------------------------------------------------------------


@pytest.mark.parametrize(
    "ref", ["https://example.com/part.json", "part.json#/x", "file:///etc/passwd", "#anchor"]
)
def test_a_non_local_ref_is_refused(ref: str) -> None:
    schema = {"type": "object", "properties": {"part": {"$ref": ref}}}
    problem = only_problem(refused(form(schema=schema)))
    assert problem["element"] == "$.schema.properties.part.$ref"
    assert "only local references" in problem["message"]


def test_a_remote_ref_deep_inside_the_schema_is_refused() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "array", "items": {"anyOf": [{"$ref": "http://x/y"}]}}},
    }
    problem = only_problem(refused(form(schema=schema)))
    assert problem["element"] == "$.schema.properties.a.items.anyOf[0].$ref"


def test_a_dangling_local_ref_is_refused() -> None:
    schema = {"type": "object", "properties": {"p": {"$ref": "#/$defs/missing"}}}
    assert "points at nothing" in only_problem(refused(form(schema=schema)))["message"]


def test_a_nested_id_is_refused() -> None:
    schema = {"type": "object", "properties": {"p": {"$id": "http://x/p", "type": "string"}}}
    assert only_problem(refused(form(schema=schema)))["element"] == "$.schema.properties.p.$id"


@pytest.mark.parametrize(
    ("prop", "path"),
    [
        ({"type": "strung"}, "$.schema.properties.f.type"),
        ({"type": "string", "minLength": -1}, "$.schema.properties.f.minLength"),
        ({"type": "string", "pattern": "("}, "$.schema.properties.f.pattern"),
        ({"type": "number", "minimum": "0"}, "$.schema.properties.f.minimum"),
    ],
)
def test_an_invalid_json_schema_is_refused_at_its_path(prop: dict, path: str) -> None:
    problem = only_problem(refused(form(schema={"type": "object", "properties": {"f": prop}})))
    assert problem["element"] == path
    assert problem["message"].startswith("not a valid JSON Schema")


def test_a_schema_of_another_draft_is_refused() -> None:
    schema = {**form()["schema"], "$schema": "http://json-schema.org/draft-07/schema#"}
    assert only_problem(refused(form(schema=schema)))["element"] == "$.schema.$schema"


def test_a_schema_that_is_not_an_object_schema_is_refused() -> None:
    error = refused(form(schema={"type": "array", "items": {}}))
    assert [p["element"] for p in error.details] == ["$.schema.type", "$.schema.properties"]


def test_an_object_schema_without_properties_is_refused() -> None:
    problem = only_problem(refused(form(schema={"type": "object"})))
    assert problem["element"] == "$.schema.properties"


def test_parse_document_checks_an_edited_form_the_same_way() -> None:
    with pytest.raises(FormFileError, match="only local references"):
        parse_document("e", form(schema={"type": "object", "properties": {"a": {"$ref": "x"}}}))


# --- the ui a form renders with ---------------------------------------------------------------


def test_default_ui_orders_fields_as_the_properties_and_picks_widgets_by_type() -> None:
    schema = {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "date-time"},
            "ok": {"type": "boolean"},
            "qty": {"type": "integer"},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "tags": {"type": "array", "items": {"enum": ["x", "y"]}},
            "rows": {"type": "array", "items": {"type": "object", "properties": {"c": {}}}},
            "note": {"type": "string", "maxLength": 2000},
            "name": {"type": "string", "title": "Name"},
        },
    }
    ui = default_ui(schema)
    assert ui["order"] == list(schema["properties"])
    widgets = {name: field["widget"] for name, field in ui["fields"].items()}
    assert widgets == {
        "when": "date",
        "at": "datetime",
        "ok": "checkbox",
        "qty": "number",
        "kind": "select",
        "tags": "checkbox",
        "rows": "table",
        "note": "textarea",
        "name": "text",
    }
    assert ui["fields"]["name"]["label"] == {"zh": "Name", "en": "Name"}
    assert ui["fields"]["kind"]["options"][0] == {"value": "a", "label": {"zh": "a", "en": "a"}}
    assert ui["fields"]["rows"]["columns"]["order"] == ["c"]


def test_effective_ui_appends_properties_the_order_leaves_out() -> None:
    ui = effective_ui(form()["schema"], {"order": ["visit"]})
    assert ui["order"] == ["visit", "name", "qty"]


def test_effective_ui_fills_enum_values_the_options_do_not_label() -> None:
    schema = {"type": "object", "properties": {"u": {"enum": ["a", "b", "c"]}}}
    options = [{"value": "c", "label": {"zh": "丙", "en": "C"}}]
    ui = effective_ui(schema, {"fields": {"u": {"widget": "radio", "options": options}}})
    assert [o["value"] for o in ui["fields"]["u"]["options"]] == ["c", "a", "b"]


def test_effective_ui_gives_a_yes_no_radio_its_labels() -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    ui = effective_ui(schema, {"fields": {"ok": {"widget": "radio"}}})
    assert ui["fields"]["ok"]["options"] == [
        {"value": True, "label": {"zh": "是", "en": "Yes"}},
        {"value": False, "label": {"zh": "否", "en": "No"}},
    ]


def test_an_english_only_label_is_used_for_chinese_too() -> None:
    ui = effective_ui(form()["schema"], {"fields": {"name": {"label": {"en": "Name"}}}})
    assert ui["fields"]["name"]["label"] == {"zh": "Name", "en": "Name"}


@pytest.mark.parametrize("name", ["has-dash", "a.b", "1st", "class", "名字", "x" * 81])
def test_a_field_name_that_cannot_be_a_process_variable_is_refused(name: str) -> None:
    schema = {"type": "object", "properties": {name: {"type": "string"}}}
    assert "field name" in only_problem(refused(form(schema=schema)))["message"]


def test_a_table_column_name_must_be_a_process_variable_name_too() -> None:
    row = {"type": "object", "properties": {"unit-price": {"type": "number"}}}
    schema = {"type": "object", "properties": {"parts": {"type": "array", "items": row}}}
    problem = only_problem(refused(form(schema=schema)))
    assert problem["element"] == "$.ui.fields.parts.columns.fields.unit-price"


def test_a_radio_on_a_small_integer_range_offers_every_value() -> None:
    schema = {
        "type": "object",
        "properties": {"stars": {"type": "integer", "minimum": 1, "maximum": 5}},
    }
    parsed = parse_form(
        "s", encode(form(schema=schema, ui={"fields": {"stars": {"widget": "radio"}}}))
    )
    options = effective_ui(parsed.schema, parsed.ui)["fields"]["stars"]["options"]
    assert [o["value"] for o in options] == [1, 2, 3, 4, 5]


def test_a_radio_on_an_open_integer_range_is_refused() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}
    error = refused(form(schema=schema, ui={"fields": {"n": {"widget": "radio"}}}))
    assert only_problem(error)["element"] == "$.ui.fields.n.widget"
