"""Photo fields of a posted form, and serving stored photos to those who may see them."""

from __future__ import annotations

from flask import abort, send_file
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..models import Attachment
from ..uploads import store_photo, upload_dir
from . import bp


def save_photos(form: dict, files: MultiDict, username: str, org_path: str) -> dict:
    """``{field: [attachment ids]}`` for the photo fields that got files in this post."""
    out: dict[str, list[str]] = {}
    photo_fields = [
        name
        for name, hints in (form.get("ui") or {}).get("fields", {}).items()
        if hints.get("widget") == "photo"
    ]
    for name in photo_fields:
        uploads = [f for f in files.getlist(f"{name}__upload") if f and f.filename]
        if uploads:
            out[name] = [store_photo(f, username, org_path) for f in uploads]
    return out


@bp.get("/attachments/<attachment_id>")
@login_required
def attachment(attachment_id: str):  # noqa: ANN201
    row = db.session.get(Attachment, attachment_id)
    if row is None or not current_user.actor.sees(row.org_path):
        abort(404)
    return send_file(upload_dir() / row.id, mimetype=row.content_type, download_name=row.file_name)
