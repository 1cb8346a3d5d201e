"""Validate response bodies against the official TMF OpenAPI files in ../shared/tmf/."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import yaml
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SPEC_DIR = Path(os.environ.get("ONETHREAD_TMF_SPECS", Path(__file__).resolve().parents[2] / "shared" / "tmf"))
SPECS = {
    "TMF621": "TMF621-Trouble_Ticket-v5.0.1.oas.yaml",
    "TMF629": "TMF629-Customer_Management-v5.0.1.oas.yaml",
    "TMF632": "TMF632-Party_Management-v5.0.0.oas.yaml",
    "TMF637": "TMF637-ProductInventory-v5.0.0.oas.yaml",
    "TMF678": "TMF678-CustomerBill-v5.0.0.oas.yaml",
    "TMF683": "TMF683-Party_Interaction-v5.0.0.oas.yaml",
}


@functools.cache
def _spec(api: str) -> dict:
    path = SPEC_DIR / SPECS[api]
    if not path.exists():
        raise FileNotFoundError(f"official TMF spec not found at {path}; set ONETHREAD_TMF_SPECS")
    spec = yaml.safe_load(path.read_text())
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
    """Raise ``AssertionError`` listing every way ``body`` breaks the official schema."""
    errors = sorted(_validator(api, schema_name).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        lines = [f"- {'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:20]]
        raise AssertionError(f"{api} {schema_name} does not validate:\n" + "\n".join(lines))


def assert_tmf_error(response, status: int) -> dict:
    """The response has ``status`` and a body that is a valid TMF Error."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    validate("TMF629", "Error", body)
    assert body["status"] == str(status)
    assert body["message"]
    return body
