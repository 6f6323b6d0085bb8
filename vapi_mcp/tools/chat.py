"""Testing: a text conversation with an assistant through Vapi's /chat (no phone rings).

A chat that continues a session (`sessionId`, or a `previousChatId` whose chat, or a chat before it, belongs to one) goes over that
session's transport: Vapi's document says a chat with `sessionId` and no transport fields "uses existing session
data", and a session created for an SMS transport holds the customer it texts (`Session.customer`,
`phoneNumberId`). So the session is looked up first, and a session with a customer or a phone number is a text
sent now to its customer: guarded (quiet hours, country rules, the do-not-call list, the human's yes). A session
or chat that cannot be looked up is refused, never assumed to be a plain chat.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..destinations import Found
from ..errors import InputError
from ..guard import CallContext
from ..guard.facts import quoted
from ..ids import VapiId, vapi_id
from .assistants import TransientAssistant
from .base import Guarded, Object, ToolContext, ToolGroup, lookup

toolset = "testing"
tools = ToolGroup()


class ChatArgs(Guarded):
    assistantId: VapiId | None = None
    assistant: TransientAssistant | None = None
    input: str | list[Object] = Field(description="Text, or messages [{role, content}].")
    previousChatId: VapiId | None = None
    sessionId: VapiId | None = None


def _reply(chat: dict[str, Any]) -> str:
    """The assistant's words in a Chat's `output`."""
    return "\n".join(m["content"] for m in chat.get("output") or [] if m.get("role") == "assistant" and m.get("content"))


MAX_CHAIN = 50
"""Chats followed back through `previousChatId` to find the session a conversation belongs to; a longer chain is refused."""


async def _session_of(chat_id: str, call: ToolContext) -> Any:
    """The session a chat belongs to, through its whole chain of previous chats (a chat continuing one that continues
    an SMS session continues that session too); None when no chat of the chain has one."""
    seen: set[str] = set()
    while len(seen) < MAX_CHAIN:
        seen.add(chat_id)
        previous = await lookup(call, f"/chat/{chat_id}", "previousChatId", chat_id, "chat", "chat_with_assistant")
        if previous.get("sessionId") is not None:
            return previous["sessionId"]
        before = previous.get("previousChatId")
        if not isinstance(before, str) or not before:
            return None
        if before in seen:
            raise InputError("previousChatId", f"chat {chat_id} continues a chat of its own chain ({before}): it cannot be followed; nothing was sent")
        chat_id = vapi_id(before, "previousChatId")
    raise InputError(
        "previousChatId",
        f"continues a chain of more than {MAX_CHAIN} chats, too long to tell whether it continues an SMS session; nothing was sent",
        hint="Start a new chat (without previousChatId), or continue a later chat of the conversation.",
    )


async def _texted(args: ChatArgs, call: ToolContext) -> Found | None:
    """The customer the chat's session texts, as a destination (None when the chat has no session, or a session without one)."""
    session_id = args.sessionId
    if session_id is None and args.previousChatId is not None:
        session_id = await _session_of(str(args.previousChatId), call)
    if session_id is None:
        return None
    ident = vapi_id(str(session_id), "sessionId")
    session = await lookup(call, f"/session/{ident}", "sessionId", ident, "session", "chat_with_assistant")
    found = session.get("customer")
    if found is not None and not isinstance(found, dict):  # no shape of Vapi's document: whom it texts cannot be read, so it texts
        return Found("sms", ("sessionId",), detail="the session's customer (Vapi's answer gives it in a shape this server cannot read)")
    customer: dict[str, Any] = found if isinstance(found, dict) else {}
    if not (customer or session.get("customerId") or session.get("phoneNumberId")):
        return None  # a web chat's session: nobody is texted
    number = customer.get("number")
    if isinstance(number, str) and number:
        return Found("sms", ("sessionId",), number, customer.get("numberE164CheckEnabled") is not False)
    if isinstance(customer.get("sipUri"), str) and customer["sipUri"]:  # the number rules read its user part (sip:112@trunk)
        return Found("sms", ("sessionId",), detail=customer["sipUri"])
    who = f"the session's customer ({session['customerId']})" if session.get("customerId") else "the session's customer"
    return Found("sms", ("sessionId",), detail=who)


@tools.tool(title="Chat with assistant", read_only=False, sends=("POST /chat", "GET /chat/{id}", "GET /session/{id}", "GET /assistant/{id}"))
async def chat_with_assistant(args: ChatArgs, call: ToolContext) -> dict[str, Any]:
    """Text an assistant (Vapi /chat) to test it without ringing anyone: returns its reply and a
    chatId to pass as previousChatId next turn."""
    if args.assistantId is not None and args.assistant is not None:
        raise InputError("assistant", "give either assistantId or assistant, not both")
    if args.assistantId is None and args.assistant is None and args.previousChatId is None and args.sessionId is None:
        raise InputError("assistantId", "is required (or assistant, previousChatId or sessionId)")
    if args.sessionId is not None and args.previousChatId is not None:  # which would Vapi follow? Its document says: not both
        raise InputError("previousChatId", "give either sessionId or previousChatId, not both (Vapi's document: they are mutually exclusive); nothing was sent")
    who = f"the assistant {args.assistantId}" if args.assistantId else f"the transient assistant {quoted(args.assistant.get('name') or '(unnamed)')}" if args.assistant else "the assistant of this chat"
    async def describe(ctx: CallContext) -> str:  # asked only when the chat texts, or carries a phone destination
        if args.assistantId is None:
            return f"Chat with {who}."
        found = await lookup(ctx, f"/assistant/{args.assistantId}", "assistantId", args.assistantId, "assistant", "list_assistants")
        return f"Chat with the assistant {quoted(found.get('name') or '(unnamed)')} ({args.assistantId})."

    summary = f"Chat with {who}."
    texted = await _texted(args, call)
    if texted is None:
        chat = await call.send("POST", "/chat", args.body(), args=args, summary=summary, describe=describe)
    else:  # the session's transport texts its customer now
        action = args.action(call, kind="text", summary=summary, method="POST", path="/chat", body=args.body(), reaches=[texted], describe=describe)
        chat = await call.send_guarded(action)
    return {"reply": _reply(chat), "chatId": chat.get("id"), "cost": chat.get("cost")}
