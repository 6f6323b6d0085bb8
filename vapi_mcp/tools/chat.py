"""Testing: a text conversation with an assistant through Vapi's /chat (no phone rings)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..errors import InputError
from ..guard import CallContext
from ..guard.facts import quoted
from ..ids import VapiId
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


@tools.tool(title="Chat with assistant", read_only=False, sends=("POST /chat", "GET /assistant/{id}"))
async def chat_with_assistant(args: ChatArgs, call: ToolContext) -> dict[str, Any]:
    """Text an assistant (Vapi /chat) to test it without ringing anyone: returns its reply and a
    chatId to pass as previousChatId next turn."""
    if args.assistantId is not None and args.assistant is not None:
        raise InputError("assistant", "give either assistantId or assistant, not both")
    if args.assistantId is None and args.assistant is None and args.previousChatId is None and args.sessionId is None:
        raise InputError("assistantId", "is required (or assistant, previousChatId or sessionId)")
    who = f"the assistant {args.assistantId}" if args.assistantId else f"the transient assistant {quoted(args.assistant.get('name') or '(unnamed)')}" if args.assistant else "the assistant of this chat"
    async def describe(ctx: CallContext) -> str:  # asked only when a transient assistant carries a phone destination
        if args.assistantId is None:
            return f"Chat with {who}."
        found = await lookup(ctx, f"/assistant/{args.assistantId}", "assistantId", args.assistantId, "assistant", "list_assistants")
        return f"Chat with the assistant {quoted(found.get('name') or '(unnamed)')} ({args.assistantId})."

    chat = await call.send("POST", "/chat", args.body(), args=args, summary=f"Chat with {who}.", describe=describe)
    return {"reply": _reply(chat), "chatId": chat.get("id"), "cost": chat.get("cost")}
