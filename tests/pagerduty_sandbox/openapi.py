"""Validate sandbox responses against PagerDuty's OpenAPI 3.0 file.

OpenAPI 3.0 schemas are JSON Schema draft 4/7 with differences; the spec is
rewritten once (`nullable` → a null type, boolean `exclusiveMinimum`) and
then checked with jsonschema's Draft 7 validator, `$ref`s resolved inside
the document. `oneOf` is checked as `anyOf`: PagerDuty's alternatives
overlap without a discriminator (Channel's five variants require nothing but
`type`), so no real payload could match exactly one.
"""

import json
from functools import cache

from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.helpers import SHARED

SPEC_PATH = SHARED / "pagerduty" / "openapiv3.json"
BASE = "urn:pagerduty-openapi"


def _convert(node):
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {
        ("anyOf" if key == "oneOf" else key): _convert(value)
        for key, value in node.items()
    }
    for bound, limit in (
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ):
        if isinstance(node.get(bound), bool):
            if node[bound] and limit in node:
                node[bound] = node.pop(limit)
            else:
                del node[bound]
    if node.pop("nullable", False) is True:
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        else:
            return {"anyOf": [node, {"type": "null"}]}
    return node


def _errata(document: dict) -> dict:
    # AcknowledgeLogEntry narrows `type` to "acknowledgement_log_entry" while
    # its base LogEntry allows only "acknowledge_log_entry", so nothing could
    # validate; PagerDuty sends "acknowledge_log_entry" (LogEntry's enum).
    schema = document["components"]["schemas"]["AcknowledgeLogEntry"]
    schema["allOf"][1]["properties"]["type"]["enum"] = ["acknowledge_log_entry"]
    return document


@cache
def spec() -> dict:
    return _convert(_errata(json.loads(SPEC_PATH.read_text())))


@cache
def registry() -> Registry:
    return Registry().with_resource(
        BASE, Resource.from_contents(spec(), default_specification=DRAFT7)
    )


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def response_schema_ref(method: str, template: str, status: int) -> str | None:
    """Return a `$ref` to the documented schema for this answer, or None.

    Raise AssertionError when the spec lists no such status for the operation.
    """
    operation = spec()["paths"][template][method.lower()]
    responses = operation["responses"]
    code = str(status)
    if code not in responses:
        # The spec documents GET /schedules/{id}/overrides as 201; PagerDuty
        # answers 200. Fall back to the single documented success code.
        successes = [c for c in responses if c.startswith("2")]
        assert status < 300, f"{method} {template}: {status} is not documented"
        assert len(successes) == 1, (
            f"{method} {template}: status {status} is not documented "
            f"(documented: {sorted(responses)})"
        )
        code = successes[0]
    response = responses[code]
    pointer = _pointer("paths", template, method.lower(), "responses", code)
    if "$ref" in response:
        pointer = response["$ref"].lstrip("#/")
        name = pointer.rsplit("/", 1)[1]
        response = spec()["components"]["responses"][name]
    if "content" not in response:
        return None
    return f"{BASE}#/{pointer}/content/{_pointer('application/json')}/schema"


def validate(method: str, template: str, status: int, body) -> None:
    """Fail naming the operation, the JSON path and the field's problem."""
    ref = response_schema_ref(method, template, status)
    if ref is None:
        assert body in (None, b"", ""), f"{method} {template}: expected no body"
        return
    validator = Draft7Validator({"$ref": ref}, registry=registry())
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    # For anyOf failures, name the closest alternative's field, not the object.
    errors = [best_match(e.context) if e.context else e for e in errors]
    if errors:
        lines = [
            f"{method} {template} {status}: {error.json_path}: {error.message[:300]}"
            for error in errors[:10]
        ]
        raise AssertionError("\n".join(lines))
