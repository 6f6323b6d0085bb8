"""Where Vapi's OpenAPI document puts phone numbers and text messages in request bodies (a test helper).

Walks the request body of every path of the document (and CreateWebCallDTO, the body of
POST /call/web), following `$ref`, `oneOf`/`anyOf`/`allOf` and `items`, and lists:

- every property that holds a phone number: a string named `...number`, or one whose description
  says it is one ("This is the phone number...", "These are the digits of the phone number...",
  "This is the number of the customer", "This is the caller ID..."), but not an id of a phone
  number object (`phoneNumberId`);
- every object that sends text messages: a schema whose `type` enum names SMS.

For each place, through each way of reaching it (each property that refers to its schema), it
builds a minimal request body with the discriminators (`type`, `provider`, `on`...) on the way,
so a test can check that `vapi_mcp.destinations.scan` finds it there.

`python -m tests.phone_fields` prints the list (the closing note of issue 9 is made from it).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterator

from tests.openapi import document

SAMPLE = "+14155550123"
_SAYS_PHONE_NUMBER = re.compile(r"^(This is|These are) the (phone number|digits of the phone number|number of the customer|caller ID)\b")
_SAYS_SMS = re.compile(r"sms", re.IGNORECASE)

Edge = tuple[str, str, int, str]
"""(from schema, property, array depth, to schema)."""


@dataclass(frozen=True)
class Place:
    """One phone number (or SMS sender) reached one way from one request body."""

    root: str
    """'POST /call' and the like."""
    path: str
    """The request path (its top-level `number` is the user's own number on /phone-number)."""
    schema: str
    field: str | None
    """The property holding the number; None for an SMS sender (the object itself)."""
    via: tuple[str, ...]
    """The schemas and properties from the root to the place, for messages."""
    body: Any
    at: tuple[str | int, ...]
    """Where the number (or the SMS object) sits in `body`."""

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.field}" if self.field else self.schema


def schemas() -> dict[str, Any]:
    return document()["components"]["schemas"]


def is_phone_field(name: str, prop: Any) -> bool:
    """A string property that holds a phone number, by its name or by what its description says it is."""
    if not isinstance(prop, dict) or "string" not in _types(prop) or prop.get("enum"):
        return False
    first = (prop.get("description") or "").split("\n")[0]
    if re.search(r"Ids?$", name) and not first.startswith("This is the caller ID"):
        return False  # the id of a phone number object (phoneNumberId), not a number
    return name.lower().endswith("number") or bool(_SAYS_PHONE_NUMBER.match(first))


def sends_sms(schema: Any) -> bool:
    """An object whose `type` says it sends text messages (an SMS tool, an SMS chat transport)."""
    kind = (schema.get("properties") or {}).get("type") if isinstance(schema, dict) else None
    return isinstance(kind, dict) and any(_SAYS_SMS.search(str(value)) for value in kind.get("enum") or ())


def _types(prop: dict[str, Any]) -> set[str]:
    found = {prop.get("type")}
    for key in ("oneOf", "anyOf", "allOf"):
        found |= {branch.get("type") for branch in prop.get(key) or () if isinstance(branch, dict)}
    return {t for t in found if t}


def _refs(node: Any, arrays: int = 0) -> Iterator[tuple[str, int]]:
    """The schemas a property's schema refers to, with how many arrays wrap them."""
    if isinstance(node, list):
        for item in node:
            yield from _refs(item, arrays)
        return
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        yield node["$ref"].rsplit("/", 1)[-1], arrays
        return
    for key in ("oneOf", "anyOf", "allOf"):
        yield from _refs(node.get(key), arrays)
    if "items" in node:
        yield from _refs(node["items"], arrays + 1)
    if isinstance(node.get("additionalProperties"), dict):
        yield from _refs(node["additionalProperties"], arrays)


def _properties(name: str) -> dict[str, Any]:
    schema = schemas()[name]
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or ():
        for ref, _ in _refs(part):
            props.update(_properties(ref))
        props.update(part.get("properties") or {})
    return props


def _edges(name: str) -> list[Edge]:
    return [(name, prop, arrays, target) for prop, sub in _properties(name).items() for target, arrays in _refs(sub)]


def roots() -> list[tuple[str, str, str]]:
    """(label, path, schema) for every request body of the document, one per oneOf branch."""
    out = []
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            body = ((operation.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema")
            for target, _ in _refs(body):
                out.append((f"{method.upper()} {path}", path, target))
    out.append(("POST /call/web", "/call/web", "CreateWebCallDTO"))  # the web-call body the tools send
    return out


def _skeleton(name: str) -> dict[str, Any]:
    """An object of schema `name` with its discriminators set (every property whose enum has one value)."""
    out = {}
    for prop, sub in _properties(name).items():
        if isinstance(sub, dict) and isinstance(sub.get("enum"), list) and len(sub["enum"]) == 1:
            out[prop] = sub["enum"][0]
    return out


def places() -> list[Place]:
    """Every phone number and SMS sender, once per (request body, referring property)."""
    found: dict[tuple[str, str, str | None, tuple[str, str]], Place] = {}
    for label, path, root in roots():
        parent: dict[str, Edge | None] = {root: None}
        queue = deque([root])
        while queue:  # breadth first: the shortest way to each schema
            name = queue.popleft()
            for edge in _edges(name):
                if edge[3] not in parent:
                    parent[edge[3]] = edge
                    queue.append(edge[3])
        incoming: dict[str, list[Edge | None]] = {root: [None]}
        for name in parent:
            for edge in _edges(name):
                incoming.setdefault(edge[3], []).append(edge)
        for target, edges in incoming.items():
            if target not in parent:
                continue
            fields = [prop for prop, sub in _properties(target).items() if is_phone_field(prop, sub)]
            sms = sends_sms(schemas()[target])
            if not fields and not sms:
                continue
            for edge in {e for e in edges}:
                chain = _chain(parent, edge)
                for field in [*fields, *([None] if sms else [])]:
                    key = (label, target, field, (edge[0], edge[1]) if edge else ("", ""))
                    if key not in found:
                        found[key] = _place(label, path, chain, target, field)
    return list(found.values())


def _chain(parent: dict[str, Edge | None], last: Edge | None) -> list[Edge]:
    chain: list[Edge] = []
    edge = last
    while edge is not None:
        chain.append(edge)
        edge = parent[edge[0]]
    return chain[::-1]


def _place(label: str, path: str, chain: list[Edge], target: str, field: str | None) -> Place:
    root = chain[0][0] if chain else target
    body = _skeleton(root)
    node, at, via = body, [], [root]
    for _, prop, arrays, to in chain:
        child: Any = _skeleton(to)
        holder: Any = child
        for _ in range(arrays):
            holder = [holder]
        node[prop] = holder
        at += [prop, *([0] * arrays)]
        via += [prop, to]
        node = child
    if field is not None:
        node[field] = SAMPLE
        at.append(field)
    return Place(label, path, target, field, tuple(via), body, tuple(at))


if __name__ == "__main__":
    seen: dict[str, set[str]] = {}
    for place in places():
        seen.setdefault(place.name, set()).add(f"{place.root}: {'.'.join(map(str, place.at))}")
    for name in sorted(seen):
        print(name)
        for where in sorted(seen[name])[:6]:
            print("   ", where)
        if len(seen[name]) > 6:
            print(f"    ... and {len(seen[name]) - 6} more")
