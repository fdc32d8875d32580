"""Photo fields of a posted form, and serving stored photos to those who may see them."""

from __future__ import annotations

from io import BytesIO

from flask import abort, send_file
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import undefer
from werkzeug.datastructures import MultiDict

from engine.errors import InvalidInput
from engine.identity import Actor
from engine.models import HumanTask, ProcessInstance

from ..extensions import db
from ..models import Attachment
from ..uploads import stage_photo
from . import bp


def stage_photos(form: dict, files: MultiDict, username: str, task: HumanTask) -> dict:
    """``{field: [attachment ids]}`` for the photo fields that got files in this post; the
    rows wait in the session for the completion's commit."""
    out: dict[str, list[str]] = {}
    photo_fields = [
        name
        for name, hints in (form.get("ui") or {}).get("fields", {}).items()
        if hints.get("widget") == "photo"
    ]
    for name in photo_fields:
        uploads = [f for f in files.getlist(f"{name}__upload") if f and f.filename]
        try:
            ids = [
                stage_photo(db.session, f, username, task.instance_id, task.org_path)
                for f in uploads
            ]
        except InvalidInput as exc:
            message = _("Only JPEG, PNG and WebP photos of at most 8 MB are accepted.")
            raise InvalidInput(str(exc), {"fields": {name: [message]}}) from None
        if ids:
            out[name] = ids
    return out


@bp.get("/attachments/<attachment_id>")
def attachment(attachment_id: str):  # noqa: ANN201
    row = db.session.get(Attachment, attachment_id[:36], options=[undefer(Attachment.content)])
    if row is None or row.content is None or not _may_see(current_user.actor, row):
        abort(404)
    response = send_file(
        BytesIO(row.content), mimetype=row.content_type, download_name=row.file_name
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _may_see(actor: Actor, row: Attachment) -> bool:
    """Its uploader, and whoever sees its instance where the instance is now."""
    if row.uploaded_by == actor.username:
        return True
    if row.instance_id is None:
        return actor.sees(row.org_path)
    instance = db.session.get(ProcessInstance, row.instance_id)
    return instance is not None and actor.sees(instance.org_path)
