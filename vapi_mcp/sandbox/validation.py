"""Request validation with Vapi's rules and Vapi's messages (NestJS class-validator style).

Each DTO is declared once as an `Obj` of field rules that follow ../shared/vapi-openapi.json
field by field; tests check the declared property names against the document.
"""

from __future__ import annotations

import functools
import importlib
import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from .clock import parse_iso


class Rule:
    """A check on one value; returns class-validator style messages (empty when valid)."""

    def check(self, value: Any, name: str) -> list[str]:
        raise NotImplementedError


@dataclass
class Any_(Rule):
    """Anything: a nested Vapi object this sandbox does not model (tests hold each one to a reviewed list)."""

    def check(self, value: Any, name: str) -> list[str]:
        return []


@dataclass
class Str(Rule):
    max_len: int | None = None
    min_len: int | None = None
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    """The document's pattern as it writes it, a JavaScript regex literal (`/^[a-z]+$/`): Vapi quotes it so in its message."""
    date_time: bool = False
    uuid: bool = False
    nullable: bool = False

    def check(self, value: Any, name: str) -> list[str]:
        if value is None and self.nullable:
            return []
        if self.enum is not None:
            if value not in self.enum:
                return [f"{name} must be one of the following values: {', '.join(self.enum)}"]
            return []
        if not isinstance(value, str):
            return [f"{name} must be a string"]
        errors = []
        if self.max_len is not None and len(value) > self.max_len:
            errors.append(f"{name} must be shorter than or equal to {self.max_len} characters")
        if self.min_len is not None and len(value) < self.min_len:
            errors.append(f"{name} must be longer than or equal to {self.min_len} characters")
        if self.pattern is not None and not python_regex(self.pattern).search(value):
            errors.append(f"{name} must match {self.pattern} regular expression")
        if self.date_time:
            try:
                parse_iso(value)
            except ValueError:
                errors.append(f"{name} must be a valid ISO 8601 date string")
        if self.uuid:
            try:
                uuid.UUID(value)
            except ValueError:
                errors.append(f"{name} must be a UUID")
        return errors


_UNICODE_CLASSES = {r"[\p{L}\d]": r"[^\W_]", r"\p{L}": r"[^\W\d_]"}
"""JavaScript's `\\p{L}` (a letter, with the `u` flag), which Python's `re` writes as a word character that is
no digit or underscore (and a letter or a digit as a word character that is no underscore)."""


@functools.cache
def python_regex(literal: str) -> re.Pattern[str]:
    """The Python regex for a JavaScript regex literal (`/^\\p{L}+$/u`), or for a bare pattern."""
    body = literal
    if literal.startswith("/") and literal.rindex("/") > 0:
        body = literal[1 : literal.rindex("/")]
    body = body.replace("\\/", "/")
    for js, py in _UNICODE_CLASSES.items():
        body = body.replace(js, py)
    return re.compile(body)


@dataclass
class Num(Rule):
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False

    def check(self, value: Any, name: str) -> list[str]:
        # class-validator's IsNumber refuses NaN and the infinities unless told otherwise
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return [f"{name} must be a number conforming to the specified constraints"]
        errors = []
        if self.integer and not float(value).is_integer():
            errors.append(f"{name} must be an integer number")
        if self.minimum is not None and value < self.minimum:
            errors.append(f"{name} must not be less than {_num(self.minimum)}")
        if self.maximum is not None and value > self.maximum:
            errors.append(f"{name} must not be greater than {_num(self.maximum)}")
        return errors


@dataclass
class Bool(Rule):
    def check(self, value: Any, name: str) -> list[str]:
        return [] if isinstance(value, bool) else [f"{name} must be a boolean value"]


@dataclass
class Arr(Rule):
    item: Rule = field(default_factory=Any_)
    min_items: int | None = None
    max_items: int | None = None

    def check(self, value: Any, name: str) -> list[str]:
        if not isinstance(value, list):
            return [f"{name} must be an array"]
        errors = []
        if self.min_items is not None and len(value) < self.min_items:
            errors.append(f"{name} must contain at least {self.min_items} elements")
        if self.max_items is not None and len(value) > self.max_items:
            errors.append(f"{name} must contain no more than {self.max_items} elements")
        nested = _nested(self.item)
        for i, item in enumerate(value):
            errors.extend(self.item.check(item, f"{name}.{i}") if nested else self.item.check(item, f"each value in {name}"))
        return errors


@dataclass
class Obj(Rule):
    """A DTO: known fields with rules, required ones, and (unless `open`) nothing else."""

    fields: Mapping[str, Rule]
    required: tuple[str, ...] = ()
    open: bool = False
    also: tuple[Callable[[dict[str, Any], str], list[str]], ...] = ()
    """Rules across fields (e.g. a number and its `numberE164CheckEnabled`): (object, prefix) -> messages."""

    def check(self, value: Any, name: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"nested property {name} must be either object or array"] if name else ["body must be an object"]
        prefix = f"{name}." if name else ""
        errors: list[str] = []
        if not self.open:
            errors.extend(f"{prefix}property {key} should not exist" for key in value if key not in self.fields)
        for key in self.required:
            if value.get(key) is None and not (key in value and getattr(self.fields.get(key), "nullable", False)):
                errors.append(f"{prefix}{key} should not be empty")
        for key, rule in self.fields.items():
            if key in value and value[key] is not None:
                errors.extend(rule.check(value[key], f"{prefix}{key}"))
        for across in self.also:
            errors.extend(across(value, prefix))
        return errors

    @property
    def names(self) -> set[str]:
        return set(self.fields)


@dataclass
class Tagged(Rule):
    """A union chosen by one property (`provider`, `type`): each value of the tag has its own rule."""

    tag: str
    branches: Mapping[str, Rule]
    key: Callable[[str], str] | None = None
    """The branch for a tag value when it is not the value itself (`customer.speech.timeout[...]`)."""

    def check(self, value: Any, name: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"nested property {name} must be either object or array"] if name else ["body must be an object"]
        tag = value.get(self.tag)
        branch = None
        if isinstance(tag, str):
            branch = self.branches.get(self.key(tag) if self.key is not None else tag)
        if branch is None:
            prefix = f"{name}." if name else ""
            return [f"{prefix}{self.tag} must be one of the following values: {', '.join(self.branches)}"]
        return branch.check(value, name)


@dataclass
class Map(Rule):
    """An object whose every value follows one rule (a JSON schema's `properties`), named `name.key`."""

    value: Rule

    def check(self, value: Any, name: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"nested property {name} must be either object or array"]
        return [error for key, item in value.items() for error in self.value.check(item, f"{name}.{key}")]


@dataclass
class Later(Rule):
    """A rule found when first used: a schema that contains itself (an assistant's handoff to an
    assistant), or one declared in a module that imports this one."""

    find: Callable[[], Rule]

    @property
    def rule(self) -> Rule:
        return self.find()

    def check(self, value: Any, name: str) -> list[str]:
        return self.rule.check(value, name)


@dataclass
class Either(Rule):
    """A value of one of several JSON types (a string or an array of messages): each alternative rules its own type."""

    alternatives: tuple[Rule, ...]

    def __init__(self, *alternatives: Rule) -> None:
        self.alternatives = alternatives

    def check(self, value: Any, name: str) -> list[str]:
        for alternative in self.alternatives:
            if _fits(alternative, value):
                return alternative.check(value, name)
        kinds = " or ".join(_KINDS[type(a)] for a in self.alternatives if type(a) in _KINDS)
        return [f"{name or 'body'} must be {kinds}"]


_KINDS: dict[type, str] = {Str: "a string", Num: "a number", Bool: "a boolean", Arr: "an array", Obj: "an object", Tagged: "an object"}


def _fits(rule: Rule, value: Any) -> bool:
    """Whether `value` is of the JSON type `rule` checks."""
    if isinstance(rule, Str):
        return isinstance(value, str)
    if isinstance(rule, Num):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(rule, Bool):
        return isinstance(value, bool)
    if isinstance(rule, Arr):
        return isinstance(value, list)
    return isinstance(value, dict)


def elsewhere(module: str, name: str) -> Later:
    """The rule `name` of the sandbox module `module`, which imports this one's module (found when first used)."""
    return Later(lambda: getattr(importlib.import_module(f".{module}", __package__), name))


OPEN = Obj({}, open=True)
"""An object the document leaves open (`metadata`, `variableValues`): Vapi accepts any properties in it."""


def _nested(rule: Rule) -> bool:
    """Whether class-validator names this rule's array items by index (`messages.0.role`): nested objects."""
    if isinstance(rule, Later):
        return _nested(rule.rule)
    if isinstance(rule, Either):
        return any(_nested(a) for a in rule.alternatives)
    return isinstance(rule, Obj | Tagged) or hasattr(rule, "documented")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def validate(rule: Rule, value: Any) -> list[str]:
    """Messages for a request body; empty when Vapi would accept it."""
    return rule.check(value, "")


def validate_query(rules: Mapping[str, Rule], query: Mapping[str, str]) -> list[str]:
    """Query strings arrive as text: numbers are converted before their rules run."""
    errors = []
    for key, raw in query.items():
        rule = rules.get(key)
        if rule is None:
            errors.append(f"property {key} should not exist")
            continue
        value: Any = raw
        if isinstance(rule, Num):
            try:
                value = float(raw)
            except ValueError:
                pass
        elif isinstance(rule, Bool):
            value = {"true": True, "false": False}.get(raw, raw)
        errors.extend(rule.check(value, key))
    return errors


E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
ALPHANUMERIC = re.compile(r"^\+?[a-zA-Z0-9]+$")
"""The document's rule for `number` when `numberE164CheckEnabled` is false."""


def number_problem(number: Any, e164_check: bool, name: str) -> str | None:
    r"""Vapi's message for a `number` it refuses, after the document's `numberE164CheckEnabled` description:
    `true` (default) allows only E.164 numbers like +14155551234; `false` still requires /^\+?[a-zA-Z0-9]+$/."""
    if not isinstance(number, str):
        return None
    if not e164_check:
        return None if ALPHANUMERIC.match(number) else f"{name} must match /^\\+?[a-zA-Z0-9]+$/ regular expression"
    try:
        valid = bool(E164.match(number)) and phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        valid = False
    if valid:
        return None
    return f"{name} must be a valid phone number in the E.164 format. Hot tip, you may be missing the country code (Eg. US: +1)."


def checked_number(field_name: str = "number") -> Callable[[dict[str, Any], str], list[str]]:
    """An `Obj.also` rule: the object's number follows its own `numberE164CheckEnabled`."""

    def check(value: dict[str, Any], prefix: str) -> list[str]:
        problem = number_problem(value.get(field_name), value.get("numberE164CheckEnabled") is not False, f"{prefix}{field_name}")
        return [problem] if problem else []

    return check


BACKOFF_PLAN = Obj(
    {
        "type": Str(enum=("fixed", "exponential")),
        "maxRetries": Num(minimum=0, maximum=10),
        "baseDelaySeconds": Num(minimum=0, maximum=10),
        "excludedStatusCodes": Arr(),
    },
    required=("type", "maxRetries", "baseDelaySeconds"),
)
"""BackoffPlan (the document types `type` as an object with two string values, and each excluded status code as an object)."""
SERVER = Obj(
    {
        "timeoutSeconds": Num(minimum=1, maximum=300),
        "credentialId": Str(),
        "staticIpAddressesEnabled": Bool(),
        "encryptedPaths": Arr(Str()),
        "url": Str(),
        "headers": OPEN,
        "backoffPlan": BACKOFF_PLAN,
    }
)
"""Vapi's `Server` (a webhook target), shared by phone numbers, assistants and tools."""
