"""Administration pages: who may open them, users, units, CSV import and the form editor."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa

from engine.models import OrgUnit
from forms.store import form_document, latest_form

from . import pages
from .pages import World, flashes, login, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL


def test_a_non_admin_gets_403_on_the_user_admin(world: World) -> None:
    client = world.client("agent")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "您无权执行此操作。" in text(response)
    response = post(client, "/admin/users", {"username": "mallory", "password": "12345678"})
    assert response.status_code == 403
    assert world.user("mallory") is None


def test_an_admin_creates_a_user_who_can_then_sign_in(world: World) -> None:
    client = world.client("admin")
    form = {
        "username": "agent3",
        "display_name": "座席 周敏",
        "org": "HQ-CC",
        "groups": "agents, callbacks",
        "roles": ["agent"],
        "password": "secret-pass",
        "active": "true",
    }
    response = post(client, "/admin/users", form)
    assert response.status_code == 302
    page = text(client.get("/admin/users"))
    assert "用户已保存。" in flashes(page)
    assert "座席 周敏" in page
    user = world.user("agent3")
    assert user.active and user.roles == ["agent"]
    newcomer = world.app.test_client()
    assert login(newcomer, "agent3", "secret-pass").headers["Location"] == "/calls/incoming"


def test_a_user_with_a_short_password_is_refused(world: World) -> None:
    client = world.client("admin")
    response = post(client, "/admin/users", {"username": "agent3", "password": "short"})
    assert response.status_code == 422
    assert world.user("agent3") is None
    assert "密码至少 8 个字符" in flashes(text(client.get("/admin/users")))


def test_an_admin_creates_an_org_unit(world: World) -> None:
    client = world.client("admin")
    form = {"code": "O-SZ-NS", "name": "深圳南山网点", "kind": "outlet", "parent": "C-SOUTH"}
    response = post(client, "/admin/org", form)
    assert response.status_code == 302
    page = text(client.get("/admin/org"))
    assert "组织单位已保存。" in flashes(page)
    assert "深圳南山网点" in page
    with world.session_factory() as session:
        unit = session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "O-SZ-NS"))
        parent = session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "C-SOUTH"))
        assert unit.kind == "outlet" and unit.parent_id == parent.id


def test_importing_users_from_a_csv_file(world: World) -> None:
    csv_text = (
        "username,display_name,org,roles,groups,password,admin\n"
        "eng2,工程师 钱进,O-SH-PD,engineer,outlets,long-enough-1,no\n"
        "eng3,工程师 孙武,O-GZ-TH,engineer;outlet_manager,outlets,long-enough-2,no\n"
    )
    client = world.client("admin")
    upload = (io.BytesIO(("\ufeff" + csv_text).encode()), "people.csv")
    response = post(
        client, "/admin/users/import", {"file": upload}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    page = text(client.get("/admin/users"))
    assert "用户已导入。" in flashes(page)
    assert "工程师 钱进" in page and "工程师 孙武" in page
    assert sorted(world.user("eng3").roles) == ["engineer", "outlet_manager"]
    assert login(world.app.test_client(), "eng2", "long-enough-1").status_code == 302


def test_a_bad_csv_file_imports_nothing(world: World) -> None:
    client = world.client("admin")
    upload = (io.BytesIO(b"name,unit\nx,y\n"), "people.csv")
    response = post(
        client, "/admin/users/import", {"file": upload}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert world.user("x") is None


def _form_version(world: World, key: str) -> int:
    with world.session_factory() as session:
        return latest_form(session, key).version


def test_a_designer_saving_a_changed_form_makes_a_new_version(world: World) -> None:
    client = world.client("designer")
    page = text(client.get("/admin/forms/review"))
    assert "另存为新版本" in page
    with world.session_factory() as session:
        document = form_document(latest_form(session, "review"))
    document["title"] = {"zh": "审核（新版）", "en": "Review (new)"}
    response = post(client, "/admin/forms/review", {"document": json.dumps(document)})
    assert response.status_code == 302
    page = text(client.get("/admin/forms/review"))
    assert "已保存为第 2 版。" in flashes(page)
    assert "审核（新版）" in page
    assert _form_version(world, "review") == 2


def test_invalid_json_in_the_form_editor_answers_422_with_a_message(world: World) -> None:
    client = world.client("designer")
    response = post(client, "/admin/forms/review", {"document": '{"title": '})
    assert response.status_code == 422
    page = text(response)
    assert 'class="flash flash-error" role="alert"' in page
    assert "{&#34;title&#34;: " in page or '{"title": ' in page  # what was typed is kept
    assert _form_version(world, "review") == 1


def test_a_non_designer_may_not_edit_forms(world: World) -> None:
    client = world.client("agent")
    assert client.get("/admin/forms/review").status_code == 403
    response = post(client, "/admin/forms/review", {"document": "{}"})
    assert response.status_code == 403
    assert _form_version(world, "review") == 1
