"""Attachments kept with contacts: ``GET /api/v1/attachments/{id}`` (what it is, which contact) and
``GET /api/v1/attachments/{id}/content`` (the file). The same roles that read contacts, and each read
audited with the contact's customer. Also ``files_of``: base64 ``content`` in an intake body, decoded."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from onethread.access.rules import CUSTOMER_READERS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.v1.answers import customers as out
from onethread.attachments import service as attachments
from onethread.errors import ValidationFailed
from onethread.models import Attachment

router = APIRouter(prefix="/api/v1", tags=["attachments"], route_class=AnswerRoute)


def attachment_json(row: Attachment) -> dict:
    return {"id": row.id, "contactId": row.contact_id, "customerId": row.customer_id, "name": row.filename,
            "mimeType": row.content_type, "size": row.size, "sha256": row.sha256, "source": row.source,
            "createdAt": row.created_at.isoformat(), "url": attachments.content_url(row.id)}


def file_response(row: Attachment, data: bytes) -> Response:
    """The file as a download, never rendered by the browser as a page of ours."""
    ascii_name = row.filename.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(row.filename)}"
    return Response(data, media_type=row.content_type, headers={
        "Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox", "Cache-Control": "private, no-store"})


def files_of(items: list, *, field: str = "attachment") -> list[attachments.Incoming]:
    """The files an intake body carries as base64 ``content`` (those without content are metadata only)."""
    out = []
    for n, item in enumerate(items):
        content = getattr(item, "content", None)
        if content is None:
            continue
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationFailed(f"{field}[{n}].content is not base64", field=field) from exc
        out.append(attachments.Incoming(getattr(item, "name", None), getattr(item, "mimeType", None), data))
    return out


@router.get("/attachments/{attachment_id}", response_model=out.AttachmentInfo,
            summary="What a kept file is, and the contact it came with")
def get_attachment(attachment_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS)) -> dict:
    row, _, _ = attachments.read(session, clock, actor, attachment_id, channel="api", with_content=False)
    return attachment_json(row)


@router.get("/attachments/{attachment_id}/content", summary="Download a kept file",
            response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}})
def get_attachment_content(attachment_id: str, session: DbSession, clock: ClockDep,
                           actor: allow(CUSTOMER_READERS)) -> Response:
    row, _, data = attachments.read(session, clock, actor, attachment_id, channel="api")
    return file_response(row, data)
