"""Typed answers: every API route declares what it answers, and ``/openapi.json`` says it.

A JSON route has a response model (a Pydantic model, or a list of them: not ``dict``); a route
that answers a file, CSV, a stream or a redirect names its media type in ``responses=``; a route
that answers nothing is a ``204``. The document validates as OpenAPI, names a schema for each
answer, and real answers of a sample of routes fit their schema (schemathesis checks them).
"""

from __future__ import annotations

import typing
from datetime import timedelta

import pytest
import schemathesis
from fastapi import APIRouter, FastAPI
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from onethread.api.answers import media
from onethread.api.tmf.answers import TroubleTicket
from onethread.app import create_app
from onethread.bootstrap import build
from onethread.config import Settings
from tests.support.routes import route_contexts
from tests.support.trouble_ticket_api import make_world, ticket_body

V1 = "/api/v1"

API_PREFIXES = ("/api/", "/tmf-api/")
HEALTH = ("/healthz", "/readyz")
JSON = "application/json"


def _is_model(annotation: object) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    origin = typing.get_origin(annotation)
    if origin is list:
        return all(_is_model(a) for a in typing.get_args(annotation))
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return all(_is_model(a) or a is type(None) for a in typing.get_args(annotation))
    return False


def _other_media(responses: dict) -> list[str]:
    """The non-JSON media types a route declares for a 2xx or 3xx answer."""
    found = []
    for status, entry in (responses or {}).items():
        if str(status)[0] in "23":
            found += [m for m in (entry.get("content") or {}) if m != JSON]
    return found


def untyped(app) -> tuple[list[str], int]:
    """(the API routes that declare no answer, how many API routes there are)."""
    offenders, count = [], 0
    for _, ctx in route_contexts(app):
        path = getattr(ctx, "path", "") or ""
        if not (path.startswith(API_PREFIXES) or path in HEALTH) or not hasattr(ctx, "response_model"):
            continue
        count += 1
        if _is_model(ctx.response_model) or _other_media(ctx.responses) or ctx.status_code == 204:
            continue
        offenders.append(f"{','.join(sorted(ctx.methods))} {path} ({ctx.endpoint.__module__}.{ctx.endpoint.__name__}) "
                         f"answers {ctx.response_model!r}")
    return offenders, count


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory):
    path = tmp_path_factory.mktemp("answers") / "routes.db"
    container = build(Settings(database_url=f"sqlite:///{path}", env="test"), check_schema=False)
    yield create_app(container=container)
    container.dispose()


def test_every_api_route_declares_its_answer(bare_app):
    offenders, count = untyped(bare_app)
    assert count > 200
    assert not offenders, "API routes without a response model or a declared non-JSON answer:\n" + "\n".join(offenders)


def test_the_walk_catches_a_route_that_answers_a_bare_dict():
    class Thing(BaseModel):
        id: str

    app = FastAPI()
    router = APIRouter(prefix="/api/v1")

    @router.get("/bare")
    def bare() -> dict:
        return {}

    @router.get("/typed", response_model=list[Thing])
    def typed() -> list[dict]:
        return []

    @router.get("/csv", response_class=PlainTextResponse, responses=media("text/csv"))
    def csv() -> str:
        return ""

    @router.delete("/gone", status_code=204)
    def gone() -> None:
        return None

    app.include_router(router)
    offenders, count = untyped(app)
    assert count == 4
    assert offenders == ["GET /api/v1/bare (tests.api.test_openapi_answers.bare) answers <class 'dict'>"]


def _success(operation: dict) -> tuple[str, dict]:
    status = min(s for s in operation["responses"] if s[0] in "23")
    return status, operation["responses"][status]


def _names_a_schema(schema: dict) -> bool:
    if "$ref" in schema:
        return True
    if schema.get("type") == "array":
        return _names_a_schema(schema.get("items", {}))
    return any(_names_a_schema(s) for s in schema.get("anyOf", []))


def test_openapi_is_valid_and_names_every_json_answer(bare_app):
    document = bare_app.openapi()  # what /openapi.json serves
    schemathesis.openapi.from_dict(document).validate()  # the OpenAPI 3.1 meta-schema: raises when invalid
    unnamed = []
    for path, item in document["paths"].items():
        if not (path.startswith(API_PREFIXES) or path in HEALTH):
            continue
        for method, operation in item.items():
            status, answer = _success(operation)
            content = answer.get("content") or {}
            if status == "204" or any(m != JSON for m in content):
                continue
            if not _names_a_schema(content.get(JSON, {}).get("schema", {})):
                unnamed.append(f"{method.upper()} {path}")
    assert not unnamed, "answers without a named schema in /openapi.json:\n" + "\n".join(unnamed)
    components = document["components"]["schemas"]
    ticket = document["paths"]["/tmf-api/troubleTicket/v5/troubleTicket/{ticket_id}"]["get"]
    ref = ticket["responses"]["200"]["content"][JSON]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"id", "href", "@type", "status", "relatedParty"} <= set(components[ref]["properties"])
    assert components[ref]["additionalProperties"] is True  # TMF resources are open: extensions add attributes
    pdf = document["paths"]["/api/v1/letters/{document_id}/pdf"]["get"]["responses"]["200"]["content"]
    assert "application/pdf" in pdf


def test_real_answers_fit_their_documented_schema(app, client, uow, clock, admin):
    """A case's life and a customer's reads over HTTP: each answer is checked against the schema
    /openapi.json gives for it (schemathesis), with the attributes the route did not set left out."""
    world = make_world(uow, clock)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checked = []

    def fits(response, path: str, method: str = "GET", status: int = 200) -> dict:
        assert response.status_code == status, response.text
        schema[path][method].validate_response(response)  # raises naming the attribute that does not fit
        checked.append(f"{method} {path}")
        return response.json()

    tickets = "/tmf-api/troubleTicket/v5/troubleTicket"
    ticket = fits(client.post(tickets, json=ticket_body(world.customer), headers=world.as_alex), tickets, "POST", 201)
    assert "resolutionDate" not in ticket and "expectedResolutionDate" in ticket  # unset stays out, never null
    assert "clocks" not in TroubleTicket.model_fields and ticket["clocks"]  # what the model does not name is kept
    fits(client.get(f"{tickets}/{ticket['id']}", headers=world.as_alex), tickets + "/{ticket_id}")
    fits(client.get(tickets, headers=world.as_alex), tickets)
    only = fits(client.get(f"{tickets}/{ticket['id']}?fields=status", headers=world.as_alex), tickets + "/{ticket_id}")
    assert set(only) == {"id", "href", "@type", "@baseType", "@schemaLocation", "status"}
    due = (clock.now() + timedelta(days=2)).isoformat()
    promise = fits(client.post(f"{V1}/cases/{ticket['id']}/commitments", json={
        "text": "call back", "dueAt": due, "madeVia": "phone"}, headers=world.as_alex),
        V1 + "/cases/{case_id}/commitments", "POST", 201)
    assert promise["case"]["owner"]["name"] == "Alex Morgan"
    fits(client.get(f"{V1}/cases/{ticket['id']}/brief", headers=world.as_alex), V1 + "/cases/{case_id}/brief")
    fits(client.get(f"{V1}/cases/{ticket['id']}/events", headers=world.as_alex), V1 + "/cases/{case_id}/events")
    customers = "/tmf-api/customer/v5/customer"
    fits(client.get(f"{customers}/{world.customer}", headers=admin), customers + "/{customer_id}")
    fits(client.get(f"{V1}/customers/{world.customer}/360", headers=admin), V1 + "/customers/{customer_id}/360")
    fits(client.get(f"{V1}/customers/{world.customer}/timeline", headers=admin),
         V1 + "/customers/{customer_id}/timeline")
    fits(client.get(f"/tmf-api/productInventory/v5/product/{world.product}", headers=admin),
         "/tmf-api/productInventory/v5/product/{product_id}")
    fits(client.get(f"{V1}/me/work", headers=world.as_alex), V1 + "/me/work")
    fits(client.get(f"{V1}/search?q=Hughes", headers=admin), V1 + "/search")
    fits(client.get("/readyz"), "/readyz")
    assert len(checked) == 14
