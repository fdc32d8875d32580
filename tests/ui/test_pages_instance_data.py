"""The data editor on a suspended instance's page, as an operator uses it.

Each variable has a field of its kind: a text field shows the text itself (not JSON with its
quotes and ``\\u`` escapes), a number a number, a yes/no value a choice, and lists, objects and
null their JSON. Posting the form as the browser sends it changes exactly the variables whose
value was edited. A value its kind cannot read is refused with a message at its field, the
page shows what was typed, and nothing changes. The JSON view edits the whole object at once,
under the same rules; a stale page is refused with the conflict message.
"""

from __future__ import annotations

import html
import json
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from engine.commands import SetVariables, Suspend
from engine.models import AuditEntry, ProcessInstance

from . import pages
from .pages import World, field_block, flashes, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

DATA = {
    "note": "客户改约到周六上午",
    "visits": 3,
    "fee": 45.5,
    "paid": True,
    "parts": ["滤网", "电容"],
    "address_detail": {"building": "3 栋", "room": 1201},
    "callback": None,
    "history": "第一次：不制冷\n第二次：漏水",
}


class DataForm(HTMLParser):
    """The data editor's form as a browser reads it: each control's name, the tag it is
    drawn with, and the value it would post untouched (a text area's text with CRLF line
    ends, a select's selected option)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.controls: dict[str, tuple[str, str]] = {}
        self.attrs: dict[str, dict[str, str | None]] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and "data-edit-variables" in found:
            self.inside = True
        if not self.inside or "name" not in found:
            if self.inside and tag == "option" and self._select and "selected" in found:
                self.controls[self._select] = ("select", found.get("value") or "")
            return
        name = found["name"] or ""
        self.attrs[name] = found
        if tag == "input":
            self.controls[name] = (found.get("type") or "text", found.get("value") or "")
        elif tag == "textarea":
            self._textarea = name
            self.controls[name] = ("textarea", "")
        elif tag == "select":
            self._select = name
            self.controls[name] = ("select", "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            kind, before = self.controls[self._textarea]
            self.controls[self._textarea] = (kind, before + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea:
            kind, value = self.controls[self._textarea]
            # the parser drops a text area's first line break; browsers post CRLF
            self.controls[self._textarea] = (kind, value.removeprefix("\n").replace("\n", "\r\n"))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form" and self.inside:
            self.inside = False


def data_form(page: str) -> DataForm:
    form = DataForm()
    form.feed(page)
    assert form.controls, "the page has no data editor"
    return form


def as_posted(form: DataForm, **edits: str) -> dict[str, str]:
    """What the browser posts: every control's value, with ``edits`` typed over them."""
    posted = {name: value for name, (_kind, value) in form.controls.items()}
    posted.pop("csrf_token", None)  # ``post`` sends the session's own
    return {**posted, **edits}


def instance(world: World) -> ProcessInstance:
    with world.session_factory() as session:
        return session.scalar(
            sa.select(ProcessInstance).where(ProcessInstance.business_key == "DEMO-0003")
        )


def suspended_with_data(world: World) -> ProcessInstance:
    target = instance(world)
    world.run(Suspend(target.id), "admin")
    world.run(SetVariables(target.id, DATA), "admin")
    return instance(world)


def page_of(world: World, target: ProcessInstance, query: str = "") -> str:
    return text(world.client("manager").get(f"/instances/{target.id}{query}"))


def last_audit(world: World, instance_id: int) -> AuditEntry:
    with world.session_factory() as session:
        return session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.instance_id == instance_id)
            .order_by(AuditEntry.id.desc())
        ).first()


def test_each_variable_has_a_field_of_its_kind(world: World) -> None:
    target = suspended_with_data(world)
    form = data_form(page_of(world, target))
    assert form.controls["value.note"] == ("text", "客户改约到周六上午")  # the text itself
    assert form.controls["value.visits"] == ("text", "3")
    assert form.attrs["value.visits"]["inputmode"] == "decimal"
    assert form.controls["value.fee"] == ("text", "45.5")
    assert form.controls["value.paid"] == ("select", "true")
    assert form.controls["value.parts"] == ("textarea", '[\r\n  "滤网",\r\n  "电容"\r\n]')
    kind, shown = form.controls["value.address_detail"]
    assert kind == "textarea" and '"building": "3 栋"' in shown
    assert form.controls["value.callback"] == ("textarea", "null")
    assert form.controls["value.history"] == ("textarea", "第一次：不制冷\r\n第二次：漏水")
    page = page_of(world, target)
    editor = page[
        page.index("data-edit-variables") : page.index("</form>", page.index("data-edit-variables"))
    ]
    assert "field-error" not in editor and "aria-invalid" not in editor  # nothing refused yet
    kinds = {name: field_block(page, name) for name in DATA}
    assert "文本" in kinds["note"] and "数字" in kinds["visits"] and "是/否" in kinds["paid"]
    assert "JSON" in kinds["parts"]


def test_saving_the_untouched_form_changes_nothing(world: World) -> None:
    target = suspended_with_data(world)
    client = world.client("manager")
    posted = as_posted(data_form(page_of(world, target)))
    response = post(client, f"/instances/{target.id}/variables", posted)
    assert response.status_code == 302
    assert "没有任何更改。" in flashes(text(client.get(response.headers["Location"])))
    assert instance(world).revision == target.revision


def test_saving_changes_exactly_the_edited_variables(world: World) -> None:
    target = suspended_with_data(world)
    client = world.client("manager")
    form = data_form(page_of(world, target))
    edits = {
        "value.note": '客户说："周日也行"',  # a text typed as it is, quotes and all
        "value.visits": "4",
        "value.paid": "false",
        "value.parts": '["滤网"]',
    }
    response = post(client, f"/instances/{target.id}/variables", as_posted(form, **edits))
    assert response.status_code == 302
    assert "已修改 note, paid, parts, visits。" in flashes(
        text(client.get(response.headers["Location"]))
    )
    after = instance(world).variables
    assert after["note"] == '客户说："周日也行"'
    assert (after["visits"], after["paid"], after["parts"]) == (4, False, ["滤网"])
    unchanged = {k: v for k, v in DATA.items() if k not in ("note", "visits", "paid", "parts")}
    assert {k: after[k] for k in unchanged} == unchanged
    assert last_audit(world, target.id).details["keys"] == ["note", "paid", "parts", "visits"]


def test_a_new_variable_is_added_with_its_kind(world: World) -> None:
    target = suspended_with_data(world)
    client = world.client("manager")
    posted = {"revision": str(target.revision), "new_name": "urgent_visit"}
    response = post(
        client,
        f"/instances/{target.id}/variables",
        {**posted, "new_kind": "boolean", "new_value": "是"},
    )
    assert response.status_code == 302
    assert instance(world).variables["urgent_visit"] is True
    response = post(
        client,
        f"/instances/{target.id}/variables",
        {
            "revision": str(instance(world).revision),
            "new_name": "distance_km",
            "new_kind": "number",
            "new_value": "12.5",
        },
    )
    assert response.status_code == 302
    assert instance(world).variables["distance_km"] == 12.5


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("visits", "三次", "请输入数字，例如 12 或 3.5。"),
        ("visits", "NaN", "请输入数字，例如 12 或 3.5。"),
        ("parts", '["滤网"', '请写成 JSON：12、"文字"、true、null、[1, 2] 或 {"a": 1}。'),
        ("paid", "maybe", "请选择是或否。"),
    ],
)
def test_a_value_its_kind_cannot_read_is_refused_at_its_field(
    world: World, field: str, typed: str, message: str
) -> None:
    target = suspended_with_data(world)
    form = data_form(page_of(world, target))
    edits = {f"value.{field}": typed, "value.note": "这项修改也不会保存"}
    response = post(
        world.client("manager"), f"/instances/{target.id}/variables", as_posted(form, **edits)
    )
    assert response.status_code == 422
    page = text(response)
    block = field_block(page, field)
    assert message in html.unescape(block) and 'aria-invalid="true"' in block
    kind, shown = data_form(page).controls[f"value.{field}"]
    if kind != "select":  # the page shows what was typed
        assert shown.replace("\r\n", "\n") == typed
    assert "未保存任何内容：请更正标出的值。" in flashes(page)
    assert instance(world).revision == target.revision  # nothing changed, not even the note
    assert instance(world).variables == target.variables


@pytest.mark.parametrize(
    ("name", "message"),
    [("1st_visit", "名称以字母开头，只能包含字母、数字和 _。"), ("note", "该变量已存在")],
)
def test_a_new_variable_with_a_bad_name_is_refused(world: World, name: str, message: str) -> None:
    target = suspended_with_data(world)
    response = post(
        world.client("manager"),
        f"/instances/{target.id}/variables",
        {"revision": str(target.revision), "new_name": name, "new_value": "x"},
    )
    assert response.status_code == 422
    assert message in text(response)
    assert instance(world).variables == target.variables


def test_the_json_view_shows_the_whole_object(world: World) -> None:
    target = suspended_with_data(world)
    page = page_of(world, target, "?data=json")
    form = data_form(page)
    assert form.controls["view"] == ("hidden", "json")
    kind, shown = form.controls["variables"]
    assert kind == "textarea"
    assert '"note": "客户改约到周六上午"' in shown  # Chinese as it is, not \u escapes
    assert 'aria-current="true">JSON 视图' in page and 'data-view-link="fields"' in page
    assert 'data-view-link="json"' in page_of(world, target)  # the field view links to it


def test_the_json_view_saves_only_the_changed_variables(world: World) -> None:
    target = suspended_with_data(world)
    edited = {**target.variables, "visits": 5, "new_flag": False}
    response = post(
        world.client("manager"),
        f"/instances/{target.id}/variables",
        {"revision": str(target.revision), "view": "json", "variables": _json(edited)},
    )
    assert response.status_code == 302
    assert last_audit(world, target.id).details["keys"] == ["new_flag", "visits"]
    assert instance(world).variables == edited


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ('{"note": "x",\n "visits": }', "这不是有效的 JSON：请查看第 2 行第 12 列。"),
        ('{"visits": NaN}', "NaN 和 Infinity 不是 JSON 数字"),
        ('["note"]', '请写一个 JSON 对象：{"名称": 值, ...}。'),
        ('{"note": "x"}', "这里不能删除变量，请放回 address, address_detail, callback"),
        ('{"1x": 1}', "名称以字母开头，只能包含字母、数字和 _：1x"),
    ],
)
def test_the_json_view_refuses_what_it_cannot_save_and_changes_nothing(
    world: World, typed: str, message: str
) -> None:
    target = suspended_with_data(world)
    if typed.startswith('{"1x"'):
        typed = _json({**target.variables, "1x": 1})
    response = post(
        world.client("manager"),
        f"/instances/{target.id}/variables",
        {"revision": str(target.revision), "view": "json", "variables": typed},
    )
    assert response.status_code == 422
    page = text(response)
    block = field_block(page, "variables")
    assert message in html.unescape(block) and 'aria-invalid="true"' in block
    assert data_form(page).controls["variables"][1].replace("\r\n", "\n") == typed  # kept
    assert instance(world).revision == target.revision


def test_a_stale_page_is_a_conflict_and_changes_nothing(world: World) -> None:
    target = suspended_with_data(world)
    form = data_form(page_of(world, target))
    world.run(SetVariables(target.id, {"visits": 9}), "admin")  # someone else, meanwhile
    response = post(
        world.client("manager"),
        f"/instances/{target.id}/variables",
        as_posted(form, **{"value.note": "我的修改"}),
    )
    assert response.status_code == 409
    assert "打开页面后该实例已有变化，请刷新。" in text(response)
    after = instance(world).variables
    assert (after["note"], after["visits"]) == (DATA["note"], 9)


def test_the_editor_speaks_english_when_asked(world: World) -> None:
    target = suspended_with_data(world)
    client = world.client("manager")
    post(client, "/locale", {"locale": "en", "next": f"/instances/{target.id}"})
    page = text(client.get(f"/instances/{target.id}"))
    block = field_block(page, "visits")
    assert "Number" in block and "数字" not in block
    assert "JSON view" in page and "Add a variable" in page
    response = post(
        client,
        f"/instances/{target.id}/variables",
        {"revision": str(target.revision), "value.visits": "three"},
    )
    assert "Enter a number, such as 12 or 3.5." in field_block(text(response), "visits")


def _json(variables: dict) -> str:
    return json.dumps(variables, ensure_ascii=False, indent=2)
