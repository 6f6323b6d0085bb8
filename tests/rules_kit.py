"""Walk the sandbox's declared rules beside Vapi's OpenAPI document, schema by schema (no tests here).

`compare(rule, node)` follows the document where the rule goes: `$ref`s and single `allOf`s,
`oneOf` unions (a `Tagged` rule against branches that each fix the tag to one value; an
`Either` against alternatives of different JSON types; a rule with `documented` branches
against the union's schema names), arrays' items and objects' properties. It answers:

- `problems`: where the rule contradicts the document: a declared field the document does not
  have, a documented field a closed object refuses, required fields that differ, an enum or a
  union's tags that differ, a limit, format or pattern that differs, a different JSON type;
- `open`: where the rule checks less than the document: a documented field an open object
  lets through unchecked, `Any_` where the document constrains the value, an enum, a limit, a
  format or a pattern the rule does not check. Keys are `Schema.property` (stable however the
  schema is reached), so a test can hold them to a reviewed list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.openapi import document
from vapi_mcp.sandbox.validation import Any_, Arr, Bool, Either, Later, Map, Num, Obj, Rule, Str, Tagged


@dataclass
class Comparison:
    problems: dict[str, str] = field(default_factory=dict)
    """Where the rule contradicts the document: `Schema.property (aspect)` -> what differs."""
    open: dict[str, str] = field(default_factory=dict)
    seen: set[tuple[int, str]] = field(default_factory=set)
    schemas: set[str] = field(default_factory=set)
    """The document's named schemas the rules reached (and so were compared)."""
    pairs: dict[str, str] = field(default_factory=dict)
    """Union branches whose tag the document does not fix to one value: schema name -> the rule's tag value."""
    skip: dict[str, str] = field(default_factory=dict)
    """Schemas not compared, with the reason (the document contradicts itself there)."""


def _schemas() -> dict[str, Any]:
    return document()["components"]["schemas"]


def resolve(node: Any, name: str | None = None) -> tuple[str | None, dict[str, Any]]:
    """The schema a node stands for: `$ref`s followed, a lone `allOf` unwrapped; its name if it has one."""
    while isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            node = _schemas()[name]
            continue
        if "allOf" in node and len(node["allOf"]) == 1 and not node.get("properties") and "oneOf" not in node:
            node = node["allOf"][0]
            continue
        if len(node.get("oneOf") or ()) == 1 and not node.get("properties"):
            node = node["oneOf"][0]  # `{oneOf: [X], allOf: [X]}`: X
            continue
        break
    return name, node if isinstance(node, dict) else {}


def kind(node: dict[str, Any]) -> str:
    """object, array, string, number, integer, boolean, union, or any."""
    if node.get("type") in (None, "object") and node.get("enum") and all(isinstance(v, str) for v in node["enum"]):
        return "string"  # BackoffPlan.type is typed `object` with string values
    if "oneOf" in node:
        branches = [resolve(b)[1] for b in node["oneOf"]]
        if all(kind(b) == "string" for b in branches):
            return "string"
        return "union"
    if node.get("type") == "object" or "properties" in node:
        return "object"
    return node.get("type") or "any"


def closed_enum(node: dict[str, Any]) -> tuple[str, ...] | None:
    """A string's allowed values, or None when any string goes (no enum, or `oneOf: [{enum}, {string}]`)."""
    if "oneOf" in node:
        parts = [closed_enum(resolve(b)[1]) for b in node["oneOf"]]
        if any(p is None for p in parts):
            return None
        return tuple(v for p in parts for v in p or ())
    enum = node.get("enum")
    return tuple(enum) if enum else None


def tags(node: dict[str, Any], tag: str, pairs: dict[str, str]) -> dict[str, tuple[str | None, dict[str, Any]]] | None:
    """A union's object branches by the one value each fixes `tag` to (or `pairs` gives); None when it is not such a union."""
    out: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for branch in node.get("oneOf") or [node]:
        name, schema = resolve(branch)
        if kind(schema) != "object":
            continue  # `voicemailDetection: "off" | plan`: the rule's Either takes the string
        values = ((schema.get("properties") or {}).get(tag) or {}).get("enum") or []
        if name in pairs:
            values = [pairs[name]]
        if len(values) != 1:
            return None
        out[values[0]] = (name, schema)
    return out or None


def _constrains(node: dict[str, Any]) -> bool:
    """Whether the document limits the value at all (an object without properties, or nothing, does not)."""
    k = kind(node)
    if k == "any":
        return False
    if k == "object":
        extra = node.get("additionalProperties")
        return bool(node.get("properties")) or isinstance(extra, dict) and bool(extra)
    return True


def compare(rule: Rule, node: Any, where: str, out: Comparison | None = None) -> Comparison:
    """Compare `rule` with the document's `node` reached at `where` (`Schema.property`)."""
    out = out or Comparison()
    while isinstance(rule, Later):
        rule = rule.rule
    name, schema = resolve(node)
    if name in out.skip:
        return out
    if name is not None:
        out.schemas.add(name)
        key = (id(rule), name)
        if key in out.seen:
            return out
        out.seen.add(key)
    label = name or where
    k = kind(schema)
    if isinstance(rule, Any_):
        if _constrains(schema):
            out.open[label] = f"anything is accepted where the document expects {k}"
        return out
    if isinstance(rule, Tagged):
        branches = tags(schema, rule.tag, out.pairs)
        if branches is None:
            out.problems[f"{label} (union)"] = f"tagged by {rule.tag}, but the document has no union tagged by it ({k})"
            return out
        if set(rule.branches) != set(branches):
            missing, extra = sorted(set(branches) - set(rule.branches)), sorted(set(rule.branches) - set(branches))
            out.problems[f"{label} ({rule.tag})"] = f"values differ from the document's: missing {missing}, not documented {extra}"
        for value, branch in rule.branches.items():
            if value in branches:
                branch_name, branch_schema = branches[value]
                compare(branch, branch_schema if branch_name is None else {"$ref": f"#/components/schemas/{branch_name}"}, f"{label}[{rule.tag}={value}]", out)
        return out
    documented = getattr(rule, "documented", None)
    if documented is not None:
        names = [resolve(b)[0] for b in schema.get("oneOf", [])]
        if set(names) != set(documented):
            out.problems[f"{label} (union)"] = f"branches {sorted(documented)} differ from the document's {sorted(map(str, names))}"
        for branch_name, branch in documented.items():
            if branch_name in names:
                compare(branch, {"$ref": f"#/components/schemas/{branch_name}"}, branch_name, out)
        return out
    if isinstance(rule, Either):
        alternatives = list(schema.get("oneOf", [])) or [schema]
        for alternative in rule.alternatives:
            wanted = _json_kind(alternative)
            match = [a for a in alternatives if kind(resolve(a)[1]) in wanted]
            if not match:
                out.problems[f"{label} (type)"] = f"accepts {sorted(wanted)[0]}, which the document does not"
            elif len(match) > 1:
                compare(alternative, {"oneOf": match}, where, out)
            else:
                compare(alternative, match[0], where, out)
        covered = {k for a in rule.alternatives for k in _json_kind(a)}
        for alternative in alternatives:
            if kind(resolve(alternative)[1]) not in covered and kind(resolve(alternative)[1]) != "any":
                out.problems[f"{label} (type)"] = f"refuses the document's {kind(resolve(alternative)[1])} alternative"
        return out
    if isinstance(rule, Map):
        extra = schema.get("additionalProperties")
        if k != "object" or not isinstance(extra, dict):
            out.problems[f"{label} (type)"] = f"a map, but the document says {k}"
            return out
        compare(rule.value, extra, f"{label}{{}}", out)
        return out
    if isinstance(rule, Obj):
        if not rule.fields and rule.open and _constrains(schema):
            out.open[label] = f"anything is accepted where the document expects {k}"
            return out
        _object(rule, schema, label, k, out)
    elif isinstance(rule, Str):
        _string(rule, schema, label, k, out)
    elif isinstance(rule, Num):
        if k not in ("number", "integer"):
            out.problems[f"{label} (type)"] = f"a number, but the document says {k}"
            return out
        _limit(out, label, "minimum", rule.minimum, schema.get("minimum"))
        _limit(out, label, "maximum", rule.maximum, schema.get("maximum"))
        if (k == "integer") != rule.integer:
            out.problems[f"{label} (type)"] = f"integer={rule.integer}, the document's type is {k}"
    elif isinstance(rule, Bool):
        if k != "boolean":
            out.problems[f"{label} (type)"] = f"a boolean, but the document says {k}"
    elif isinstance(rule, Arr):
        if k != "array":
            out.problems[f"{label} (type)"] = f"an array, but the document says {k}"
            return out
        _limit(out, label, "minItems", rule.min_items, schema.get("minItems"))
        _limit(out, label, "maxItems", rule.max_items, schema.get("maxItems"))
        compare(rule.item, schema.get("items") or {}, f"{label}[]", out)
    else:
        out.problems[f"{label} (type)"] = f"{type(rule).__name__} cannot be compared with the document"
    return out


def _json_kind(rule: Rule) -> set[str]:
    while isinstance(rule, Later):
        rule = rule.rule
    if isinstance(rule, Str):
        return {"string"}
    if isinstance(rule, Num):
        return {"number", "integer"}
    if isinstance(rule, Bool):
        return {"boolean"}
    if isinstance(rule, Arr):
        return {"array"}
    return {"object", "union"}


def _object(rule: Obj, schema: dict[str, Any], label: str, k: str, out: Comparison) -> None:
    if k != "object":
        out.problems[f"{label} (type)"] = f"an object, but the document says {k}"
        return
    properties = schema.get("properties") or {}
    if not properties:
        if rule.fields:
            out.problems[f"{label} (properties)"] = f"declares {sorted(rule.fields)}, the document's object has no properties"
        elif not rule.open:
            out.problems[f"{label} (properties)"] = "refuses every property of an object the document leaves open"
        return
    undocumented = sorted(set(rule.fields) - set(properties))
    if undocumented:
        out.problems[f"{label} (properties)"] = f"declares {undocumented}, which the document does not have"
    unchecked = sorted(set(properties) - set(rule.fields))
    if unchecked:
        if rule.open:
            out.open[label] = f"properties let through unchecked: {', '.join(unchecked)}"
        else:
            out.problems[f"{label} (refused)"] = f"refuses documented properties {unchecked}"
    required = set(schema.get("required") or ())
    if set(rule.required) != required:
        out.problems[f"{label} (required)"] = f"requires {sorted(rule.required)}, the document requires {sorted(required)}"
    for name, field_rule in rule.fields.items():
        if name in properties:
            compare(field_rule, properties[name], f"{label}.{name}", out)


def _string(rule: Str, schema: dict[str, Any], label: str, k: str, out: Comparison) -> None:
    if k != "string":
        out.problems[f"{label} (type)"] = f"a string, but the document says {k}"
        return
    enum = closed_enum(schema)
    if rule.enum is not None:
        if enum is None or sorted(rule.enum) != sorted(enum):
            out.problems[f"{label} (enum)"] = f"{list(rule.enum)} differs from the document's {list(enum) if enum else 'any string'}"
        return  # an enum checks the value whole
    if enum is not None:
        out.open[label] = f"any string is accepted where the document allows {len(enum)} values"
    _limit(out, label, "maxLength", rule.max_len, schema.get("maxLength"))
    _limit(out, label, "minLength", rule.min_len, schema.get("minLength"))
    documented_format = schema.get("format")
    for fmt, declared in (("uuid", rule.uuid), ("date-time", rule.date_time)):
        if declared and documented_format != fmt:
            out.problems[f"{label} (format)"] = f"checked as {fmt}, the document's format is {documented_format}"
        if not declared and documented_format == fmt:
            out.open[f"{label} (format)"] = f"the document's format {fmt} is not checked"
    documented_pattern, declared_pattern = schema.get("pattern"), rule.pattern  # both as the document writes it: /^...$/flags
    if declared_pattern is not None and declared_pattern != documented_pattern:
        out.problems[f"{label} (pattern)"] = f"{declared_pattern!r}, the document's is {documented_pattern!r}"
    if declared_pattern is None and documented_pattern is not None:
        out.open[f"{label} (pattern)"] = f"the document's pattern {documented_pattern!r} is not checked"


def _limit(out: Comparison, label: str, what: str, declared: float | None, documented: float | None) -> None:
    if declared is not None and declared != documented:
        out.problems[f"{label} ({what})"] = f"{declared}, the document's is {documented}"
    if declared is None and documented is not None:
        out.open[f"{label} ({what})"] = f"the document's {what} {documented} is not checked"


def request_body(method: str, path: str) -> dict[str, Any] | None:
    """The document's JSON request body schema of an operation, or None."""
    operation = document()["paths"].get(path, {}).get(method.lower()) or {}
    return (((operation.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get("schema")

