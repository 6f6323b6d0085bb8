"""/tool: Vapi tools (functions, API requests, transfers an assistant can call): create, list, get, update, delete.

The five common types are declared field by field after the Create*/Update*ToolDTO schemas
(they share their field names); the other types are accepted as open objects.
"""

from __future__ import annotations

from .core import DATE_FILTERS
from .phone_numbers import DESTINATION as PHONE_DESTINATION
from .resource import Resource
from .validation import SERVER, Any_, Arr, Bool, Num, Obj, Rule, Str, Tagged

TOOL_TYPES = (
    "apiRequest", "code", "dtmf", "endCall", "function", "transferCall", "handoff", "bash", "computer",
    "textEditor", "query", "google.calendar.event.create", "google.sheets.row.append",
    "google.calendar.availability.check", "slack.message.send", "sms", "mcp",
    "gohighlevel.calendar.availability.check", "gohighlevel.calendar.event.create",
    "gohighlevel.contact.create", "gohighlevel.contact.get", "sipRequest", "voicemail",
)  # fmt: skip
"""POST /tool's discriminator values, in the document's order."""
UPDATE_TYPES = (*TOOL_TYPES[:5], "knowledgeBase", *TOOL_TYPES[5:])
"""PATCH /tool/{id} also knows `knowledgeBase` tools (made elsewhere); POST /tool takes TOOL_TYPES."""

OPEN = Obj({}, open=True)
"""A nested object this sandbox does not model."""

JSON_SCHEMA = Obj(
    {
        "type": Str(enum=("string", "number", "integer", "boolean", "array", "object")),
        "items": Any_(),
        "properties": OPEN,
        "description": Str(),
        "pattern": Str(),
        "format": Str(enum=("date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid")),
        "required": Arr(Str()),
        "enum": Arr(Str()),
        "title": Str(),
    },
    required=("type",),
)
FUNCTION_PARAMETERS = Obj(
    {"type": Str(enum=("object",)), "properties": OPEN, "required": Arr(Str())}, required=("type", "properties")
)
FUNCTION = Obj(
    {
        "name": Str(
            max_len=64,
            pattern=r"[a-zA-Z0-9_-]{1,64}",
            pattern_message="function.name must match /^[a-zA-Z0-9_-]{1,64}$/ regular expression",
        ),
        "strict": Bool(),
        "description": Str(),
        "parameters": FUNCTION_PARAMETERS,
    },
    required=("name",),
)
DESTINATION = Tagged(
    "type",
    {
        **PHONE_DESTINATION.branches,  # TransferDestinationNumber (its number checked as the document says), TransferDestinationSip
        "assistant": Obj({"type": Str(enum=("assistant",))}, required=("type",), open=True),
    },
)
"""CreateTransferCallToolDTO.destinations: an assistant, a number or a SIP address."""
INLINE_TOOL = Obj({"destinations": Arr(DESTINATION)}, open=True)
"""A tool inside an assistant (`model.tools`): its other fields are not modelled here, its destinations are."""

COMMON: dict[str, Rule] = {"messages": Arr(), "rejectionPlan": OPEN}
TYPED: dict[str, dict[str, Rule]] = {
    "function": {
        "async": Bool(),
        "server": SERVER,
        "variableExtractionPlan": OPEN,
        "parameters": Arr(),
        "function": FUNCTION,
    },
    "apiRequest": {
        "name": Str(
            max_len=40,
            pattern=r"[a-zA-Z0-9_-]{1,40}",
            pattern_message="name must match /^[a-zA-Z0-9_-]{1,40}$/ regular expression",
        ),
        "method": Str(enum=("POST", "GET", "PUT", "PATCH", "DELETE")),
        "timeoutSeconds": Num(minimum=1, maximum=300),
        "credentialId": Str(),
        "encryptedPaths": Arr(Str()),
        "parameters": Arr(),
        "description": Str(),
        "url": Str(),
        "body": JSON_SCHEMA,
        "headers": JSON_SCHEMA,
        "backoffPlan": OPEN,
        "variableExtractionPlan": OPEN,
    },
    "transferCall": {"destinations": Arr(DESTINATION)},
    "endCall": {},
    "dtmf": {"sipInfoDtmfEnabled": Bool()},
}
"""The types modelled field by field: unknown properties are refused."""
REQUIRED_ON_CREATE = {"apiRequest": ("method", "url")}


def _dto(tool_type: str, required: tuple[str, ...]) -> Obj:
    fields = TYPED.get(tool_type)
    if fields is None:
        return Obj({"type": Str(enum=(tool_type,))}, required=required, open=True)
    return Obj({"type": Str(enum=(tool_type,)), **COMMON, **fields}, required=required)


CREATE_TOOL = Tagged("type", {t: _dto(t, ("type", *REQUIRED_ON_CREATE.get(t, ()))) for t in TOOL_TYPES})
UPDATE_TOOL = {t: _dto(t, ()) for t in UPDATE_TYPES}
"""PATCH bodies by the stored tool's type (`type` is optional and cannot change)."""

LIST_QUERY = {
    "limit": Num(minimum=0, maximum=1000),
    **DATE_FILTERS,
}


TOOLS = Resource("/tool", "tools", "Tool", CREATE_TOOL, lambda tool: UPDATE_TOOL[tool["type"]], LIST_QUERY, nulls="set")

routes = TOOLS.routes()
