"""TMF REST conventions: fields selection, offset/limit paging headers, hrefs, merge-patch, ETags."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Query, Request, Response
from pydantic import BaseModel, ValidationError

from onethread.errors import PreconditionFailed, ValidationFailed
from onethread.kernel.pagination import MAX_LIMIT

# What every answer keeps whatever ``fields=`` asks: what the resource is, where it lives, and
# how to read it (its base type and the schema of its extension).
ALWAYS = ("id", "href", "@type", "@baseType", "@schemaLocation", "@referredType")
MERGE_PATCH = "application/merge-patch+json"


class ListParams:
    """``fields``, ``offset`` and ``limit`` as every TMF list operation takes them."""

    def __init__(
        self,
        fields: str | None = Query(None, description="comma-separated attributes to return (id, href, @type, "
                                   "@baseType, @schemaLocation, @referredType always)"),
        offset: int = Query(0, ge=0, description="index of the first item to return"),
        limit: int = Query(100, ge=1, le=MAX_LIMIT, description=f"number of items to return (max {MAX_LIMIT})"),
    ):
        self.fields = parse_fields(fields)
        self.offset = offset
        self.limit = limit


def parse_fields(fields: str | None) -> list[str] | None:
    if fields is None:
        return None
    names = [f.strip() for f in fields.split(",") if f.strip()]
    if not names:
        raise ValidationFailed("fields= needs at least one attribute name", field="fields")
    return names


def select_fields(body: dict, fields: list[str] | None) -> dict:
    if fields is None or fields == ["none"]:
        return body if fields is None else {k: body[k] for k in ALWAYS if k in body}
    keep = set(fields) | set(ALWAYS)
    return {k: v for k, v in body.items() if k in keep}


def paged(response: Response, items: list[dict], total: int, fields: list[str] | None,
          next_cursor: str | None = None) -> list[dict]:
    """The page's counts in the TMF headers; ``next_cursor`` (keyset paging) in ``X-Next-Cursor``."""
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Result-Count"] = str(len(items))
    if next_cursor:
        response.headers["X-Next-Cursor"] = next_cursor
    return [select_fields(item, fields) for item in items]


# The keyset page after the previous one: its X-Next-Cursor (offset is then not used).
CURSOR = Query(None, max_length=2048, description="the X-Next-Cursor of the previous page: the page after it "
                                                   "(keyset paging; offset is then ignored)")


def href(request: Request, path: str) -> str:
    return path  # relative hrefs stay right behind any proxy


def etag_for(version: int) -> str:
    return f'W/"{version}"'


def check_if_match(request: Request, version: int) -> None:
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return
    tags = [t.strip() for t in header.split(",")]
    if etag_for(version) not in tags and f'"{version}"' not in tags:
        raise PreconditionFailed(
            f"the resource is at version {version}, not the one you sent in If-Match; reload it and retry",
            details={"currentETag": etag_for(version)},
        )


async def merge_patch_body(request: Request) -> dict[str, Any]:
    """The body of a PATCH as a JSON merge-patch object (RFC 7396)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in (MERGE_PATCH, "application/json"):
        raise ValidationFailed(f"PATCH takes {MERGE_PATCH} (got {ctype or 'no content type'})")
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"the body is not valid JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise ValidationFailed("a merge-patch body is a JSON object")
    return body


def parse_model(model: type[BaseModel], data: dict) -> BaseModel:
    """Validate ``data`` with ``model``; errors become one readable 400."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            parts.append(f"{where}: {msg}" if where else msg)
        raise ValidationFailed("; ".join(parts)) from exc


def created(response: Response, location: str) -> None:
    response.headers["Location"] = location
