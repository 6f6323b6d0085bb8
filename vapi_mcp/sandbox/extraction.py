"""Where Vapi asks a model, the sandbox follows documented, deterministic rules instead.

The rules, so that a test (or an agent trying the sandbox) can make a check pass or fail on purpose:

- **Quoted phrases.** Text in double quotes ("..." or “...”) inside a judge's messages or a
  structured output's description names what must appear; matching is case-insensitive.
- **`ai` eval judge**: passes when the assistant's reply is not empty and contains every quoted
  phrase of the judge's `model.messages`; the failure reason names the first missing phrase.
- **`exact` / `regex` eval judges**: evaluated for real, as the document says: exact is a
  case-insensitive match of the whole content; regex matches any part of it. Tool calls expected
  by a judge fail, since the sandbox assistant calls no tools.
- **`regex` structured output**: the document's rule on the transcript (boolean: matched;
  string: first capture group or match; number/integer: first match as a number; array: all).
- **`ai` structured output**, read from the transcript: boolean is true when every quoted phrase
  of the description appears (true when it quotes none); string is the first of the schema's
  `enum` values, or else of the quoted phrases, that appears (null if none); number/integer is the
  first number the assistant said (null if none); array lists the quoted phrases that appear;
  object applies these rules to each property.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”')
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_LITERAL = re.compile(r"^/(.*)/([a-z]*)$", re.S)

Scalar = str | int | float | bool | None


def quoted_phrases(*texts: str | None) -> list[str]:
    """Every double-quoted phrase in `texts`, in order."""
    return [a or b for text in texts if text for a, b in _QUOTED.findall(text)]


def contains(haystack: str, phrase: str) -> bool:
    return phrase.casefold() in haystack.casefold()


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A raw pattern or a regex literal like '/\\d+/gi' (flags i, m, s; g is implied)."""
    literal = _LITERAL.match(pattern)
    if literal is None:
        return re.compile(pattern)
    flags = 0
    for letter in literal.group(2):
        flags |= {"i": re.I, "m": re.M, "s": re.S}.get(letter, 0)
    return re.compile(literal.group(1), flags)


def judge(plan: dict[str, Any], reply: str) -> tuple[bool, str | None]:
    """An eval checkpoint's verdict on the assistant's reply: (passed, failure reason)."""
    kind = plan.get("type")
    if plan.get("toolCalls"):
        names = ", ".join(call.get("name", "?") for call in plan["toolCalls"])
        return False, f"Expected tool call(s) {names} but the assistant called none."
    if kind == "exact":
        expected = plan.get("content") or ""
        if reply.strip().casefold() == expected.strip().casefold():
            return True, None
        return False, f"Expected exact match: '{expected}' but got: '{reply}'"
    if kind == "regex":
        try:
            matched = compile_pattern(plan.get("content") or "").search(reply) is not None
        except re.error as exc:
            return False, f"The judge's regex does not compile: {exc}."
        return (True, None) if matched else (False, f"Expected content matching /{plan.get('content')}/ but got: '{reply}'")
    messages = (plan.get("model") or {}).get("messages") or []
    phrases = quoted_phrases(*(m.get("content") for m in messages if isinstance(m, dict) and isinstance(m.get("content"), str)))
    if not reply.strip():
        return False, "The assistant said nothing."
    missing = next((p for p in phrases if not contains(reply, p)), None)
    return (True, None) if missing is None else (False, f'The reply does not contain "{missing}".')


def extract(output: dict[str, Any], transcript: str, assistant_lines: list[str]) -> Any:
    """The value a structured output (CreateStructuredOutputDTO) extracts from a conversation."""
    schema = output.get("schema") or {}
    if output.get("type") == "regex":
        return _by_regex(output.get("regex") or "", schema.get("type"), transcript)
    return _by_rule(schema, output.get("description"), transcript, assistant_lines)


def _by_regex(pattern: str, kind: str | None, transcript: str) -> Any:
    try:
        compiled = compile_pattern(pattern)
    except re.error:
        return None
    if kind == "boolean":
        return compiled.search(transcript) is not None
    if kind == "array":
        return [m.group(1) if m.groups() else m.group(0) for m in compiled.finditer(transcript)]
    found = compiled.search(transcript)
    if found is None:
        return None
    text = found.group(1) if found.groups() else found.group(0)
    return _as_number(text, kind) if kind in ("number", "integer") else text


def _by_rule(schema: dict[str, Any], description: str | None, transcript: str, assistant_lines: list[str]) -> Any:
    kind = schema.get("type")
    phrases = quoted_phrases(description, schema.get("description"))
    if kind == "boolean":
        return all(contains(transcript, p) for p in phrases)
    if kind == "string":
        candidates = [str(v) for v in schema.get("enum") or []] or phrases
        return next((c for c in candidates if contains(transcript, c)), None)
    if kind in ("number", "integer"):
        said = _NUMBER.search(" ".join(assistant_lines))
        return _as_number(said.group(0), kind) if said else None
    if kind == "array":
        return [p for p in phrases if contains(transcript, p)]
    if kind == "object":
        return {
            name: _by_rule(sub, sub.get("description"), transcript, assistant_lines)
            for name, sub in (schema.get("properties") or {}).items()
            if isinstance(sub, dict)
        }
    return None


def _as_number(text: str, kind: str | None) -> int | float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if kind == "integer" or value.is_integer() else value


def at_path(value: Any, path: str | None) -> Any:
    """A primitive leaf of an object output by dot-notation path."""
    for part in (path or "").split(".") if path else ():
        value = value.get(part) if isinstance(value, dict) else None
    return value


def compare(actual: Any, comparator: str, expected: Any) -> bool:
    """`actual <comparator> expected`, as evaluation plans and scorecard conditions use it; no value never passes."""
    if actual is None or isinstance(actual, (dict, list)):
        return False
    if comparator == "=":
        return actual == expected
    if comparator == "!=":
        return actual != expected
    numeric = (int, float)
    if (
        isinstance(actual, bool)
        or isinstance(expected, bool)
        or not (isinstance(actual, numeric) and isinstance(expected, numeric))
    ):
        return False
    return {">": actual > expected, "<": actual < expected, ">=": actual >= expected, "<=": actual <= expected}.get(
        comparator, False
    )


def outputs_plan(artifact_plan: dict[str, Any] | None, saved: Mapping[str, dict[str, Any]], new_id: Any) -> dict[str, Any] | None:
    """What a call will extract when it ends, from its assistant's `artifactPlan` (saved outputs by id, inline ones, inline scorecards)."""
    plan = artifact_plan or {}
    outputs = [(i, saved[i]) for i in plan.get("structuredOutputIds") or [] if i in saved]
    outputs += [(new_id(), o) for o in plan.get("structuredOutputs") or [] if isinstance(o, dict)]
    scorecards = [(new_id(), s) for s in plan.get("scorecards") or [] if isinstance(s, dict)]
    return {"outputs": outputs, "scorecards": scorecards} if outputs or scorecards else None


def call_outputs(call: dict[str, Any], transcript: str, assistant_lines: list[str]) -> dict[str, Any]:
    """`artifact.structuredOutputs` and `artifact.scorecards` of an ended call (reruns overwrite extracted values)."""
    plan = call.get("_outputs_plan") or {}
    values = {i: {"name": o.get("name"), "result": extract(o, transcript, assistant_lines)} for i, o in plan.get("outputs", [])}
    values.update(call.get("_structured_outputs") or {})
    out: dict[str, Any] = {"structuredOutputs": values} if values else {}
    cards = {}
    for card_id, card in plan.get("scorecards", []):
        points, top = {}, 0.0
        for metric in card.get("metrics") or []:
            result = (values.get(metric.get("structuredOutputId")) or {}).get("result")
            conditions = metric.get("conditions") or []
            top += sum(c.get("points", 0) for c in conditions)
            points[metric.get("structuredOutputId")] = sum(
                c.get("points", 0) for c in conditions if compare(result, c.get("comparator", "="), c.get("value"))
            )
        score = sum(points.values())
        normalized = -(-score * 100 // top) if top else 0  # ceil(score / maxPoints * 100)
        cards[card_id] = {"name": card.get("name"), "score": score, "scoreNormalized": normalized, "metricPoints": points}
    if cards:
        out["scorecards"] = cards
    return out
