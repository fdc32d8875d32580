"""Validating submitted data: messages for end users, keyed by the field they belong to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forms.models import FormDefinition
from forms.validation import validate_data

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"

SCHEMA = {
    "type": "object",
    "required": ["name", "phone"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 5},
        "phone": {"type": "string", "pattern": r"^1[3-9]\d{9}$"},
        "qty": {"type": "integer", "minimum": 0, "maximum": 10},
        "price": {"type": "number", "exclusiveMinimum": 0},
        "urgency": {"type": "string", "enum": ["normal", "urgent"]},
        "visit": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "email": {"type": "string", "format": "email"},
        "ok": {"type": "boolean"},
        "tags": {
            "type": "array",
            "items": {"enum": ["a", "b"]},
            "minItems": 1,
            "uniqueItems": True,
        },
        "parts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "qty"],
                "properties": {
                    "code": {"type": "string"},
                    "qty": {"type": "integer", "minimum": 1},
                },
            },
        },
    },
}
VALID = {"name": "张三", "phone": "13800138000"}


def errors(data: dict, locale: str = "zh") -> dict[str, list[str]]:
    return validate_data(SCHEMA, {**VALID, **data}, locale)


def test_valid_data_has_no_errors() -> None:
    assert errors({"qty": 3, "visit": "2024-05-01", "parts": [{"code": "P1", "qty": 2}]}) == {}


@pytest.mark.parametrize(
    ("data", "field", "zh", "en"),
    [
        ({"qty": "x"}, "qty", "请输入整数", "Must be a whole number"),
        ({"qty": 1.5}, "qty", "请输入整数", "Must be a whole number"),
        ({"price": "abc"}, "price", "请输入数字", "Must be a number"),
        ({"name": 3}, "name", "应为文本", "Must be text"),
        ({"ok": "yes"}, "ok", "请选择是或否", "Must be yes or no"),
        ({"tags": "a"}, "tags", "应为列表", "Must be a list"),
        ({"qty": -1}, "qty", "请输入不小于 0 的数", "Must be at least 0"),
        ({"qty": 11}, "qty", "请输入不大于 10 的数", "Must be at most 10"),
        ({"price": 0}, "price", "请输入大于 0 的数", "Must be greater than 0"),
        ({"phone": "12345"}, "phone", "格式不正确", "Invalid format"),
        ({"urgency": "soon"}, "urgency", "请从给定选项中选择", "Choose one of the options"),
        ({"name": "六个字的名字"}, "name", "最多输入 5 个字符", "Must be at most 5 characters"),
        ({"name": ""}, "name", "此项不能为空", "This field must not be empty"),
        ({"tags": []}, "tags", "至少填写 1 项", "Add at least 1 item"),
        ({"tags": ["a", "a"]}, "tags", "不能有重复项", "Items must not repeat"),
        (
            {"visit": "2024-13-01"},
            "visit",
            "格式不正确：应为日期 YYYY-MM-DD",
            "Invalid format: expected a date YYYY-MM-DD",
        ),
        (
            {"at": "yesterday"},
            "at",
            "格式不正确：应为日期时间 YYYY-MM-DD HH:MM",
            "Invalid format: expected a date and time YYYY-MM-DD HH:MM",
        ),
        (
            {"email": "nobody"},
            "email",
            "格式不正确：应为电子邮件地址",
            "Invalid format: expected an email address",
        ),
    ],
)
def test_a_broken_rule_gives_an_end_user_message_in_zh_and_en(
    data: dict, field: str, zh: str, en: str
) -> None:
    assert errors(data) == {field: [zh]}
    assert errors(data, "en") == {field: [en]}


def test_required_is_keyed_on_the_missing_field_itself() -> None:
    assert validate_data(SCHEMA, {}) == {"name": ["此项为必填"], "phone": ["此项为必填"]}


def test_required_in_english() -> None:
    assert validate_data(SCHEMA, {"name": "a"}, "en") == {"phone": ["This field is required"]}


def test_a_locale_like_en_us_is_english() -> None:
    assert validate_data(SCHEMA, {"name": "a"}, "en-US") == {"phone": ["This field is required"]}


def test_errors_in_table_rows_are_keyed_by_row_and_column() -> None:
    data = {"parts": [{"code": "P1", "qty": 1}, {"code": "P2", "qty": 0}, {"qty": "x"}]}
    assert errors(data) == {
        "parts.1.qty": ["请输入不小于 1 的数"],
        "parts.2.code": ["此项为必填"],
        "parts.2.qty": ["请输入整数"],
    }


def test_data_that_is_not_an_object_is_a_form_level_error() -> None:
    assert validate_data(SCHEMA, ["x"]) == {"": ["格式不正确"]}


def test_a_datetime_local_value_without_seconds_or_offset_is_a_valid_date_time() -> None:
    assert errors({"at": "2024-05-01T10:30"}) == {}
    assert errors({"at": "2024-05-01T10:30:00+08:00"}) == {}


def test_an_impossible_date_time_is_refused() -> None:
    assert "at" in errors({"at": "2024-02-30T10:30"})


def test_a_date_with_a_time_is_not_a_date() -> None:
    assert "visit" in errors({"visit": "2024-05-01T10:00"})


def test_an_extra_field_is_keyed_on_itself_when_the_schema_forbids_it() -> None:
    schema = {**SCHEMA, "additionalProperties": False}
    assert validate_data(schema, {**VALID, "hack": 1}, "en") == {
        "hack": ["This field is not allowed"]
    }


def test_dependent_required_is_keyed_on_the_missing_field() -> None:
    schema = {**SCHEMA, "dependentRequired": {"qty": ["price"]}}
    assert validate_data(schema, {**VALID, "qty": 1}) == {"price": ["此项为必填"]}


def test_a_keyword_without_its_own_message_gets_the_generic_one() -> None:
    schema = {"type": "object", "properties": {"x": {"not": {"const": 1}}}}
    assert validate_data(schema, {"x": 1}) == {"x": ["填写的内容不符合要求"]}
    assert validate_data(schema, {"x": 1}, "en") == {"x": ["Invalid value"]}


def test_an_unknown_format_has_a_generic_format_message() -> None:
    schema = {"type": "object", "properties": {"x": {"format": "ipv4"}}}
    assert validate_data(schema, {"x": "300.1.1.1"}, "en") == {"x": ["Invalid format"]}


def test_several_broken_rules_on_one_field_give_each_message_once() -> None:
    schema = {
        "type": "object",
        "properties": {"x": {"type": "string", "minLength": 3, "pattern": "^a"}},
    }
    assert validate_data(schema, {"x": "b"}) == {"x": ["至少输入 3 个字符", "格式不正确"]}


def test_a_form_definition_row_is_validated_by_its_schema() -> None:
    form = FormDefinition(key="k", version=1, schema=SCHEMA, ui={})
    assert validate_data(form, {"name": "a"}) == {"phone": ["此项为必填"]}


def test_a_form_document_is_validated_by_its_schema() -> None:
    assert validate_data({"schema": SCHEMA, "ui": {}}, {"name": "a"}) == {"phone": ["此项为必填"]}


def test_the_service_request_phone_must_be_a_chinese_mobile_number() -> None:
    document = json.loads((FORMS_DIR / "service_request.form.json").read_text("utf-8"))
    data = {
        "customer_name": "李四",
        "phone": "12800138000",
        "address": "北京市海淀区",
        "product_model": "KFR-35GW",
        "fault_description": "不制冷",
        "urgency": "urgent",
    }
    assert validate_data(document, data) == {"phone": ["格式不正确"]}
    assert validate_data(document, {**data, "phone": "13912345678"}) == {}


def test_the_work_report_accepts_a_full_report() -> None:
    document = json.loads((FORMS_DIR / "work_report.form.json").read_text("utf-8"))
    data = {
        "check_in_at": "2024-05-01T09:15",
        "fault_class": "refrigeration",
        "solution": "更换压缩机启动电容",
        "parts_used": [{"code": "C-35", "name": "电容", "qty": 1, "unit_price": 19.99}],
        "visit_fee": 30,
        "customer_signature": "data:image/png;base64,iVBORw0KGgo=",
        "photos": ["att-1", "att-2"],
    }
    assert validate_data(document, data) == {}
