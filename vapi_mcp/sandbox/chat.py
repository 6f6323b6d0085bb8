"""/chat: a text conversation with an assistant; `previousChatId` continues one.

The assistant answers by the conversation engine's rules (conversation.py): from its own prompt,
`assistantOverrides` (and their `variableValues`) applied, templates rendered for a chat, on the
sandbox clock. A chat speaks no opening (`firstMessage` is for calls): each input gets one reply
to its last user message. Every answer says once that its replies are drawn by rule (conversation.NOTE_HEADER).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import knowledge
from .calls import CUSTOMER
from .conversation import assistant_turn, note_headers, with_overrides
from .core import ApiError, body_of, find, sandbox_of, stamp
from .validation import Arr, Bool, Obj, Rule, Str, checked_number

if TYPE_CHECKING:
    from . import Sandbox


class TextOrMessages(Rule):
    """CreateChatDTO.input: a string, or an array of chat messages (`{role, content}`)."""

    messages = Arr(Obj({"role": Str(enum=("system", "user", "assistant", "tool", "developer")), "content": Str()}, required=("role",), open=True))

    def check(self, value: Any, name: str) -> list[str]:
        return [] if isinstance(value, str) else self.messages.check(value, name)


SMS_TRANSPORT = Obj(
    {
        "conversationType": Str(enum=("chat",)),
        "phoneNumberId": Str(),
        "customer": Obj(CUSTOMER.fields, also=(checked_number(),)),
        "customerId": Str(),
        "useLLMGeneratedMessageForOutbound": Bool(),
        "type": Str(enum=("twilio.sms",)),
    },
    required=("type",),
)
"""TwilioSMSChatTransport: the chat's reply is texted to `customer` (its number checked as the document says)."""

CREATE_CHAT = Obj(
    {
        "assistantId": Str(),
        "assistant": Obj({}, open=True),
        "assistantOverrides": Obj({}, open=True),
        "squadId": Str(),
        "squad": Obj({}, open=True),
        "name": Str(max_len=40),
        "sessionId": Str(),
        "input": TextOrMessages(),
        "stream": Bool(),
        "previousChatId": Str(),
        "transport": SMS_TRANSPORT,
    },
    required=("input",),
)


def _said(value: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    return [{"role": m["role"], "content": m.get("content") or m.get("message") or ""} for m in value]


def reply(sb: Sandbox, assistant: dict[str, Any], overrides: dict[str, Any] | None, history: list[dict[str, Any]], customer: Any) -> str:
    """The assistant's answer to the last user message of `history` (the turns before it are its context)."""
    configured, variables = with_overrides(assistant, overrides)
    last = next((i for i in range(len(history) - 1, -1, -1) if history[i]["role"] == "user"), None)
    heard = history[last]["content"] if last is not None else ""
    return assistant_turn(
        configured,
        history[:last] if last is not None else history,
        heard if isinstance(heard, str) else "",
        now=sb.now(),
        variables=variables,
        customer=customer if isinstance(customer, dict) else None,
        documents=knowledge.documents_for(sb, configured),
        conversation_type="chat",
    )


def assistant_of(sb: Sandbox, body: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """Who answers: the transient assistant, the one named (or the previous chat's), or none for a squad or session."""
    if body.get("assistant") is not None:
        return body["assistant"]
    assistant_id = body.get("assistantId") or (previous or {}).get("assistantId")
    if assistant_id is None:
        if previous is not None or body.get("squadId") or body.get("squad") or body.get("sessionId"):
            return (previous or {}).get("assistant") or {}
        raise ApiError(400, ["Need Either `assistantId`, `assistant`, `squadId`, `squad`, `sessionId` Or `previousChatId`."])
    assistant = sb.store.assistants.get(assistant_id)
    if assistant is None:
        raise ApiError(400, f"Couldn't Get Assistant. `assistantId` {assistant_id} Not Found.")
    return assistant


async def create_chat(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    body = await body_of(request, CREATE_CHAT)
    transport = body.get("transport") or {}
    if body.get("sessionId") and (transport.get("phoneNumberId") or transport.get("customer")):
        raise ApiError(400, ["Cannot specify both sessionId and transport fields (phoneNumberId/customer) together."])
    previous = None
    if body.get("previousChatId") is not None:
        previous = sb.store.chats.get(body["previousChatId"])
        if previous is None:
            raise ApiError(400, f"Couldn't Get Chat. `previousChatId` {body['previousChatId']} Not Found.")
    assistant = assistant_of(sb, body, previous)
    history = [*(previous["messages"] + previous["output"] if previous else []), *_said(body["input"])]
    turn = sum(1 for m in history if m["role"] == "user")
    overrides = body.get("assistantOverrides") if "assistantOverrides" in body else (previous or {}).get("assistantOverrides")
    output = [{"role": "assistant", "content": reply(sb, assistant, overrides, history, transport.get("customer"))}]
    fields = {k: v for k, v in body.items() if k != "stream"}
    fields["assistantId"] = body.get("assistantId") or (previous or {}).get("assistantId")
    chat = stamp(
        sb,
        **fields,
        messages=history,
        output=output,
        cost=0.0004 * turn,
        costs=[{"type": "chat", "cost": 0.0004 * turn}],
    )
    chat = {k: v for k, v in chat.items() if v is not None}
    sb.store.chats[chat["id"]] = chat
    return JSONResponse(chat, headers=note_headers())


async def get_chat(request: Request) -> JSONResponse:
    return JSONResponse(find(sandbox_of(request).store.chats, request, "Chat"), headers=note_headers())


routes = [Route("/chat", create_chat, methods=["POST"]), Route("/chat/{id}", get_chat, methods=["GET"])]
