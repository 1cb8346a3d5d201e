"""What every typed API answer is built on: the base models and the scalar types of answers.

Each route declares its answer, so ``/openapi.json`` describes it: a ``response_model`` for a JSON
answer (its models beside the route module, in the area's ``answers`` package), or the media type in
``responses=`` for a file, a CSV, a stream or a redirect (``tests/api/test_openapi_answers.py`` walks
the routes and fails on one that declares neither).

FastAPI validates an answer against its model and keeps only the model's fields. So that no field is
ever dropped, answers allow attributes their model does not name (``Answer``: TMF resources are open,
``@type`` extensions add attributes). Routers are built with ``route_class=AnswerRoute``: a route whose
model is an ``Answer`` leaves out what the route left out (an optional attribute the route did not set
does not appear as ``null``). Times and days keep the form the route gave them (``isoformat``); numbers
keep theirs (``int | float``, never an integer turned into ``1.0``).
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime | date | time) else value


When = Annotated[str, BeforeValidator(_iso), WithJsonSchema({"type": "string", "format": "date-time"})]
"""An instant, ISO 8601 with its offset, as the route wrote it."""

Day = Annotated[str, BeforeValidator(_iso), WithJsonSchema({"type": "string", "format": "date"})]
"""A calendar day, ISO 8601."""


class Answer(BaseModel):
    """A JSON object in an answer. Attributes the model does not name are kept, never dropped."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Named(Answer):
    """Someone or something by id and name: a person, a team, a customer."""

    id: str | None = None
    name: str | None = None


Number = int | float
"""A number as the route gave it (an integer stays an integer)."""


def answers(annotation: object) -> bool:
    """Whether a response model is an ``Answer`` or holds one (``list[Answer]``, ``Answer | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, Answer):
        return True
    return any(answers(arg) for arg in typing.get_args(annotation))


class AnswerRoute(APIRoute):
    """A route that answers an ``Answer`` leaves out the attributes the route did not set."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if answers(kwargs.get("response_model")):
            kwargs["response_model_exclude_unset"] = True
        super().__init__(path, endpoint, **kwargs)


def media(*types: str, status: int = 200, description: str | None = None) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route whose answer is not JSON (a file, CSV, a stream): its media types."""
    entry: dict[str, Any] = {"content": {t: {} for t in types}}
    if description:
        entry["description"] = description
    return {status: entry}
