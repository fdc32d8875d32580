"""Photos of a work report: recognised by their own bytes, stored by the completion that
brings them (a refused completion keeps nothing), served only within scope and as images.

The signature field takes only the PNG data URL a signature pad writes."""

from __future__ import annotations

import base64
import struct
from io import BytesIO
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.models import HumanTask
from tests.ui import pages
from tests.ui.board_world import REPORT, Orders, build
from tests.ui.pages import World, field_block, post, text
from webapp.models import Attachment

from .images import png

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
WEBP = b"RIFF" + struct.pack("<I", 30) + b"WEBPVP8 " + struct.pack("<I", 18) + b"\x00" * 18
WAVE = b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + b"\x00" * 28  # RIFF, but a sound


@pytest.fixture
def orders(world: World) -> Orders:
    return build(world)


def report_task(world: World, orders: Orders) -> str:
    with world.session_factory() as session:
        return session.scalar(
            sa.select(HumanTask.id).where(
                HumanTask.business_key == orders["D"], HumanTask.name == "work_report"
            )
        )


def attachments(world: World) -> list[Attachment]:
    with world.session_factory() as session:
        return list(session.scalars(sa.select(Attachment)))


def complete(world: World, task_id: str, files: list[tuple[bytes, str, str]], **fields: object):  # noqa: ANN201
    data = {**REPORT, **fields}
    data["photos__upload"] = [
        (BytesIO(content), name, mimetype) for content, name, mimetype in files
    ]
    return post(world.client("engineer"), f"/tasks/{task_id}/complete", data)


@pytest.mark.parametrize(
    ("content", "name", "mimetype"),
    [
        (JPEG, "a.jpg", "image/jpeg"),
        (png(), "b.png", "image/png"),
        (WEBP, "c.webp", "image/webp"),
        (JPEG, "d.bin", "application/octet-stream"),  # no claim: the bytes decide
    ],
)
def test_a_photo_is_stored_with_the_completion_and_served_as_its_type(
    world: World, orders: Orders, content: bytes, name: str, mimetype: str
) -> None:
    response = complete(world, report_task(world, orders), [(content, name, mimetype)])
    assert response.status_code == 302
    (row,) = attachments(world)
    served = world.client("engineer").get(f"/attachments/{row.id}")
    assert served.status_code == 200
    assert served.data == content
    assert served.mimetype == row.content_type and row.content_type.startswith("image/")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]


def test_a_refused_completion_keeps_no_photo(world: World, orders: Orders) -> None:
    task_id = report_task(world, orders)
    response = complete(world, task_id, [(png(), "b.png", "image/png")], solution="")
    assert response.status_code == 422
    assert attachments(world) == []
    assert not list((Path(world.app.instance_path) / "uploads").glob("*"))  # nor a file
    photos = field_block(text(response), "photos")
    assert 'type="hidden"' not in photos  # the form offers no photo that was not kept
    assert "请重新选择照片" in photos


@pytest.mark.parametrize(
    ("content", "name", "mimetype"),
    [
        (WAVE, "song.webp", "image/webp"),  # starts with RIFF, form type WAVE
        (b"<html><script>alert(1)</script>", "x.png", "image/png"),
        (JPEG, "liar.png", "image/png"),  # a JPEG that says it is a PNG
        (b"", "empty.jpg", "image/jpeg"),
    ],
)
def test_a_file_that_is_not_the_image_it_claims_is_refused_and_nothing_is_kept(
    world: World, orders: Orders, content: bytes, name: str, mimetype: str
) -> None:
    task_id = report_task(world, orders)
    response = complete(world, task_id, [(png(), "ok.png", "image/png"), (content, name, mimetype)])
    assert response.status_code == 422
    assert "只接受" in response.get_data(as_text=True)
    assert attachments(world) == []
    with world.session_factory() as session:
        assert session.get(HumanTask, task_id).status == "open"


def test_a_photo_over_8_mb_is_refused(world: World, orders: Orders) -> None:
    big = JPEG + b"\x00" * (8 * 1024 * 1024)
    response = complete(world, report_task(world, orders), [(big, "big.jpg", "image/jpeg")])
    assert response.status_code == 422
    assert attachments(world) == []


def test_a_photo_is_not_served_outside_its_scope(world: World, orders: Orders) -> None:
    complete(world, report_task(world, orders), [(png(), "b.png", "image/png")])
    (row,) = attachments(world)
    assert world.client("outlet2").get(f"/attachments/{row.id}").status_code == 404  # Guangzhou
    assert world.app.test_client().get(f"/attachments/{row.id}").status_code == 302  # sign in


@pytest.mark.parametrize(
    "signature",
    [
        "javascript:alert(1)",
        "data:image/svg+xml;base64," + base64.b64encode(b"<svg onload=alert(1)>").decode(),
        "data:image/png;base64," + base64.b64encode(b"<html>").decode(),
        "data:image/png;base64,not base64!",
    ],
)
def test_a_signature_that_is_not_a_drawn_png_is_refused(
    world: World, orders: Orders, signature: str
) -> None:
    task_id = report_task(world, orders)
    response = complete(world, task_id, [], customer_signature=signature)
    assert response.status_code == 422
    assert 'class="field-error"' in field_block(text(response), "customer_signature")


def test_a_drawn_signature_is_accepted(world: World, orders: Orders) -> None:
    signature = "data:image/png;base64," + base64.b64encode(png()).decode()
    response = complete(world, report_task(world, orders), [], customer_signature=signature)
    assert response.status_code == 302
