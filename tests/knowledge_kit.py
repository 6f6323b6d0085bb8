"""Helpers for the knowledge family's tests: a client's roots, a price list, multipart bodies as Vapi receives them."""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mcp_types import ListRootsResult, Root

from vapi_mcp.sandbox import Sandbox
from vapi_mcp.sandbox.core import RecordedRequest, stamp

PRICE_LIST = """Sunny Paws price list

Nail trim: $15
Bath and brush: $40
Full groom: $75 for small dogs, $95 for large dogs
Teeth cleaning: $25

We are open Monday to Saturday, 9am to 6pm.
"""
"""The price list the end-to-end loop uploads: what the assistant's answers must quote."""


def roots_of(*folders: Path | str) -> Callable[[Any], Awaitable[ListRootsResult]]:
    """A client's `list_roots_callback` sharing `folders` (paths, or URIs as given)."""

    async def answer(context: Any) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=f if isinstance(f, str) else f.resolve().as_uri()) for f in folders])

    return answer


def multipart(request: RecordedRequest) -> dict[str, Any]:
    """The parts of a recorded multipart/form-data request: field name -> text, or (filename, content type, text) for a file."""
    raw = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode() + str(request.body).encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    parts: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        text = part.get_payload(decode=True).decode()
        parts[name] = (filename, part.get_content_type(), text) if filename else text
    return parts


def assistant(sandbox: Sandbox, prompt: str = "You are Riley, the receptionist at Sunny Paws grooming.", **fields: Any) -> str:
    """An assistant in the sandbox's world, with `prompt` as its system message; its id."""
    model = {"provider": "openai", "model": "gpt-4.1", "messages": [{"role": "system", "content": prompt}], **fields.pop("model", {})}
    item = stamp(sandbox.clock, name="Riley", firstMessage="Hi, Sunny Paws!", model=model, **fields)
    sandbox.store.assistants[item["id"]] = item
    return item["id"]


async def put_file(sandbox: Sandbox, name: str, content: str | bytes, purpose: str = "knowledge-base-v2") -> dict[str, Any]:
    """A file uploaded straight to the sandbox (as another client would), its File answer."""
    import httpx2 as httpx

    from vapi_mcp.config import SANDBOX_BASE_URL

    data = content.encode() if isinstance(content, str) else content
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_BASE_URL, headers={"Authorization": "Bearer test"}) as http:
        answer = await http.post("/file", files={"file": (name, data)}, data={"purpose": purpose})
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


RECEPTIONIST = "You are Riley, the receptionist at Sunny Paws grooming. Answer questions about prices from the price list. Be friendly and brief."


async def price_list_loop(client: Any, path: str) -> dict[str, Any]:
    """What an agent does for "make the receptionist answer from this price list", through `client`'s tools only:
    make the assistant, upload the file, a knowledge base with it, wait until it is indexed (moving the sandbox's
    clock), connect it, chat to check the answers, and read the chats back. Returns what it saw at each step."""
    import json

    async def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await client.call_tool(name, arguments)
        text = result.content[0].text
        assert not result.is_error, f"{name}: {text}"
        answer: dict[str, Any] = json.loads(text)
        return answer

    seen: dict[str, Any] = {}
    model = {"provider": "openai", "model": "gpt-4.1", "messages": [{"role": "system", "content": RECEPTIONIST}]}
    riley = await call("create_assistant", {"name": "Riley", "firstMessage": "Hi, Sunny Paws!", "model": model})
    seen["upload"] = await call("upload_file", {"path": path})
    base = await call("create_knowledge_base", {"name": "Sunny Paws prices", "description": "What grooming costs."})
    seen["attach"] = await call("attach_file", {"knowledgeBaseId": base["id"], "fileId": seen["upload"]["id"]})
    seen["indexing"] = await call("get_knowledge_base", {"id": base["id"]})
    await call("advance_sandbox_clock", {"advanceSeconds": 10})
    seen["ready"] = await call("get_knowledge_base", {"id": base["id"]})
    seen["connect"] = await call("connect_knowledge_base", {"assistantId": riley["id"], "knowledgeBaseId": base["id"]})
    first = await call("chat_with_assistant", {"assistantId": riley["id"], "input": "How much is a nail trim?"})
    second = await call("chat_with_assistant", {"previousChatId": first["chatId"], "input": "And what does a full groom cost?"})
    seen["replies"] = [first["reply"], second["reply"]]
    seen["chats"] = await call("list_chats", {"assistantId": riley["id"]})
    seen["conversation"] = await call("get_chat", {"id": second["chatId"]})
    seen["ids"] = {"assistant": riley["id"], "knowledgeBase": base["id"], "chats": [first["chatId"], second["chatId"]]}
    return seen
