"""Keeping the files a contact carries, and reading them back under the contact's permissions.

A file is checked (size, an allowed type, bytes that are what the type says: ``rules.check``),
its bytes put in the attachment store (``storage``), and a row recorded with the contact; the
contact's attachment list names it with its download address. Every read of a file is audited
with the contact's customer, as a read of the contact is.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.attachments import rules
from onethread.attachments.storage import FilesystemStore, Store
from onethread.db.session import settings_of
from onethread.errors import NotFound, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.models import Attachment, Contact

SOURCES = ("email", "portal", "field", "api")


@dataclass(frozen=True)
class Incoming:
    """A file as a channel hands it over."""

    name: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_files: int
    types: tuple[str, ...]


def limits(session: Session) -> Limits:
    settings = settings_of(session)
    types = tuple(t.strip().lower() for t in settings.attachment_types.split(",") if t.strip())
    return Limits(settings.attachment_max_bytes, settings.attachment_max_files, types)


def store_of(session: Session) -> Store:
    return FilesystemStore(settings_of(session).attachments_dir)


def content_url(attachment_id: str) -> str:
    return f"/api/v1/attachments/{attachment_id}/content"


def check_all(session: Session, files: list[Incoming], *, field: str = "attachment") -> list[rules.Checked]:
    """Check every file before anything is written: one refused file refuses them all (a 4xx naming it)."""
    lim = limits(session)
    if len(files) > lim.max_files:
        raise ValidationFailed(f"at most {lim.max_files} files with one contact", field=field)
    try:
        return [rules.check(f.name, f.content_type, f.data, max_bytes=lim.max_bytes, allowed=lim.types)
                for f in files]
    except rules.Refused as exc:
        raise ValidationFailed(str(exc), field=field) from exc


def keep(session: Session, clock: Clock, actor: Principal, contact: Contact, files: list[Incoming], *,
         source: str, strict: bool = True) -> list[Attachment]:
    """Keep ``files`` with ``contact``. ``strict`` (portal, API, field photos): a refused file refuses
    the request, nothing kept. Not strict (e-mail, which cannot be sent back): a refused file is
    noted in the contact's attachment list with the reason, the others are kept.

    The contact's attachment list (``contact.attachments``) gets, for each file in order, its id,
    name, type, size and download address (what the channel said about it is kept beside)."""
    if source not in SOURCES:
        raise ValueError(f"unknown attachment source {source!r}")
    if not files:
        return []
    lim = limits(session)
    checked: list[rules.Checked | str] = []
    if strict:
        checked = list(check_all(session, files))
    else:
        for f in files[:lim.max_files]:
            try:
                checked.append(rules.check(f.name, f.content_type, f.data, max_bytes=lim.max_bytes,
                                           allowed=lim.types))
            except rules.Refused as exc:
                checked.append(str(exc))
        checked += [f"more than {lim.max_files} files; not kept"] * (len(files) - len(checked))
    store = store_of(session)
    now = clock.now()
    described = list(contact.attachments or [])
    kept, listed = [], []
    for n, (incoming, result) in enumerate(zip(files, checked, strict=True)):
        said = described[n] if n < len(described) and isinstance(described[n], dict) else {}
        if isinstance(result, str):
            listed.append({**said, "name": rules.safe_name(incoming.name, ""), "refused": result})
            continue
        key = store.put(incoming.data)
        row = Attachment(contact_id=contact.id, customer_id=contact.customer_id, filename=result.filename,
                         content_type=result.content_type, size=result.size, sha256=key.rsplit("/", 1)[-1],
                         storage_key=key, source=source, created_at=now,
                         created_by=actor.id if actor.kind == "staff" else None)
        session.add(row)
        session.flush()
        kept.append(row)
        listed.append({**said, "id": row.id, "name": row.filename, "mimeType": row.content_type,
                       "size": row.size, "url": content_url(row.id)})
    contact.attachments = listed + described[len(files):]
    return kept


def for_contacts(session: Session, contact_ids: list[str]) -> dict[str, list[Attachment]]:
    """The kept files of these contacts, oldest first (one query, also for none: a page costs the same)."""
    out: dict[str, list[Attachment]] = defaultdict(list)
    for row in session.scalars(select(Attachment).where(Attachment.contact_id.in_(set(contact_ids)))
                               .order_by(Attachment.created_at, Attachment.id)):
        out[row.contact_id].append(row)
    return out


def get(session: Session, attachment_id: str) -> tuple[Attachment, Contact]:
    row = session.get(Attachment, attachment_id)
    contact = session.get(Contact, row.contact_id) if row is not None else None
    if row is None or contact is None:
        raise NotFound(f"no attachment {attachment_id}")
    return row, contact


def read(session: Session, clock: Clock, actor: Principal, attachment_id: str, *, channel: str | None = None,
         with_content: bool = True) -> tuple[Attachment, Contact, bytes | None]:
    """A file and its contact, for someone allowed to read the contact; audited as a read of the
    customer's data (the contact's customer)."""
    row, contact = get(session, attachment_id)
    access.audit(session, clock, actor, action="read", resource_type="attachment", resource_id=row.id,
                 customer_id=contact.customer_id, channel=channel,
                 purpose="download" if with_content else "metadata", detail={"contactId": contact.id})
    return row, contact, content_of(session, row) if with_content else None


def content_of(session: Session, row: Attachment) -> bytes:
    try:
        return store_of(session).get(row.storage_key)
    except FileNotFoundError as exc:
        raise NotFound(f"the file of attachment {row.id} is not in the attachment store") from exc


def follow_contact(session: Session, contact_id: str, customer_id: str) -> None:
    """A contact was linked to its customer (from the match queue): its files are that customer's."""
    session.execute(update(Attachment).where(Attachment.contact_id == contact_id).values(customer_id=customer_id))
