"""Contact batches (``POST /api/v1/contact-batches``): a channel gateway delivers many contacts
in one request.

Each contact is the body ``POST /tmf-api/partyInteraction/v5/partyInteraction`` takes, and is
recorded as that endpoint records it (matching, the match queue, idempotency on the channel's
message id, the timeline and the outbox), in one transaction for the batch. One contact that
would be refused and none is stored. See docs/api/party-interaction.md.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from onethread.access.rules import CUSTOMER_WRITERS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, ContainerDep, DbSession, allow
from onethread.api.tmf.party_interaction import PartyInteractionCreate, contact_path, intake_of, render
from onethread.api.v1.answers import channels as out
from onethread.errors import DomainError
from onethread.interactions import batch_service

router = APIRouter(prefix="/api/v1", tags=["TMF683 party interaction"], route_class=AnswerRoute)


class ContactBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partyInteraction: list[PartyInteractionCreate] = Field(
        ..., min_length=1, max_length=batch_service.MAX_BATCH,
        description=f"1 to {batch_service.MAX_BATCH} contacts, each as POST /tmf-api/partyInteraction/v5/"
                    "partyInteraction takes it")


@router.post("/contact-batches", response_model=out.ContactBatch,
             summary="Record a batch of contacts from a channel gateway, all or none")
def record_batch(body: ContactBatchIn, session: DbSession, clock: ClockDep, container: ContainerDep,
                 actor: allow(CUSTOMER_WRITERS)) -> JSONResponse:
    intakes = []
    for i, item in enumerate(body.partyInteraction):
        try:
            intakes.append(intake_of(item, session, clock))
        except DomainError as exc:  # say which contact, keep the kind of error (400, 404)
            raise type(exc)(f"partyInteraction[{i}]: {exc.message}",
                            field=f"partyInteraction[{i}].{exc.field}" if exc.field else f"partyInteraction[{i}]",
                            details=exc.details) from exc
    try:
        recorded = batch_service.record_many(session, clock, actor, intakes, region=container.settings.default_region)
    except DomainError as exc:
        if exc.field and exc.field[:1].isdigit():  # "3.text": the service numbers the contacts
            index, _, rest = exc.field.partition(".")
            raise type(exc)(exc.message.replace(f"contact {index}: ", f"partyInteraction[{index}]: ", 1),
                            field=f"partyInteraction[{index}]" + (f".{rest}" if rest else ""),
                            details=exc.details) from exc
        raise
    bodies = render(session, [r.contact for r in recorded])
    results = [{"status": 201 if r.created else 200, "id": r.contact.id, "href": contact_path(r.contact.id),
                "partyInteraction": b} for r, b in zip(recorded, bodies, strict=True)]
    created = sum(1 for r in recorded if r.created)
    return JSONResponse({"created": created, "redelivered": len(recorded) - created, "results": results})
