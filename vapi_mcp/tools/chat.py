"""Testing: a text conversation with an assistant through Vapi's /chat (no phone rings)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..client import vapi_id
from ..errors import InputError
from .base import Args, Object, ToolContext, ToolGroup

toolset = "testing"
tools = ToolGroup()


class ChatArgs(Args):
    assistantId: str | None = None
    assistant: Object | None = None
    input: str | list[Object] = Field(description="Text, or messages [{role, content}].")
    previousChatId: str | None = None
    sessionId: str | None = None


def _reply(chat: dict[str, Any]) -> str:
    """The assistant's words in a Chat's `output`."""
    return "\n".join(m["content"] for m in chat.get("output") or [] if m.get("role") == "assistant" and m.get("content"))


@tools.tool(title="Chat with assistant")
async def chat_with_assistant(args: ChatArgs, call: ToolContext) -> dict[str, Any]:
    """Text an assistant (Vapi /chat) to test it without ringing anyone: returns its reply and a
    chatId to pass as previousChatId next turn."""
    if args.assistantId is not None and args.assistant is not None:
        raise InputError("assistant", "give either assistantId or assistant, not both")
    if args.assistantId is None and args.assistant is None and args.previousChatId is None and args.sessionId is None:
        raise InputError("assistantId", "is required (or assistant, previousChatId or sessionId)")
    for name in ("assistantId", "previousChatId", "sessionId"):
        if getattr(args, name) is not None:
            vapi_id(getattr(args, name), name)
    chat = await call.vapi.post("/chat", args.body())
    return {"reply": _reply(chat), "chatId": chat.get("id"), "cost": chat.get("cost")}
