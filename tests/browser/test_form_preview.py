"""The form editor as a designer uses it: editing the JSON redraws the preview beside it."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .test_service_request_flow import log_in


def test_editing_a_label_changes_the_preview(page: Page, demo_server) -> None:  # noqa: ANN001
    log_in(page, "designer")
    page.goto("/admin/forms/report_review")
    preview = page.locator("[data-form-preview]")
    expect(preview.get_by_text("审核结果")).to_be_visible()  # drawn on load

    editor = page.locator("#document")
    editor.fill(editor.input_value().replace('"zh": "审核结果"', '"zh": "中心审核意见"'))
    expect(preview.get_by_text("中心审核意见")).to_be_visible()
    expect(preview.get_by_text("审核结果")).to_have_count(0)


def test_the_preview_switches_language(page: Page, demo_server) -> None:  # noqa: ANN001
    log_in(page, "designer")
    page.goto("/admin/forms/report_review")
    page.get_by_label("预览语言").select_option("en")
    expect(page.locator("[data-form-preview]").get_by_text("Decision")).to_be_visible()


def test_a_broken_document_shows_its_problem_instead(page: Page, demo_server) -> None:  # noqa: ANN001
    log_in(page, "designer")
    page.goto("/admin/forms/report_review")
    page.locator("#document").fill('{"key": "report_review",')
    expect(page.locator("[data-preview-problems]")).to_contain_text("invalid JSON")
