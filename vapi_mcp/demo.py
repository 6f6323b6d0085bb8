"""`vapi-mcp demo`: a scripted agent session over a real MCP connection to the server on the sandbox.

It spawns `vapi-mcp serve --sandbox` over stdio, exactly as an MCP client would, and walks the
whole flow a newcomer cares about, printing each tool call and a short result. A step whose
tool is not registered is shown as not available and the session goes on.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from typing import Any, TextIO

INTRO = "vapi-mcp demo: a scripted agent session on the embedded sandbox (no Vapi key; nothing real is called)."

PROMPT = """You are Riley from Bright Smile Dental. You are calling to remind patients that their six-month cleaning is due.

## Hours
We are open Monday to Friday, 8am to 5pm.

## Rules
- You can book cleanings.
- Never give medical advice."""
ASSISTANT = {
    "name": "Riley",
    "firstMessage": "Hi {{customer.name}}, this is Riley from Bright Smile Dental.",
    "model": {"provider": "openai", "model": "gpt-4o", "messages": [{"role": "system", "content": PROMPT}]},
    "voice": {"provider": "vapi", "voiceId": "Elliot"},
}
CUSTOMER = {"number": "+14155550123", "name": "Jordan"}


def _find(result: dict[str, Any], key: str) -> Any:
    """`key` at the top of a result or in one of its nested objects (`{"phoneNumber": {...}}`)."""
    if result.get(key) is not None:
        return result[key]
    for value in result.values():
        if isinstance(value, dict) and value.get(key) is not None:
            return value[key]
    return None


def _one_line(value: Any, limit: int = 110) -> str:
    """`value` as compact JSON on one line, cut at `limit` characters."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _summary(tool: str, result: dict[str, Any]) -> list[str]:
    """A line or a few for a tool's result."""
    if tool == "get_call":
        turns = [t if isinstance(t, str) else f"{t.get('role')}: {t.get('text')}" for t in result.get("transcript") or []]
        head = f"{result.get('status')}, {result.get('endedReason')}, {result.get('seconds')} s, ${result.get('cost')}"
        return [head, *turns[:6]] + ([f"... {len(turns) - 6} more turns"] if len(turns) > 6 else [])
    if tool == "chat_with_assistant":
        return [f"AI: {result.get('reply')}"]
    picked = {k: _find(result, k) for k in ("id", "name", "number", "status", "endedReason", "assistantId")}
    return [_one_line({k: v for k, v in picked.items() if v is not None} or result)]


class Session:
    """Runs the steps on one MCP client and prints them."""

    def __init__(self, client: Any, tools: set[str], out: TextIO) -> None:
        self.client = client
        self.tools = tools
        self.out = out
        self.step = 0
        self.errors = 0
        self.noted = False

    def say(self, line: str = "") -> None:
        print(line, file=self.out, flush=True)

    async def run(self, tool: str, arguments: dict[str, Any] | None, why: str) -> dict[str, Any] | None:
        """Call `tool` and print it; None when it is missing, failed, or a needed id is (`arguments` None)."""
        self.step += 1
        self.say(f"\n{self.step}. {why}\n   > {tool} {_one_line(arguments) if arguments is not None else ''}".rstrip())
        if tool not in self.tools:
            self.say("   (not available yet)")
            return None
        if arguments is None:
            self.say("   (skipped: an earlier step did not give the id it needs)")
            return None
        result = await self.client.call_tool(tool, arguments)
        text = "".join(getattr(c, "text", "") for c in result.content)
        if result.is_error:
            self.errors += 1
            self.say(f"   ! error: {text}")
            return None
        data = json.loads(text)
        for line in _summary(tool, data):
            self.say(f"   = {line}")
        if data.get("sandboxNote") and not self.noted:  # the sandbox says how it talks, once per result: shown once here
            self.noted = True
            self.say(f"   (sandbox: {data['sandboxNote']})")
        return data


def _with(ids: dict[str, Any], build: Callable[..., dict[str, Any]], *names: str) -> dict[str, Any] | None:
    """The arguments `build(**ids)` needs, or None when one of the ids is missing."""
    if any(ids.get(name) is None for name in names):
        return None
    return build(**{name: ids[name] for name in names})


async def script(session: Session) -> None:
    """The agent's side of the conversation."""
    ids: dict[str, Any] = {}
    assistant = await session.run("create_assistant", ASSISTANT, "Create an assistant")
    ids["assistant"] = assistant and _find(assistant, "id")
    number = await session.run("buy_number", {"numberDesiredAreaCode": "415", "name": "Front desk"}, "Buy a number in area code 415")
    ids["number"] = number and _find(number, "id")
    await session.run(
        "assign_assistant",
        _with(ids, lambda number, assistant: {"id": number, "assistantId": assistant}, "number", "assistant"),
        "Let the assistant answer the number",
    )
    placed = await session.run(
        "create_call",
        _with(
            ids,
            lambda number, assistant: {"assistantId": assistant, "phoneNumberId": number, "customer": CUSTOMER},
            "number",
            "assistant",
        ),
        "Place a call (the guard asks the human first)",
    )
    ids["call"] = placed and _find(placed, "id")
    await session.run("wait_for_call", _with(ids, lambda call: {"id": call, "timeout": 30}, "call"), "Wait for the call to end")
    await session.run("get_call", _with(ids, lambda call: {"id": call, "include": ["transcript", "cost"]}, "call"), "Read the transcript")
    await session.run(
        "chat_with_assistant",
        _with(ids, lambda assistant: {"assistantId": assistant, "input": "Can I book a cleaning on Friday?"}, "assistant"),
        "Test the assistant by chat (no phone rings)",
    )


async def _main(out: TextIO) -> int:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters
    from mcp_types import ElicitResult

    async def human(context: Any, params: Any) -> ElicitResult:
        print(f"   ? the server asks the human: {params.message}", file=out)
        print("   ? the human says yes", file=out, flush=True)
        return ElicitResult(action="accept", content={"confirm": True})

    with tempfile.TemporaryDirectory(prefix="vapi-mcp-demo-") as state:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
        env |= {
            "VAPI_MCP_AUDIT_LOG": os.path.join(state, "audit.jsonl"),
            "VAPI_MCP_STATE_URL": "sqlite://" + os.path.join(state, "state.sqlite3"),  # the demo leaves the user's ledger alone
            "VAPI_MCP_NO_QUIET_HOURS": "1",  # the demo runs at any hour; real calls keep the 08:00-21:00 rule
            "VAPI_MCP_SANDBOX_SPEED": "20",  # the sandbox's calls end in a fraction of a second
            "VAPI_MCP_SANDBOX_WORLD": "memory",  # a world of its own: the user's sandbox world is left as it is
            "VAPI_MCP_LOG_LEVEL": "ERROR",
        }
        server = StdioServerParameters(command=sys.executable, args=["-m", "vapi_mcp", "serve", "--sandbox"], env=env)
        async with Client(server, elicitation_callback=human) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            session = Session(client, tools, out)
            session.say(INTRO)
            session.say(f"Connected over stdio to `python -m vapi_mcp serve --sandbox`: {len(tools)} tools.")
            await script(session)
        session.say(f"\nDone: {session.step} steps, {session.errors} errors.")
        session.say("Next: add .mcp.json's server to your agent, or set VAPI_API_KEY to work on your real account.")
    return 1 if session.errors else 0


def run_demo(out: TextIO | None = None) -> int:
    import anyio

    return anyio.run(_main, out or sys.stdout)
