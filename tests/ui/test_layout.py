"""The layout's macros and helpers, rendered in a request context."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, flash, render_template_string

from webapp.ui.helpers import is_overdue, pagination_info, priority_level


def render(app: Flask, source: str, path: str = "/tasks?status=open&page=3", **context) -> str:  # noqa: ANN003
    with app.test_request_context(path):
        return render_template_string(source, **context)


def test_pagination_macro(ui_app: Flask) -> None:
    out = render(
        ui_app,
        '{% from "macros/pagination.html" import pagination %}{{ pagination(3, 20, 135) }}',
    )
    assert "第 41–60 条，共 135 条" in out
    assert 'aria-current="page">3<' in out
    assert 'href="/tasks?status=open&amp;page=2"' in out  # other arguments kept
    assert 'href="/tasks?status=open&amp;page=7"' in out
    assert "上一页" in out and "下一页" in out


def test_pagination_macro_with_a_url_macro(ui_app: Flask) -> None:
    out = render(
        ui_app,
        '{% from "macros/pagination.html" import pagination %}'
        "{% macro url(n) %}/orders/p{{ n }}{% endmacro %}"
        "{{ pagination(1, 10, 25, url=url) }}",
    )
    assert 'href="/orders/p2"' in out
    assert 'href="/orders/p3"' in out


def test_pagination_of_nothing(ui_app: Flask) -> None:
    out = render(
        ui_app, '{% from "macros/pagination.html" import pagination %}{{ pagination(1, 20, 0) }}'
    )
    assert "没有找到记录" in out
    assert "page-link" not in out


@pytest.mark.parametrize(
    ("page", "pages", "window"),
    [
        (1, 1, [1]),
        (1, 3, [1, 2, 3]),
        (5, 10, [1, None, 3, 4, 5, 6, 7, None, 10]),
        (1, 10, [1, 2, 3, None, 10]),
        (10, 10, [1, None, 8, 9, 10]),
        (4, 10, [1, 2, 3, 4, 5, 6, None, 10]),
    ],
)
def test_pagination_window(page: int, pages: int, window: list) -> None:
    assert pagination_info(page, 10, pages * 10).window() == window


def test_pagination_clamps_the_page() -> None:
    p = pagination_info(99, 20, 45)
    assert (p.page, p.pages, p.first, p.last) == (3, 3, 41, 45)
    assert pagination_info(-1, 0, 5).page == 1


def test_flash_messages_with_categories(ui_app: Flask) -> None:
    with ui_app.test_request_context("/"):
        flash("保存成功", "success")
        flash("出错了", "error")
        flash("plain")
        out = render_template_string(
            '{% from "macros/flash.html" import flash_messages %}{{ flash_messages() }}'
        )
    assert 'class="flash flash-success" role="status">保存成功' in out
    assert 'class="flash flash-error" role="alert">出错了' in out
    assert 'class="flash flash-info" role="status">plain' in out


def test_field_errors_and_csrf_field(ui_app: Flask) -> None:
    out = render(
        ui_app,
        '{% from "macros/forms.html" import field_errors, csrf_field %}'
        '{{ csrf_field() }}{{ field_errors(["必填", "<b>x</b>"], id="phone-error") }}'
        "{{ field_errors([]) }}{{ field_errors('只有一条') }}",
    )
    assert '<input type="hidden" name="csrf_token" value="' in out
    assert '<ul class="field-error" id="phone-error">' in out
    assert "<li>必填</li>" in out
    assert "&lt;b&gt;x&lt;/b&gt;" in out  # escaped
    assert "<li>只有一条</li>" in out
    assert out.count("field-error") == 2


def test_field_errors_of_a_wtforms_field(ui_app: Flask) -> None:
    class Field:
        errors = ["太短"]

    out = render(
        ui_app, '{% from "macros/forms.html" import field_errors %}{{ field_errors(f) }}', f=Field()
    )
    assert "<li>太短</li>" in out


def test_priority_and_overdue(ui_app: Flask) -> None:
    assert [priority_level(p) for p in (100, 70, 69, 50, None, 31, 30, 0)] == [
        "high",
        "high",
        "normal",
        "normal",
        "normal",
        "normal",
        "low",
        "low",
    ]
    now = datetime.now(UTC)
    assert is_overdue(now.replace(tzinfo=None) - timedelta(minutes=1))
    assert not is_overdue(now + timedelta(hours=1))
    assert not is_overdue(None)
    past = (now - timedelta(days=1)).replace(tzinfo=None)
    out = render(
        ui_app,
        '{% from "macros/badges.html" import priority_badge, overdue_badge %}'
        "{{ priority_badge(90) }}{{ overdue_badge(due) }}{{ overdue_badge(None) }}",
        due=past,
    )
    assert 'class="badge badge-priority-high"' in out
    assert ">高<" in out
    assert out.count("已超期") == 1


def test_base_layout_blocks(ui_app: Flask) -> None:
    out = render(
        ui_app,
        '{% extends "base.html" %}{% block title %}待办{% endblock %}'
        '{% block nav %}<a href="/tasks" aria-current="page">待办</a>{% endblock %}'
        "{% block content %}<p>正文</p>{% endblock %}",
    )
    assert "<title>待办 · 客户服务管理系统</title>" in out
    assert '<a href="/tasks" aria-current="page">待办</a>' in out
    assert "<p>正文</p>" in out
    assert 'src="/static/vendor/htmx.min.js"' in out
    assert 'src="/static/vendor/signature_pad.umd.min.js"' in out
    assert 'name="next" value="/tasks?status=open&amp;page=3"' in out
