"""/chat: a text conversation with an assistant; `previousChatId` continues one; list, get and delete them.

The assistant answers by the conversation engine's rules (conversation.py): from its own prompt,
`assistantOverrides` (and their `variableValues`) applied, templates rendered for a chat, on the
sandbox clock. A chat speaks no opening (`firstMessage` is for calls): each input gets one reply
to its last user message. Every answer says once that its replies are drawn by rule (conversation.NOTE_HEADER).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import knowledge
from .assistants import ASSISTANT, ASSISTANT_OVERRIDES, SQUAD
from .calls import CUSTOMER
from .conversation import assistant_turn, note_headers, with_overrides
from .core import DATE_FILTERS, ApiError, body_of, find, paginate, query_of, sandbox_of, stamp
from .validation import OPEN, Arr, Bool, Either, Num, Obj, Rule, Str, Tagged, checked_number

if TYPE_CHECKING:
    from . import Sandbox


def _message(role: str, **fields: Rule) -> Obj:
    return Obj({"role": Str(enum=(role,)), "content": Str(max_len=10000), **fields, "name": Str(max_len=40), "metadata": OPEN}, required=("role", "content", *fields))


def _content_or_message(value: dict[str, Any], prefix: str) -> list[str]:
    return [] if value.get("content") is not None or value.get("message") is not None else [f"{prefix}content should not be empty"]


def _spoken(role: str) -> Obj:
    """A system or user message: `{role, content}` as in Vapi's chat guide, or the document's SystemMessage and
    UserMessage (`message`, `time`, `secondsFromStart`, ...), which Vapi's SDKs type these items as."""
    return Obj(
        {
            "role": Str(enum=(role,)),
            "content": Str(max_len=10000),
            "message": Str(max_len=10000),
            "time": Num(),
            "endTime": Num(),
            "secondsFromStart": Num(),
            "duration": Num(),
            "name": Str(max_len=40),
            "metadata": OPEN,
        },
        required=("role",),
        also=(_content_or_message,),
    )


TOOL_CALL = Obj(
    {"id": Str(), "type": Str(), "function": Obj({"arguments": Str(), "name": Str(max_len=80)}, required=("arguments", "name"))},
    required=("id", "type", "function"),
)
"""ToolCall (an assistant message's `tool_calls`)."""
CHAT_MESSAGE = Tagged(
    "role",
    {
        "system": _spoken("system"),
        "user": _spoken("user"),
        "assistant": Obj(
            {
                "role": Str(enum=("assistant",)),
                "content": Str(max_len=10000),
                "refusal": Str(max_len=10000),
                "tool_calls": Arr(TOOL_CALL),
                "name": Str(max_len=40),
                "metadata": OPEN,
            },
            required=("role",),
        ),
        "tool": _message("tool", tool_call_id=Str()),
        "developer": _message("developer"),
    },
)
"""A chat message by its role: Assistant-, Tool- and DeveloperMessage as the document declares them. The document's
SystemMessage and UserMessage at these places are a call transcript's (role, message, time, secondsFromStart: a
name two schemas share) while Vapi's chat guide writes them `{role, content}`: either is taken, and `said` stores
them with both."""
INPUT = Either(Str(), Arr(CHAT_MESSAGE))
"""CreateChatDTO.input: a string, or an array of chat messages."""

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
        "assistant": ASSISTANT,
        "assistantOverrides": ASSISTANT_OVERRIDES,
        "squadId": Str(),
        "squad": SQUAD,
        "name": Str(max_len=40),
        "sessionId": Str(),
        "input": INPUT,
        "stream": Bool(),
        "previousChatId": Str(),
        "transport": SMS_TRANSPORT,
    },
    required=("input",),
)


def said(message: dict[str, Any], at: datetime) -> dict[str, Any]:
    """A message as a chat or a session keeps it: a system or user message with its `content` (the chat guide's)
    and the fields the document's SystemMessage and UserMessage require (`message`, `time` and `endTime` in
    epoch milliseconds, `secondsFromStart`), so that either reading of it holds; other roles as they are."""
    if message.get("role") not in ("system", "user"):
        return message
    text = message.get("content") if message.get("content") is not None else message.get("message") or ""
    ms = message.get("time", int(at.timestamp() * 1000))
    shown = {**message, "content": text, "message": message.get("message", text), "time": ms, "secondsFromStart": message.get("secondsFromStart", 0)}
    return shown if message["role"] == "system" else {**shown, "endTime": message.get("endTime", ms)}


def _said(value: str | list[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [said({"role": "user", "content": value}, at)]
    return [said({"role": m["role"], "content": m.get("content") or m.get("message") or ""}, at) for m in value]


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
    """Who answers: the transient assistant, the one named (or the previous chat's or the session's), or none for a squad."""
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
    session = _session(sb, body) or _sms_session(sb, body, transport)
    assistant = assistant_of(sb, body, previous or session)
    earlier = previous["messages"] + previous["output"] if previous else (session or {}).get("messages") or []
    history = [*(said(m, sb.now()) for m in earlier), *_said(body["input"], sb.now())]
    turn = sum(1 for m in history if m["role"] == "user")
    overrides = body.get("assistantOverrides") if "assistantOverrides" in body else (previous or {}).get("assistantOverrides")
    output = [{"role": "assistant", "content": reply(sb, assistant, overrides, history, transport.get("customer"))}]
    fields = {k: v for k, v in body.items() if k != "stream"}
    if isinstance(body["input"], list):
        fields["input"] = [said(m, sb.now()) for m in body["input"]]
    fields["assistantId"] = body.get("assistantId") or (previous or session or {}).get("assistantId")
    if session is not None:
        fields["sessionId"] = session["id"]
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
    if session is not None:  # the session remembers the turn for its next chat
        session.update(messages=[*history, *output], updatedAt=chat["createdAt"])
    return JSONResponse(chat, headers=note_headers())


def _session(sb: Sandbox, body: dict[str, Any]) -> dict[str, Any] | None:
    """The stored session a chat continues (`sessionId`): 400 for an unknown one, or with `previousChatId` as well."""
    if body.get("sessionId") is None:
        return None
    if body.get("previousChatId") is not None:
        raise ApiError(400, ["sessionId and previousChatId are mutually exclusive: give one of them."])
    session = sb.store.sessions.get(body["sessionId"])
    if session is None:
        raise ApiError(400, f"Couldn't Get Session. `sessionId` {body['sessionId']} Not Found.")
    return session


def _sms_session(sb: Sandbox, body: dict[str, Any], transport: dict[str, Any]) -> dict[str, Any] | None:
    """The session a chat over a transport opens: the document's `transport` says that a `phoneNumberId` and a
    `customer` create a new session (its replies go to that customer); it becomes the chat's `sessionId`."""
    if not (transport.get("phoneNumberId") and transport.get("customer")):
        return None
    if transport["phoneNumberId"] not in sb.store.phone_numbers:
        raise ApiError(400, f"Couldn't Get Phone Number. `phoneNumberId` {transport['phoneNumberId']} Not Found.")
    session = stamp(
        sb,
        status="active",
        expirationSeconds=86400,
        assistantId=body.get("assistantId"),
        phoneNumberId=transport["phoneNumberId"],
        customer=transport["customer"],
        messages=[],
    )
    session = {k: v for k, v in session.items() if v is not None}
    sb.store.sessions[session["id"]] = session
    return session


async def get_chat(request: Request) -> JSONResponse:
    return JSONResponse(find(sandbox_of(request).store.chats, request, "Chat"), headers=note_headers())


LIST_QUERY: dict[str, Rule] = {
    "id": Str(),
    "assistantId": Str(),
    "assistantIdAny": Str(),
    "squadId": Str(),
    "sessionId": Str(),
    "previousChatId": Str(),
    "idAny": Str(),
    "page": Num(minimum=1),
    "sortOrder": Str(enum=("ASC", "DESC")),
    "sortBy": Str(enum=("createdAt", "duration", "cost")),
    "limit": Num(minimum=0, maximum=1000),
    **DATE_FILTERS,
}
"""GET /chat's query parameters."""
_EXACT = ("id", "assistantId", "squadId", "sessionId", "previousChatId")


def _kept(chat: dict[str, Any], query: dict[str, str]) -> bool:
    if any(key in query and chat.get(key) != query[key] for key in _EXACT):
        return False
    if "idAny" in query and chat.get("id") not in query["idAny"].split(","):
        return False
    return "assistantIdAny" not in query or chat.get("assistantId") in query["assistantIdAny"].split(",")


async def list_chats(request: Request) -> JSONResponse:
    """ChatPaginatedResponse: the chats the filters keep, newest first (`sortOrder` ASC: oldest first; `sortBy`
    cost orders by cost, duration by nothing a chat has, then by time), `page` of `limit` (100) of them."""
    sb = sandbox_of(request)
    query = query_of(request, LIST_QUERY)
    found = [chat for chat in sb.store.chats.values() if _kept(chat, query)]
    every = paginate(found, {**query, "limit": str(len(found))})  # the time filters, newest first
    by = query.get("sortBy", "createdAt")
    ascending = query.get("sortOrder") == "ASC"
    every.sort(key=lambda chat: ((chat.get("cost") or 0) if by == "cost" else 0, chat["createdAt"]), reverse=not ascending)
    limit, page = int(float(query.get("limit", 100))), int(float(query.get("page", 1)))
    results = every[(page - 1) * limit : page * limit]
    answer = {"results": results, "metadata": {"itemsPerPage": limit, "totalItems": len(every), "currentPage": page}}
    return JSONResponse(answer, headers=note_headers(bool(results)))


async def delete_chat(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    chat = find(sb.store.chats, request, "Chat")
    del sb.store.chats[chat["id"]]
    return JSONResponse(chat, headers=note_headers())


routes = [
    Route("/chat", create_chat, methods=["POST"]),
    Route("/chat", list_chats, methods=["GET"]),
    Route("/chat/{id}", get_chat, methods=["GET"]),
    Route("/chat/{id}", delete_chat, methods=["DELETE"]),
]
BODIES: dict[tuple[str, str], Rule] = {("POST", "/chat"): CREATE_CHAT}
"""The request bodies this module validates, by route (the tests compare each with the document)."""
