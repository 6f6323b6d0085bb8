"""Check JSON bodies against Vapi's OpenAPI document (read where it lies, never copied into the repo).

The document is $VAPI_OPENAPI_JSON, or ../shared/vapi-openapi.json beside the checkout
(.ci/run also looks beside the clone's origin). Without it, the tests that need it are skipped.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

OPENAPI_PATH = Path(os.environ.get("VAPI_OPENAPI_JSON") or Path(__file__).resolve().parents[2] / "shared" / "vapi-openapi.json")


@functools.lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    return json.loads(OPENAPI_PATH.read_text())


def document() -> dict[str, Any]:
    if not OPENAPI_PATH.is_file():
        pytest.skip(f"Vapi's OpenAPI document is not at {OPENAPI_PATH} (set VAPI_OPENAPI_JSON)")
    return _load()


def schema(name: str) -> dict[str, Any]:
    return document()["components"]["schemas"][name]


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 -> JSON Schema: `nullable`, and refs pointed at a bundled `definitions` table."""
    if isinstance(node, list):
        return [_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = value.replace("#/components/schemas/", "#/definitions/")
        elif key in ("discriminator", "example", "xml"):
            continue
        elif key == "oneOf":
            # Vapi validates the branch a body is meant for (class-validator), not "exactly one";
            # its open enums (`oneOf: [{enum}, {string}]`) would otherwise match twice and fail.
            out["anyOf"] = _to_json_schema(value)
        elif key == "pattern" and isinstance(value, str) and len(value) > 1 and value.startswith("/"):
            # JavaScript regex literals ('/^[a-z]{1,40}$/'): jsonschema wants the bare pattern.
            out[key] = value[1 : value.rindex("/")] if value.rindex("/") > 0 else value
        else:
            out[key] = _to_json_schema(value)
    if out.get("type") == "array" and "enum" in out and "enum" in (out.get("items") or {}):
        # class-validator's `@IsEnum(..., { each: true })` puts the enum on the array as well as on its
        # items (AnalyticsQuery.groupBy, serverMessages); Vapi checks each item, so keep only that.
        del out["enum"]
    if out.pop("nullable", False):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@functools.lru_cache(maxsize=1)
def _definitions() -> dict[str, Any]:
    return _to_json_schema(document()["components"]["schemas"])


def strict(node: Any) -> Any:
    """Vapi refuses properties it does not define: close every object schema that lists properties."""
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items()}
    if "properties" in out and "additionalProperties" not in out and "allOf" not in out:
        out["additionalProperties"] = False
    return out


@functools.lru_cache(maxsize=None)
def _validator(name: str) -> jsonschema.Draft7Validator:
    definitions = strict(copy.deepcopy(_definitions()))
    root = {"$ref": f"#/definitions/{name}", "definitions": definitions}
    return jsonschema.Draft7Validator(root)


def errors(name: str, body: Any) -> list[str]:
    """Every way `body` breaks schema `name` (strict: unknown properties count)."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator(name).iter_errors(body)]


def assert_valid(name: str, body: Any) -> None:
    problems = errors(name, body)
    assert not problems, f"{name} rejects the body: {problems[:5]}"



def resolved(node: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `$ref` (or a single `allOf` reference) followed."""
    while True:
        if "$ref" in node:
            node = document()["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        elif len(node.get("allOf") or []) == 1 and not node.get("properties"):
            node = node["allOf"][0]
        else:
            return node


def constant(node: dict[str, Any]) -> Any:
    """The one value a property may take (an enum of one, or a const), or None."""
    node = resolved(node)
    enum = node.get("enum")
    return enum[0] if isinstance(enum, list) and len(enum) == 1 else node.get("const")


def example_body(name: str, ids: dict[str, str], constants: list[str] | None = None) -> dict[str, Any]:
    """A body of schema `name` as its document gives it: every required field and every constant, with the
    document's example where one fits the type, and otherwise the smallest value its rules allow; a field
    named like an id (`assistantId`, `callIds`...) takes the id of that kind from `ids` (or `ids["any"]`).
    The dotted path of every constant (a discriminator, an enum of one) is added to `constants`."""
    return _example_object(schema(name), ids, 0, "", constants if constants is not None else [])


SCALARS: dict[str, Any] = {"string": str, "number": (int, float), "integer": int, "boolean": bool}


def _example_object(node: dict[str, Any], ids: dict[str, str], depth: int, path: str, constants: list[str]) -> dict[str, Any]:
    node = resolved(node)
    props = node.get("properties") or {}
    wanted = [key for key in props if key in (node.get("required") or []) or constant(props[key]) is not None]
    return {key: _example(props[key], key, ids, depth + 1, f"{path}{key}", constants) for key in wanted}


def _example(node: dict[str, Any], key: str, ids: dict[str, str], depth: int, path: str, constants: list[str]) -> Any:
    value = constant(node)
    if value is not None:
        constants.append(path)
        return value
    node = resolved(node)
    branches = node.get("oneOf") or node.get("anyOf")
    if branches:
        return _example(branches[0], key, ids, depth, path, constants)
    kind = node.get("type")
    singular = key.removesuffix("s") if key.endswith("Ids") else key
    if singular.endswith("Id") and kind in ("string", "array", None):
        ident = ids.get(singular) or ids["any"]
        return [ident] if kind == "array" or key.endswith("Ids") else ident
    example = node.get("example")
    if example is not None and kind in SCALARS and isinstance(example, SCALARS[kind]):
        return example
    if kind == "string":
        if node.get("enum"):
            return node["enum"][0]
        if node.get("format") == "date-time":
            return "2026-12-07T15:00:00Z"
        return "x" * max(1, node.get("minLength") or 1)
    if kind in ("number", "integer"):
        return node.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "array":
        items = node.get("items") or {"type": "string"}
        return [_example(items, key, ids, depth, f"{path}.{i}", constants) for i in range(max(1, node.get("minItems") or 1))]
    if depth > 6:
        return {}
    return _example_object(node, ids, depth, f"{path}.", constants)


@functools.lru_cache(maxsize=None)
def _answer_validator(name: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator({"$ref": f"#/definitions/{name}", "definitions": _definitions()})


def assert_answer(name: str, value: Any) -> None:
    """`value` has the shape the document gives answers of schema `name`: its required fields and their types
    (an answer may carry properties the document does not list, so it is not checked strictly)."""
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _answer_validator(name).iter_errors(value)]
    assert not problems, f"{name} does not describe the answer: {problems[:5]}"
