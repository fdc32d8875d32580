"""Photos uploaded with a form: recognised by their own bytes, kept in the database.

``stage_photo`` adds the attachment row (bytes included) to the request's session; the
completion that follows commits it with the task, or its failure rolls it back, so a refused
completion leaves neither a row nor a file behind. A file is accepted only when its bytes are
a JPEG, PNG or WebP, and a file whose declared type names another image type is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid

from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from engine.errors import InvalidInput

from .models import Attachment

MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_SIGNATURE_BYTES = 512 * 1024
SIGNATURE_PREFIX = "data:image/png;base64,"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WEBP_CHUNKS = (b"VP8 ", b"VP8L", b"VP8X")
TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}


def image_type(content: bytes) -> str | None:
    """The image type ``content`` is by its signature, or None.

    JPEG: the SOI marker and the first marker's FF. PNG: its 8-byte signature. WebP: a RIFF
    file whose form type (the fourcc at offset 8) is ``WEBP`` and whose first chunk is one of
    WebP's (a bare ``RIFF`` is also what WAV and AVI files start with).
    """
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(PNG_SIGNATURE):
        return "image/png"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP" and content[12:16] in WEBP_CHUNKS:
        return "image/webp"
    return None


def stage_photo(
    session: Session, upload: FileStorage, uploaded_by: str, instance_id: int, org_path: str
) -> str:
    """Check one uploaded photo and add its row to ``session``; the caller's command commits it."""
    content = upload.read(MAX_PHOTO_BYTES + 1)
    if len(content) > MAX_PHOTO_BYTES:
        raise InvalidInput("a photo may have at most 8 MB", {"photo": "too large"})
    if not content:
        raise InvalidInput("the photo is empty", {"photo": "empty"})
    kind = image_type(content)
    if kind is None:
        raise InvalidInput("only JPEG, PNG and WebP photos are accepted", {"photo": "not an image"})
    declared = (upload.mimetype or "").lower()
    declared = TYPE_ALIASES.get(declared, declared)
    if declared.startswith("image/") and declared != kind:
        raise InvalidInput(
            f"the file says it is {declared} but it is {kind}", {"photo": "not what it says"}
        )
    attachment_id = str(uuid.uuid4())
    session.add(
        Attachment(
            id=attachment_id,
            file_name=(upload.filename or "photo")[:255],
            content_type=kind,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=uploaded_by,
            instance_id=instance_id,
            org_path=org_path,
            content=content,
        )
    )
    return attachment_id


def check_signature(value: object) -> str | None:
    """What is wrong with a signature field's value (a PNG data URL, as the signature pad
    writes it), or None when it is one or empty."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.startswith(SIGNATURE_PREFIX):
        return "not a PNG data URL"
    encoded = value[len(SIGNATURE_PREFIX) :]
    if len(encoded) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        return "too large"
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return "not a PNG data URL"
    return None if content.startswith(PNG_SIGNATURE) else "not a PNG image"
