"""Photos uploaded with a form: checked, stored under the instance folder, named by id."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage

from engine.errors import InvalidInput

from .extensions import db
from .models import Attachment

IMAGE_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG", "image/webp": b"RIFF"}
MAX_PHOTO_BYTES = 8 * 1024 * 1024


def upload_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_photo(upload: FileStorage, uploaded_by: str, org_path: str) -> str:
    """Keep one image; refuse anything that is not a JPEG, PNG or WebP by its own bytes."""
    content = upload.read(MAX_PHOTO_BYTES + 1)
    if len(content) > MAX_PHOTO_BYTES:
        raise InvalidInput("a photo may have at most 8 MB", {"photo": "too large"})
    kind = next((t for t, magic in IMAGE_TYPES.items() if content.startswith(magic)), None)
    if kind is None:
        raise InvalidInput("only JPEG, PNG and WebP photos are accepted", {"photo": "not an image"})
    attachment_id = str(uuid.uuid4())
    (upload_dir() / attachment_id).write_bytes(content)
    db.session.add(
        Attachment(
            id=attachment_id,
            file_name=(upload.filename or "photo")[:255],
            content_type=kind,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=uploaded_by,
            org_path=org_path,
        )
    )
    return attachment_id
