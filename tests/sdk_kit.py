"""Vapi's own Python SDK (`vapi-server-sdk`) driven against the sandbox in-process (no tests here).

The SDK fills its models without validating them (`construct_type`), so an answer missing a required
field or carrying a wrong type still "parses". `SdkCheck` calls an SDK method, takes the raw answer
the sandbox sent, and validates it against the method's declared return type with the SDK's own
model classes (`TypeAdapter(type).validate_json(raw)`), then holds every scalar it read to its JSON
type: a number where the SDK declares a number, a boolean for a boolean, a string for a string or a
date-time (pydantic's own strict mode cannot be used: the SDK's models validate through a `before`
hook, which makes strict mode refuse every ISO date-time string). Each call is one check, with what
failed, and the keys the SDK's models do not declare (they allow extra keys).
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pydantic
from vapi import AsyncVapi

BASE = "http://sandbox.vapi.local"
TOKEN = "sdk-test-key"


@dataclass
class Check:
    what: str
    """The SDK method: `assistants.create`."""
    problems: list[str]
    extras: list[str] = field(default_factory=list)
    """Paths of keys the SDK's models do not declare (`results.0.sandboxNote`)."""

    @property
    def ok(self) -> bool:
        return not self.problems


@functools.cache
def _adapter(annotation: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(annotation)


def strictly(annotation: Any, raw: bytes) -> tuple[list[str], list[str]]:
    """How `raw` breaks the SDK type `annotation` (a missing required field, a wrong type), and the undeclared keys it carries."""
    try:
        value = _adapter(annotation).validate_json(raw)
    except pydantic.ValidationError as exc:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:20]], []
    return coerced(value, json.loads(raw)), undeclared(value)


_SCALARS: dict[Any, tuple[type, ...]] = {bool: (bool,), int: (int,), float: (int, float), str: (str,), dt.datetime: (str,), dt.date: (str,)}


def _scalar(annotation: Any) -> Any:
    """The one scalar type an annotation declares (Optional and Annotated unwrapped), or None."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _scalar(members[0]) if len(members) == 1 else None
    return annotation if annotation in _SCALARS else None


def coerced(value: Any, raw: Any, path: str = "") -> list[str]:
    """Where a validated SDK value came from JSON of another type (pydantic's lax mode reads "5" as 5 and 1 as true)."""
    out: list[str] = []
    if isinstance(value, pydantic.BaseModel) and isinstance(raw, dict):
        for name, info in type(value).model_fields.items():
            key = info.alias or name
            if key not in raw or raw[key] is None:
                continue
            scalar = _scalar(info.annotation)
            if scalar is not None:
                wanted = _SCALARS[scalar]
                if not isinstance(raw[key], wanted) or (isinstance(raw[key], bool) and bool not in wanted):
                    out.append(f"{path}{key}: {scalar.__name__} declared, {type(raw[key]).__name__} sent")
            out += coerced(getattr(value, name), raw[key], f"{path}{key}.")
    elif isinstance(value, list) and isinstance(raw, list):
        for i, (item, sent) in enumerate(zip(value, raw, strict=False)):
            out += coerced(item, sent, f"{path}{i}.")
    elif isinstance(value, dict) and isinstance(raw, dict):
        for key, item in value.items():
            out += coerced(item, raw.get(key), f"{path}{key}.")
    return out


def undeclared(value: Any, path: str = "") -> list[str]:
    """Keys a validated SDK model kept as extras (its models allow them), with their paths."""
    out: list[str] = []
    if isinstance(value, pydantic.BaseModel):
        out += [f"{path}{key}" for key in (value.model_extra or {})]
        for name in type(value).model_fields:
            out += undeclared(getattr(value, name), f"{path}{name}.")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += undeclared(item, f"{path}{i}.")
    elif isinstance(value, dict):
        for key, item in value.items():
            out += undeclared(item, f"{path}{key}.")
    return out


class SdkCheck:
    """An `AsyncVapi` on `app` (the sandbox's ASGI app) whose every answer is checked: `await check(vapi.x.y, ...)`."""

    def __init__(self, app: Any) -> None:
        self.answers: list[httpx.Response] = []
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), event_hooks={"response": [self._keep]}, follow_redirects=True)
        self.vapi = AsyncVapi(token=TOKEN, base_url=BASE, httpx_client=self.http)
        self.checks: list[Check] = []

    async def _keep(self, response: httpx.Response) -> None:
        await response.aread()
        self.answers.append(response)

    async def __call__(self, method: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """Call the SDK method; check its answer against the type it declares; return what the SDK returned."""
        what = f"{type(method.__self__).__name__.removeprefix('Async').removesuffix('Client')}.{method.__name__}"  # type: ignore[attr-defined]
        before = len(self.answers)
        try:
            result = await method(*args, **kwargs)
        except Exception as exc:
            self.checks.append(Check(what, [f"the SDK call failed: {type(exc).__name__}: {str(exc)[:300]}"]))
            return None
        annotation = inspect.signature(method).return_annotation
        answer = self.answers[-1] if len(self.answers) > before else None
        if answer is None:
            self.checks.append(Check(what, ["no answer was received"]))
        elif annotation in (None, type(None)):
            self.checks.append(Check(what, [] if answer.is_success else [f"{answer.status_code}: {answer.text[:200]}"]))
        else:
            problems, extras = strictly(annotation, answer.content)
            self.checks.append(Check(what, problems, extras))
        return result

    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def summary(self) -> str:
        passed = sum(c.ok for c in self.checks)
        lines = [f"{passed} of {len(self.checks)} SDK answers parse strictly"]
        lines += [f"  {c.what}: {'; '.join(c.problems)}" for c in self.failed()]
        return "\n".join(lines)

    async def aclose(self) -> None:
        await self.http.aclose()
