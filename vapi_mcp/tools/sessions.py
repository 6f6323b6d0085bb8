"""Sessions (/session): a conversation's memory across chats: create, list, get, update, delete.

A session names who answers (an assistant or a squad, saved or transient) and may carry a customer and a phone
number: then every chat on it texts that customer (Vapi's document: a chat's `sessionId` "uses existing session
data"). So a session with a customer is a guarded action when it is made (the number rules, the human's yes, the
audit: `destinations` finds it, role `sms-session`), and each chat on it is a guarded text (`chat_with_assistant`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from ..errors import InputError
from ..guard import CallContext
from ..guard.facts import quoted
from ..ids import VapiId
from .base import (
    Args,
    DeleteArgs,
    Guarded,
    IdArgs,
    Object,
    ToolContext,
    ToolGroup,
    check_created_since,
    delete_confirmed,
    hide_confirm_token,
    lookup,
    non_empty,
    non_null,
    page_view,
    shown_as,
)
from .calls import Customer
from .chats import turns

toolset = "knowledge"
tools = ToolGroup()

Timestamp = str
PAGE_ROWS = 100
LISTED = ("name", "assistantId", "squadId", "customer", "phoneNumberId", "expirationSeconds", "messages")
"""The create_session fields tools/list shows; the document's others (assistant, squad, assistantOverrides, customerId,
phoneNumber, status) are accepted too."""


class SessionFields(Guarded):
    # CreateSessionDTO

    model_config = ConfigDict(json_schema_extra=lambda schema: _listed(schema))

    name: str | None = Field(None, max_length=40)
    assistantId: VapiId | None = None
    assistant: Object | None = None
    assistantOverrides: Object | None = None
    squadId: VapiId | None = None
    squad: Object | None = None
    customer: Annotated[Customer, shown_as("The customer its chats text: {number (E.164), name?}.")] | None = None
    customerId: VapiId | None = None
    phoneNumberId: VapiId | None = Field(None, description="The number its chats text from.")
    phoneNumber: Object | None = None
    messages: list[Object] | None = Field(None, description="Earlier messages [{role, content}].")
    expirationSeconds: int | None = Field(None, ge=60, le=2_592_000)
    status: Literal["active", "completed"] | None = None


def _listed(schema: dict[str, Any]) -> None:
    schema["properties"] = {k: v for k, v in schema.get("properties", {}).items() if k in LISTED}
    schema.pop("additionalProperties", None)
    hide_confirm_token(schema)


class ListSessionsArgs(Args):
    assistantId: VapiId | None = None
    squadId: VapiId | None = None
    phoneNumberId: VapiId | None = None
    name: str | None = None
    number: str | None = Field(None, description="The customer's number (E.164).")
    createdAtGt: Timestamp | None = None
    createdAtLt: Timestamp | None = None
    createdAtGe: Timestamp | None = None
    createdAtLe: Timestamp | None = None
    page: int = Field(1, ge=1)
    limit: int = Field(20, ge=1, le=PAGE_ROWS)

    phone_fields: ClassVar[tuple[str, ...]] = ("number",)


class UpdateSessionArgs(Args):
    # UpdateSessionDTO: who answers and whom it texts do not change.

    id: VapiId
    name: str | None = Field(None, max_length=40)
    status: Literal["active", "completed"] | None = None
    expirationSeconds: int | None = Field(None, ge=60, le=2_592_000)
    messages: list[Object] | None = Field(None, description="Replaces the session's messages.")

    local_fields: ClassVar[frozenset[str]] = frozenset({"id"})


def _customer(session: dict[str, Any]) -> str | None:
    found = session.get("customer")
    customer: dict[str, Any] = found if isinstance(found, dict) else {}
    return customer.get("number") or customer.get("name") or customer.get("sipUri") or session.get("customerId")


def _whom(session: dict[str, Any]) -> str:
    """Whom a session texts, for a question: its number or SIP address as a fact, a customer's name only quoted (it is text
    anyone could have chosen), or its customer id."""
    found = session.get("customer")
    customer: dict[str, Any] = found if isinstance(found, dict) else {}
    for fact in ("number", "sipUri"):
        if isinstance(customer.get(fact), str) and customer[fact]:
            return str(customer[fact])
    if customer.get("name"):
        return f"the customer named {quoted(str(customer['name']))}"
    ident = session.get("customerId")
    return f"the customer with id {ident}" if isinstance(ident, str) else "its customer"


def session_row(session: dict[str, Any]) -> dict[str, Any]:
    """One compact line per session: who answers, whom its chats text, how many messages it holds."""
    messages = session.get("messages")
    return non_null(
        {
            "id": session.get("id"),
            "name": session.get("name"),
            "status": session.get("status"),
            "assistantId": session.get("assistantId"),
            "squadId": session.get("squadId"),
            "customer": _customer(session),
            "phoneNumberId": session.get("phoneNumberId"),
            "messages": len(messages) if isinstance(messages, list) else None,
            "createdAt": session.get("createdAt"),
            "updatedAt": session.get("updatedAt"),
        }
    )


def session_view(session: dict[str, Any]) -> dict[str, Any]:
    """A session: its row, when it expires, its cost, and its conversation as turns."""
    view = session_row(session) | non_empty(
        {
            "expirationSeconds": session.get("expirationSeconds"),
            "cost": session.get("cost"),
            "turns": turns({"messages": session.get("messages") or []}),
        }
    )
    if view.get("customer") is not None and session.get("phoneNumberId"):
        view["texts"] = "Every chat on this session (chat_with_assistant sessionId) texts its customer; each one asks the user first."
    return view


def _describer(args: SessionFields) -> Callable[[CallContext], Awaitable[str]]:
    """The question names what answers and the number it texts from (ids that do not exist are refused first)."""

    async def describe(call: CallContext) -> str:
        who = "no assistant yet"
        if args.assistantId or args.squadId:
            what, field, ident = ("squad", "squadId", args.squadId) if args.squadId else ("assistant", "assistantId", args.assistantId)
            owner = await lookup(call, f"/{what}/{ident}", field, str(ident), what, f"list_{what}s")
            who = f"the {what} {quoted(owner.get('name') or '(unnamed)')} ({ident})"
        elif args.assistant is not None:
            who = f"the transient assistant {quoted(args.assistant.get('name') or '(unnamed)')}"
        elif args.squad is not None:
            who = "a transient squad"
        line = ""
        transient = args.phoneNumber.get("number") if args.phoneNumber is not None else None
        if isinstance(transient, str):
            line = f", texting from {transient} (its transient phoneNumber)"
        if args.phoneNumberId:
            phone = await lookup(call, f"/phone-number/{args.phoneNumberId}", "phoneNumberId", str(args.phoneNumberId), "phone number", "list_phone_numbers")
            line = f", texting from {phone.get('number') or phone.get('sipUri') or args.phoneNumberId}"
            if phone.get("name"):
                line += f" ({quoted(phone['name'])})"
        return f"{_summary(args, who)}{line}."

    return describe


def _summary(args: SessionFields, who: str) -> str:
    named = f" {quoted(args.name)}" if args.name else ""
    return f"Create the session{named} with {who}"


@tools.tool(
    title="Create session",
    read_only=False,
    sends=("POST /session", "GET /assistant/{id}", "GET /squad/{id}", "GET /phone-number/{id}"),
)
async def create_session(args: SessionFields, call: ToolContext) -> dict[str, Any]:
    """Create a session: a conversation's memory across chats (chat_with_assistant sessionId). With a customer and
    phoneNumberId its chats text that customer, so the user confirms it first."""
    who = f"the {'squad' if args.squadId else 'assistant'} {args.squadId or args.assistantId}" if args.squadId or args.assistantId else "its assistant"
    check = check_created_since("list_sessions", datetime.now(UTC))
    created = await call.send("POST", "/session", args.body(), args=args, summary=f"{_summary(args, who)}.", describe=_describer(args), check=check)
    return session_view(created)


@tools.tool(title="List sessions", read_only=True, sends=("GET /session",))
async def list_sessions(args: ListSessionsArgs, call: ToolContext) -> dict[str, Any]:
    """Sessions, newest first, one row each (name, status, assistant, the customer its chats text, messages);
    filters: assistantId, squadId, phoneNumberId, name, number (the customer's), createdAt bounds; `page` pages on."""
    answer = await call.vapi.get("/session", params=args.body(), expect=dict)
    return page_view(answer, "sessions", session_row, args.page, args.limit)


@tools.tool(title="Get session", read_only=True, sends=("GET /session/{id}",))
async def get_session(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """One session: who answers, the customer its chats text, its status and expiry, and its messages as turns."""
    return session_view(await call.vapi.get(f"/session/{args.id}"))


@tools.tool(title="Update session", read_only=False, idempotent=True, sends=("PATCH /session/{id}",))
async def update_session(args: UpdateSessionArgs, call: ToolContext) -> dict[str, Any]:
    """Change a session's name, status (active, completed), expirationSeconds or messages (who answers and whom it
    texts stay)."""
    body = args.body()
    if not body:
        raise InputError("id", "give at least one of name, status, expirationSeconds or messages to change")
    changed = await call.send("PATCH", f"/session/{args.id}", body, args=args, summary=f"Change the session {args.id}.")
    return {**session_row(changed), "changed": sorted(body)}


@tools.tool(title="Delete session", read_only=False, destructive=True, idempotent=True, sends=("GET /session/{id}", "DELETE /session/{id}"))
async def delete_session(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete a session and its messages (asks the user to confirm)."""
    path = f"/session/{args.id}"
    session = await call.vapi.get(path)
    row = session_row(session)
    named = f" {quoted(row['name'])}" if row.get("name") else ""
    texts = f", whose chats text {_whom(session)}" if row.get("customer") is not None and row.get("phoneNumberId") else ""
    summary = f"Delete the session{named} ({args.id}{texts}) and its {row.get('messages', 0)} message(s)."
    await delete_confirmed(call, args, path, summary)
    return {"deleted": row}
