"""/chat: a deterministic text conversation with an assistant; `previousChatId` continues one.

/session: a conversation's session (CreateSessionDTO). A chat with an SMS `transport` naming
`phoneNumberId` and `customer` creates one (as Vapi's document says) and records it as the chat's
`sessionId`; a chat with `sessionId` and no transport fields continues it, over its transport: its
replies go to the session's customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .calls import CUSTOMER
from .core import ApiError, body_of, find, stamp
from .validation import Arr, Bool, Num, Obj, Rule, Str, checked_number

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


CREATE_SESSION = Obj(
    {
        "name": Str(max_len=40),
        "status": Str(enum=("active", "completed")),
        "expirationSeconds": Num(minimum=60, maximum=2592000),
        "assistantId": Str(),
        "assistant": Obj({}, open=True),
        "assistantOverrides": Obj({}, open=True),
        "squadId": Str(),
        "squad": Obj({}, open=True),
        "messages": Arr(Obj({}, open=True)),
        "customer": Obj(CUSTOMER.fields, also=(checked_number(),)),
        "customerId": Str(),
        "phoneNumberId": Str(),
        "phoneNumber": Obj({}, open=True),
    }
)


def _said(value: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    return [{"role": m["role"], "content": m.get("content") or m.get("message") or ""} for m in value]


def scripted_reply(assistant: dict[str, Any], history: list[dict[str, Any]]) -> str:
    """What the sandbox assistant answers after `history`: its name, the turn, and the last user line."""
    turn = sum(1 for m in history if m["role"] == "user")
    heard = next((m["content"] for m in reversed(history) if m["role"] == "user"), "")
    name = assistant.get("name") or "Assistant"
    return f"{name} here (turn {turn}). You said: {heard}"


def routes(sb: Sandbox) -> list[Route]:
    def assistant_of(body: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
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
        body = await body_of(request, CREATE_CHAT)
        transport = body.get("transport") or {}
        if body.get("sessionId") and (transport.get("phoneNumberId") or transport.get("customer")):
            raise ApiError(400, ["Cannot specify both sessionId and transport fields (phoneNumberId/customer) together."])
        session_id = body.get("sessionId")
        if session_id is not None and session_id not in sb.store.sessions:
            raise ApiError(400, f"Couldn't Get Session. `sessionId` {session_id} Not Found.")
        if session_id is None and transport.get("phoneNumberId") and transport.get("customer"):
            session = stamp(sb.clock, status="active", phoneNumberId=transport["phoneNumberId"], customer=transport["customer"], messages=[])
            sb.store.sessions[session["id"]] = session
            session_id = session["id"]
        previous = None
        if body.get("previousChatId") is not None:
            previous = sb.store.chats.get(body["previousChatId"])
            if previous is None:
                raise ApiError(400, f"Couldn't Get Chat. `previousChatId` {body['previousChatId']} Not Found.")
        assistant = assistant_of(body, previous)
        history = [*(previous["messages"] + previous["output"] if previous else []), *_said(body["input"])]
        turn = sum(1 for m in history if m["role"] == "user")
        output = [{"role": "assistant", "content": scripted_reply(assistant, history)}]
        fields = {k: v for k, v in body.items() if k not in ("stream", "transport")}
        fields["assistantId"] = body.get("assistantId") or (previous or {}).get("assistantId")
        fields["sessionId"] = session_id
        chat = stamp(
            sb.clock,
            **fields,
            messages=history,
            output=output,
            cost=0.0004 * turn,
            costs=[{"type": "chat", "cost": 0.0004 * turn}],
        )
        chat = {k: v for k, v in chat.items() if v is not None}
        sb.store.chats[chat["id"]] = chat
        return JSONResponse(chat)

    async def get_chat(request: Request) -> JSONResponse:
        return JSONResponse(find(sb.store.chats, request, "Chat"))

    async def create_session(request: Request) -> JSONResponse:
        body = await body_of(request, CREATE_SESSION)
        session = stamp(sb.clock, status="active", messages=[], **body)
        sb.store.sessions[session["id"]] = session
        return JSONResponse(session, status_code=201)

    async def get_session(request: Request) -> JSONResponse:
        return JSONResponse(find(sb.store.sessions, request, "Session"))

    async def delete_session(request: Request) -> JSONResponse:
        session = find(sb.store.sessions, request, "Session")
        return JSONResponse(sb.store.sessions.pop(session["id"]))

    return [
        Route("/chat", create_chat, methods=["POST"]),
        Route("/chat/{id}", get_chat, methods=["GET"]),
        Route("/session", create_session, methods=["POST"]),
        Route("/session/{id}", get_session, methods=["GET"]),
        Route("/session/{id}", delete_session, methods=["DELETE"]),
    ]
