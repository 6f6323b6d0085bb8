"""Chat history (/chat): the chats an assistant had, one compact row each, one whole conversation as turns, and a
guarded delete. Sending a chat is `chat_with_assistant` (the testing toolset's, offered by default); these read
back what it, and anyone else on the account, said."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..errors import VapiError
from ..guard.facts import quoted
from ..ids import VapiId, id_problem
from .base import Args, DeleteArgs, IdArgs, ToolContext, ToolGroup, delete_confirmed, non_empty, non_null, page_view

toolset = "knowledge"
tools = ToolGroup()

Timestamp = str
PAGE_ROWS = 100
"""Rows in one list_chats page at most, whatever `limit` says."""
SNIPPET = 80
"""Characters of a chat's last question and reply shown in its row."""
SPEAKERS = {"user": "User", "assistant": "AI", "system": "System", "tool": "Tool", "developer": "Developer"}


class ListChatsArgs(Args):
    assistantId: VapiId | None = None
    sessionId: VapiId | None = None
    squadId: VapiId | None = None
    previousChatId: VapiId | None = None
    createdAtGt: Timestamp | None = None
    createdAtLt: Timestamp | None = None
    createdAtGe: Timestamp | None = None
    createdAtLe: Timestamp | None = None
    page: int = Field(1, ge=1)
    limit: int = Field(20, ge=1, le=PAGE_ROWS)


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    calls = message.get("tool_calls") or []
    names = [str((c.get("function") or {}).get("name")) for c in calls if isinstance(c, dict)]
    return f"(calls {', '.join(names)})" if names else ""


def turns(chat: dict[str, Any]) -> list[str]:
    """The whole conversation once, in order: the messages it continued from and its input, then its output."""
    out = []
    for message in [*(chat.get("messages") or []), *(chat.get("output") or [])]:
        if isinstance(message, dict) and message.get("role") in SPEAKERS and _text(message):
            out.append(f"{SPEAKERS[message['role']]}: {_text(message)}")
    return out


def _cut(text: str | None) -> str | None:
    if not text:
        return None
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1].rstrip() + "\u2026"


def chat_row(chat: dict[str, Any]) -> dict[str, Any]:
    """One compact line per chat: who answered, in which session, how many user turns, the last question and reply."""
    asked = [m for m in chat.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
    reply = "\n".join(_text(m) for m in chat.get("output") or [] if isinstance(m, dict) and m.get("role") == "assistant")
    return non_null(
        {
            "id": chat.get("id"),
            "createdAt": chat.get("createdAt"),
            "assistantId": chat.get("assistantId"),
            "squadId": chat.get("squadId"),
            "sessionId": chat.get("sessionId"),
            "name": chat.get("name"),
            "turns": len(asked) or None,
            "asked": _cut(_text(asked[-1])) if asked else None,
            "reply": _cut(reply),
            "cost": chat.get("cost"),
        }
    )


def chat_view(chat: dict[str, Any]) -> dict[str, Any]:
    """One chat: what it continued (previous chat, session), who answered, its cost, and the conversation as turns."""
    return non_empty(
        {
            "id": chat.get("id"),
            "name": chat.get("name"),
            "createdAt": chat.get("createdAt"),
            "assistantId": chat.get("assistantId"),
            "assistantName": (chat.get("assistant") or {}).get("name") if isinstance(chat.get("assistant"), dict) else None,
            "squadId": chat.get("squadId"),
            "sessionId": chat.get("sessionId"),
            "previousChatId": chat.get("previousChatId"),
            "cost": chat.get("cost"),
            "turns": turns(chat),
        }
    )


@tools.tool(title="List chats", read_only=True, sends=("GET /chat",))
async def list_chats(args: ListChatsArgs, call: ToolContext) -> dict[str, Any]:
    """Chats, newest first, one row each (assistant, session, user turns, the last question and reply, cost);
    filters: assistantId, sessionId, squadId, previousChatId, createdAt bounds; `page` pages on. get_chat has
    the whole conversation."""
    answer = await call.vapi.get("/chat", params=args.body(), expect=dict)
    return page_view(answer, "chats", chat_row, args.page, args.limit)


@tools.tool(title="Get chat", read_only=True, sends=("GET /chat/{id}",))
async def get_chat(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """One chat: the whole conversation as 'User: ...' / 'AI: ...' turns (with what it continued), who
    answered, its session and cost."""
    return chat_view(await call.vapi.get(f"/chat/{args.id}"))


@tools.tool(title="Delete chat", read_only=False, destructive=True, idempotent=True, sends=("GET /chat/{id}", "GET /assistant/{id}", "DELETE /chat/{id}"))
async def delete_chat(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete a chat and its conversation (asks the user to confirm)."""
    path = f"/chat/{args.id}"
    chat = await call.vapi.get(path)
    row = chat_row(chat)
    who = await _assistant_name(call, chat)
    summary = f"Delete the chat {args.id} with {who} ({row.get('turns', 0)} user turn(s), created {chat.get('createdAt')}) and its conversation."
    await delete_confirmed(call, args, path, summary)
    return {"deleted": row}


async def _assistant_name(call: ToolContext, chat: dict[str, Any]) -> str:
    """'the assistant "Riley"' (its name as Vapi has it), or what answered the chat when it has no saved assistant."""
    transient = chat.get("assistant")
    if isinstance(transient, dict):
        return f"the transient assistant {quoted(transient.get('name') or '(unnamed)')}"
    ident = chat.get("assistantId")
    if not isinstance(ident, str) or id_problem(ident):
        return "a squad" if chat.get("squadId") or chat.get("squad") else "an assistant"
    try:
        found = await call.vapi.get(f"/assistant/{ident}")
    except VapiError:
        return f"the assistant {ident} (it no longer exists)"
    name = found.get("name") if isinstance(found, dict) else None
    return f"the assistant {quoted(name)} ({ident})" if name else f"the assistant {ident}"
