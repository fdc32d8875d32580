"""The layout and the error pages in a real browser: language, phone width, vendored scripts."""

from __future__ import annotations

import pytest

NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_unknown_url_shows_the_chinese_error_page(page) -> None:  # noqa: ANN001
    response = page.goto("/no-such-page")
    assert response.status == 404
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "页面不存在"
    assert "客户服务管理系统" in page.title()
    assert page.locator(".brand").inner_text() == "客户服务管理系统"
    assert "Traceback" not in page.content()


def test_switching_to_english_with_the_language_form(page) -> None:  # noqa: ANN001
    page.goto("/no-such-page?tab=2")
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/no-such-page?tab=2")
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text() == "Page not found"
    assert page.locator(".brand").inner_text() == "After-sales Service"
    assert page.get_by_role("button", name="English").get_attribute("aria-pressed") == "true"

    page.goto("/another-missing-page")  # the choice is kept in the session
    assert page.locator("h1").inner_text() == "Page not found"

    page.get_by_role("button", name="中文").click()
    page.wait_for_url("**/another-missing-page")
    assert page.locator("h1").inner_text() == "页面不存在"


@pytest.mark.parametrize("path", ["/no-such-page", "/_test/layout"])
def test_the_layout_fits_a_375_px_phone(page, path: str) -> None:  # noqa: ANN001
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(path)
    assert page.evaluate(NO_OVERFLOW), "the page scrolls sideways at 375 px"

    toggle = page.locator("[data-nav-toggle]")
    menu = page.locator("#topbar-menu")
    assert toggle.is_visible()
    assert not menu.is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert menu.is_visible()
    assert page.get_by_role("button", name="English").is_visible()
    assert page.evaluate(NO_OVERFLOW), "the open menu scrolls sideways at 375 px"
    page.keyboard.press("Escape")
    assert not menu.is_visible()


def test_tables_become_stacked_cards_on_a_phone(page) -> None:  # noqa: ANN001
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto("/_test/layout")
    header = page.locator("#tasks thead").bounding_box()
    assert header is None or header["width"] <= 1, "the table header should be hidden"
    cell = page.locator("#tasks tbody tr").first.locator("td").nth(1)
    label = cell.evaluate("el => getComputedStyle(el, '::before').content")
    assert label == '"Process 流程"'
    first, second = (page.locator("#tasks tbody tr").nth(i).bounding_box() for i in (0, 1))
    assert second["y"] >= first["y"] + first["height"], "rows should stack as cards"
    assert first["width"] <= 375


def test_wide_screen_shows_the_nav_without_a_toggle(page) -> None:  # noqa: ANN001
    page.goto("/_test/layout")
    assert not page.locator("[data-nav-toggle]").is_visible()
    assert page.get_by_role("link", name="Instances 流程实例").is_visible()
    assert page.locator("#tasks thead").is_visible()
    assert page.locator("tr.overdue").count() == 2
    assert page.locator(".badge-priority-high").count() >= 1
    assert page.locator(".field-error").inner_text().startswith("Enter an 11-digit")
    assert page.locator(".flash-error").get_attribute("role") == "alert"


def test_keyboard_focus_is_visible(page) -> None:  # noqa: ANN001
    page.goto("/_test/layout")
    page.keyboard.press("Tab")  # the skip link comes first
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.bounding_box()["y"] >= 0
    page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")


def test_vendored_scripts_load_from_static(page) -> None:  # noqa: ANN001
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/_test/layout")
    page.wait_for_function("() => window.htmx && window.SignaturePad")
    assert failed == [], (
        f"failed requests {failed}: run `npm ci --no-audit --no-fund && "
        "python3 scripts/vendor_assets.py`"
    )
    assert errors == []
    assert page.evaluate("() => htmx.version").startswith("2.0.")
    drawn = page.evaluate(
        """() => {
            const pad = new SignaturePad(document.getElementById('signature'));
            pad.fromData([{points: [{x: 10, y: 10, time: 1, pressure: 0.5},
                                    {x: 80, y: 40, time: 2, pressure: 0.5}]}]);
            return !pad.isEmpty() && pad.toDataURL().startsWith('data:image/png');
        }"""
    )
    assert drawn
