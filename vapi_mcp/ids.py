"""A Vapi id is a type: `VapiId`, for every `id` / `*Id` argument (`list[VapiId]` for `*Ids`).

Every Vapi object is named by a UUID. An input model field declared `VapiId` is checked when the
arguments are validated, before a handler runs, so no argument can steer a URL path ("../call",
"x?y"), and the refusal names the field and the rule like any other bad argument. Its JSON schema
stays `{"type": "string"}` (tools/list does not change).

    class GetThingArgs(Args):
        id: VapiId
        assistantId: VapiId | None = None
        callIds: list[VapiId]

`vapi_id(value, field)` applies the same rule to an id that does not come through a model (one read
from a Vapi answer, a resource URI). The client (`client.segment`, `VapiClient.request`) refuses any
path segment that could still steer a path.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import AfterValidator

from .errors import InputError

EXAMPLE = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def id_problem(value: Any) -> str | None:
    """Why `value` is not a Vapi id (a UUID in canonical 8-4-4-4-12 form, any case); None when it is one."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return f"must be a Vapi id (a UUID like {EXAMPLE}), got {value!r:.60}"
    if str(parsed) != value.lower():
        return "must be a Vapi id in canonical UUID form (8-4-4-4-12 hex digits)"
    return None


def vapi_id(value: str, field: str = "id") -> str:
    """`value` if it is a Vapi id; otherwise `InputError` naming `field` and the rule."""
    problem = id_problem(value)
    if problem:
        raise InputError(field, problem)
    return value


def _checked(value: str) -> str:
    problem = id_problem(value)
    if problem:
        raise ValueError(problem)
    return value


CHECK = AfterValidator(_checked)
"""The validator that makes a `str` a `VapiId` (tests find the type by it)."""

VapiId = Annotated[str, CHECK]
"""A Vapi object's id (a UUID): the type of every `id` / `*Id` field of a tool's input model."""
