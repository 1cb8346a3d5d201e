"""Validate response bodies against the official TM Forum OpenAPI files.

The official files are not part of this repository (they are TM Forum's). Point
``ONETHREAD_TMF_SPECS`` at a folder holding them (the README says where they come from; CI
sets it). Without it:

- ``validate`` checks nothing and returns, so a behaviour test still runs its own assertions;
  ``tests/api/test_tmf_specs.py`` skips with the reason, so the run says what was not checked;
- ``assert_tmf_error`` still checks the TMF ``Error`` shape that onethread promises
  (``code``, ``reason``, ``message``, ``status`` as strings);
- under ``ONETHREAD_REQUIRE_ALL=1`` every check that needs a file fails instead.

When ``ONETHREAD_TMF_SPECS`` is set, a file missing from it is an error, never a skip.
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

ENV = "ONETHREAD_TMF_SPECS"
REQUIRE_ALL = os.environ.get("ONETHREAD_REQUIRE_ALL") == "1"
SPECS = {
    "TMF621": "TMF621-Trouble_Ticket-v5.0.1.oas.yaml",
    "TMF629": "TMF629-Customer_Management-v5.0.1.oas.yaml",
    "TMF632": "TMF632-Party_Management-v5.0.0.oas.yaml",
    "TMF637": "TMF637-ProductInventory-v5.0.0.oas.yaml",
    "TMF678": "TMF678-CustomerBill-v5.0.0.oas.yaml",
    "TMF683": "TMF683-Party_Interaction-v5.0.0.oas.yaml",
    "TMF681": "TMF681-Communication-v4.0.0.swagger.json",  # Swagger 2.0: validate_swagger
}
NOT_SET = (f"{ENV} is not set: response bodies are not checked against the official TM Forum schemas "
           "(see 'The official TM Forum files' in README.md)")


def spec_path(api: str) -> Path | None:
    folder = os.environ.get(ENV)
    return Path(folder) / SPECS[api] if folder else None


def unavailable(api: str = "TMF621") -> str | None:
    """Why ``api``'s official file cannot be read, or None when it can."""
    path = spec_path(api)
    if path is None:
        return NOT_SET
    if not path.is_file():
        return f"{ENV}={os.environ[ENV]} has no {SPECS[api]}"
    return None


def require(api: str) -> None:
    """For a test that is about conformance itself: skip without the files, fail when CI needs
    them or when ``ONETHREAD_TMF_SPECS`` names a folder without them."""
    reason = unavailable(api)
    if reason is None:
        return
    if REQUIRE_ALL or os.environ.get(ENV):
        pytest.fail(reason)
    pytest.skip(reason)


@functools.cache
def _spec(api: str) -> dict:
    spec = yaml.safe_load(spec_path(api).read_text())
    for schema in spec["components"]["schemas"].values():
        _discriminate(schema)
    return spec


def _discriminate(schema: dict) -> None:
    """Apply OpenAPI's discriminator, which plain JSON Schema does not know.

    TMF ``oneOf`` choices (e.g. ``PartyOrPartyRole``: PartyRef, Individual, ...) overlap, so a
    valid reference matches several and ``oneOf`` fails. OpenAPI picks the branch named by
    ``@type`` through ``discriminator.mapping``; this rewrites ``oneOf`` to exactly that:
    ``@type`` must be one of the mapped names, and the object must match that one schema.
    """
    mapping = (schema.get("discriminator") or {}).get("mapping")
    if "oneOf" not in schema or not mapping:
        return
    schema.pop("oneOf")
    schema["required"] = sorted({*schema.get("required", []), "@type"})
    schema.setdefault("properties", {})["@type"] = {"enum": sorted(mapping)}
    schema["allOf"] = [*schema.get("allOf", []), *(
        {"if": {"properties": {"@type": {"const": name}}}, "then": {"$ref": ref}} for name, ref in mapping.items()
    )]


@functools.cache
def _validator(api: str, schema_name: str) -> Draft7Validator:
    uri = f"urn:tmf:{api}"
    registry = Registry().with_resource(uri, Resource(contents=_spec(api), specification=DRAFT7))
    return Draft7Validator({"$ref": f"{uri}#/components/schemas/{schema_name}"}, registry=registry,
                           format_checker=FormatChecker())


def validate(api: str, schema_name: str, body: dict) -> None:
    """Raise ``AssertionError`` listing every way ``body`` breaks the official schema. Without
    the official files it checks nothing (see the module docstring), except under
    ``ONETHREAD_REQUIRE_ALL=1`` or with ``ONETHREAD_TMF_SPECS`` naming a folder without them."""
    if unavailable(api) is not None:
        if REQUIRE_ALL or os.environ.get(ENV):
            pytest.fail(unavailable(api))
        return
    if SPECS[api].endswith(".json"):
        return validate_swagger(api, schema_name, body)
    errors = sorted(_validator(api, schema_name).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        lines = [f"- {'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:20]]
        raise AssertionError(f"{api} {schema_name} does not validate:\n" + "\n".join(lines))


def assert_tmf_error(response, status: int) -> dict:
    """The response has ``status`` and a body that is a TMF Error: onethread's own promise
    (``code``, ``reason``, ``message``, ``status``, all strings) always, the official schema too
    when its file is available."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body, dict), body
    for field in ("code", "reason", "message", "status"):
        assert isinstance(body.get(field), str) and body[field], (field, body)
    assert body["status"] == str(status)
    validate("TMF629", "Error", body)
    return body


@functools.cache
def _swagger_validator(api: str, definition: str) -> Draft7Validator:
    """A validator for one ``definitions`` entry of a Swagger 2.0 file (TMF681 v4 is one)."""
    import json

    uri = f"urn:tmf:{api}"
    spec = json.loads(spec_path(api).read_text())
    registry = Registry().with_resource(uri, Resource(contents=spec, specification=DRAFT7))
    return Draft7Validator({"$ref": f"{uri}#/definitions/{definition}"}, registry=registry,
                           format_checker=FormatChecker())


def validate_swagger(api: str, definition: str, body: dict) -> None:
    """``validate`` for a Swagger 2.0 file: the same rules about missing files."""
    if unavailable(api) is not None:
        if REQUIRE_ALL or os.environ.get(ENV):
            pytest.fail(unavailable(api))
        return
    errors = sorted(_swagger_validator(api, definition).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        lines = [f"- {'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:20]]
        raise AssertionError(f"{api} {definition} does not validate:\n" + "\n".join(lines))


def request_examples(api: str, path: str, method: str = "post",
                     media: tuple[str, ...] = ("application/json",)) -> dict[str, dict]:
    """The official request examples of an operation, by example name, read from the spec file (a
    fresh copy each call). Needs the files: skips without them, fails under ``ONETHREAD_REQUIRE_ALL=1``."""
    require(api)
    spec = _spec(api)

    def resolve(node: dict) -> tuple[str | None, dict]:
        name = None
        while "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            section = node["$ref"].split("/")[2]
            node = spec["components"][section][name]
        return name, node

    _, body = resolve(spec["paths"][path][method]["requestBody"])
    found: dict[str, dict] = {}
    for kind in media:
        for key, example in body["content"].get(kind, {}).get("examples", {}).items():
            name, example = resolve(example)
            found[name or key] = copy.deepcopy(example["value"])
    return found
