"""One task's page: claim, complete with errors and without, concurrent completion, scope and
comments."""

from __future__ import annotations

import sqlalchemy as sa

from engine.commands import Claim
from engine.models import Comment, ProcessInstance

from . import pages
from .pages import World, field_block, flashes, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

GOOD = {
    "VISITED": "true",
    "ATTITUDE": "5",
    "ONTIME": "true",
    "FIXED": "true",
    "REMARK": "师傅很专业",
}


def _claimed(world: World, user: str = "agent"):  # noqa: ANN202
    task = world.task("DEMO-0002", "callback")
    world.run(Claim(task.id), user)
    return task


def _variables(world: World, instance_id: int) -> dict:
    with world.session_factory() as session:
        return dict(session.get(ProcessInstance, instance_id).variables or {})


def test_claiming_from_the_task_page(world: World) -> None:
    client = world.client("agent")
    task = world.task("DEMO-0002", "callback")
    page = text(client.get(f"/tasks/{task.id}"))
    assert "等待座席组认领。" in page
    assert ">认领</button>" in page
    assert "请先认领任务再处理。" in page
    assert "data-task-form" not in page

    response = post(client, f"/tasks/{task.id}/claim")
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "您已认领该任务。" in flashes(page)
    assert "已指派给 agent。" in page
    assert ">退回</button>" in page
    assert "data-task-form" in page
    assert world.task("DEMO-0002", "callback").assignee == "agent"


def test_completing_with_invalid_data_shows_the_errors_next_to_the_fields(world: World) -> None:
    task = _claimed(world)
    before = _variables(world, task.instance_id)
    client = world.client("agent")
    response = post(client, f"/tasks/{task.id}/complete", {"ATTITUDE": "9", "REMARK": "稍后再说"})
    assert response.status_code == 422
    page = text(response)
    assert "请修改标出的字段。" in flashes(page)
    for name in ("ATTITUDE", "ONTIME", "FIXED"):
        block = field_block(page, name)
        assert 'class="field-error"' in block, name
        assert 'aria-invalid="true"' in block or 'role="radiogroup"' in block
    assert 'class="field-error"' not in field_block(page, "REMARK")
    assert "稍后再说" in field_block(page, "REMARK")  # what was typed is kept
    errors = page[page.index('class="field-error"') :]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in errors.split("</ul>")[0])  # in Chinese
    assert world.task("DEMO-0002", "callback").status == "open"
    assert _variables(world, task.instance_id) == before


def test_with_the_english_locale_the_errors_are_english(world: World) -> None:
    task = _claimed(world)
    client = world.client("agent")
    post(client, "/locale", {"locale": "en", "next": "/tasks"})
    response = post(client, f"/tasks/{task.id}/complete", {"REMARK": "later"})
    assert response.status_code == 422
    page = text(response)
    assert "Please correct the marked fields." in flashes(page)
    error = field_block(page, "ONTIME").split('class="field-error"')[1].split("</ul>")[0]
    assert error.strip()
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in error), error
    assert world.task("DEMO-0002", "callback").status == "open"


def test_completing_with_valid_data_closes_the_task(world: World) -> None:
    task = _claimed(world)
    client = world.client("agent")
    response = post(client, f"/tasks/{task.id}/complete", GOOD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks"
    page = text(client.get("/tasks"))
    assert "任务已完成。" in flashes(page)
    done = world.task("DEMO-0002", "callback")
    assert (done.status, done.completed_by) == ("completed", "agent")
    assert _variables(world, task.instance_id)["REMARK"] == "师傅很专业"
    assert "此任务状态为：completed。" in text(client.get(f"/tasks/{task.id}"))


def test_completing_a_task_twice_shows_the_someone_else_was_first_page(world: World) -> None:
    task = _claimed(world)
    first, second = world.client("agent"), world.client("agent")
    assert "data-task-form" in text(second.get(f"/tasks/{task.id}"))  # both have the form open
    assert post(first, f"/tasks/{task.id}/complete", GOOD).status_code == 302
    response = post(second, f"/tasks/{task.id}/complete", {**GOOD, "REMARK": "second"})
    assert response.status_code == 409
    page = text(response)
    assert "其他人已抢先处理——请刷新页面查看最新状态。" in page
    assert _variables(world, task.instance_id)["REMARK"] == "师傅很专业"


def test_an_outlet_opening_another_outlets_task_gets_the_404_page(world: World) -> None:
    task = world.task("DEMO-0003", "visit")  # at the Guangzhou Tianhe outlet
    assert world.client("outlet2").get(f"/tasks/{task.id}").status_code == 200
    client = world.client("outlet")  # Shanghai Pudong
    response = client.get(f"/tasks/{task.id}")
    assert response.status_code == 404
    page = text(response)
    assert "页面不存在" in page
    assert "赵敏" not in page and "DEMO-0003" not in page
    assert post(client, f"/tasks/{task.id}/claim").status_code == 404
    assert world.task("DEMO-0003", "visit").assignee is None


def test_a_comment_shows_on_the_task_page(world: World) -> None:
    client = world.client("agent")
    task = world.task("DEMO-0002", "callback")
    response = post(client, f"/tasks/{task.id}/comment", {"body": "客户要求下午联系"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#comments")
    page = text(client.get(f"/tasks/{task.id}"))
    comments = page[page.index('id="comments"') :]
    assert "客户要求下午联系" in comments
    assert "<strong>agent</strong>" in comments
    with world.session_factory() as session:
        assert session.scalar(sa.select(Comment.body)) == "客户要求下午联系"


def test_an_empty_comment_is_refused(world: World) -> None:
    client = world.client("agent")
    task = world.task("DEMO-0002", "callback")
    response = post(client, f"/tasks/{task.id}/comment", {"body": "   "})
    assert "备注内容不能为空。" in flashes(text(client.get(response.headers["Location"])))
    with world.session_factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0
