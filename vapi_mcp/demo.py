"""`vapi-mcp demo`: a scripted agent session over a real MCP connection to the server on the sandbox.

It spawns `vapi-mcp serve --sandbox` over stdio, exactly as an MCP client would, and walks the
whole flow a newcomer cares about, printing each tool call and a short result. A step whose
tool is not registered is shown as not available and the session goes on. The guard runs as it
would for the user, quiet hours included: the demo shows one refusal (a callee for whom it is night,
chosen by time zone when it runs) and how the user lifts it, then calls someone for whom it is day.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
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
OUTBOUND_LINE = {
    "provider": "twilio",
    "number": "+14155550142",
    "twilioAccountSid": "AC00000000000000000000000000demo",
    "twilioAuthToken": "demo-token-not-a-secret",
    "name": "Outbound line",
}
"""A (fictional) number the user owns, imported to place calls: Vapi's free numbers take inbound calls only."""
CALLEES = (
    "+14155550123", "+12125550123", "+442079460958", "+33142685300", "+918026001234",
    "+81312345678", "+61291234567", "+6493012345", "+18085550123",
)  # fmt: skip
"""Fictional numbers around the world: at any hour one is in its daytime and one in its night."""
DAY, NIGHT = (9, 20), (22, 7)
"""Local hours for the call that goes through and the one quiet hours refuse, with an hour's margin each side of the
guard's default calling hours (08:00-21:00), so the demo's choice holds for the minute it runs."""


def callees(now: datetime) -> tuple[dict[str, str], dict[str, str]]:
    """(a callee in its daytime now, one in its night now), computed from the time zones of `CALLEES`."""
    from zoneinfo import ZoneInfo

    from .guard.facts import zones_of

    def hour(number: str) -> float:
        local = now.astimezone(ZoneInfo(zones_of(number)[0]))
        return local.hour + local.minute / 60

    day = next(number for number in CALLEES if DAY[0] <= hour(number) < DAY[1])
    night = next(number for number in CALLEES if hour(number) >= NIGHT[0] or hour(number) < NIGHT[1])
    return {"number": day, "name": "Jordan"}, {"number": night, "name": "Sam"}


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

    async def run(self, tool: str, arguments: dict[str, Any] | None, why: str, *, refused: str | None = None) -> dict[str, Any] | None:
        """Call `tool` and print it; None when it is missing, failed, or a needed id is (`arguments` None).

        `refused`: the guard rule this step shows refusing; its refusal is the expected outcome, not an error."""
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
        if result.is_error and refused is not None and text.startswith(f"Refused by rule `{refused}`"):
            self.say(f"   = refused, as it should be: {text}")
            return None
        if result.is_error or refused is not None:
            self.errors += 1
            self.say(f"   ! {'error' if result.is_error else f'not refused by rule `{refused}`'}: {text}")
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


async def script(session: Session, now: datetime | None = None) -> None:
    """The agent's side of the conversation, at `now` (which callee is in daytime, which at night)."""
    day, night = callees(now or datetime.now(UTC))
    ids: dict[str, Any] = {}
    assistant = await session.run("create_assistant", ASSISTANT, "Create an assistant")
    ids["assistant"] = assistant and _find(assistant, "id")
    number = await session.run(
        "buy_number", {"numberDesiredAreaCode": "415", "name": "Front desk"}, "Buy a Vapi number in area code 415 for inbound calls"
    )
    ids["number"] = number and _find(number, "id")
    await session.run(
        "assign_assistant",
        _with(ids, lambda number, assistant: {"id": number, "assistantId": assistant}, "number", "assistant"),
        "Let the assistant answer the number",
    )
    line = await session.run("import_number", OUTBOUND_LINE, "Import a Twilio number to place calls (free Vapi numbers take inbound calls only)")
    ids["line"] = line and _find(line, "id")
    call = lambda callee: lambda line, assistant: {"assistantId": assistant, "phoneNumberId": line, "customer": callee}  # noqa: E731
    await session.run(
        "create_call",
        _with(ids, call(night), "line", "assistant"),
        f"Call {night['number']}, where it is outside calling hours now: the guard refuses before anyone is asked",
        refused="quiet_hours",
    )
    session.say(
        "   The refusal names the setting that would lift it. Only the user can change it (VAPI_MCP_NO_QUIET_HOURS=1, or\n"
        "   VAPI_MCP_QUIET_START / VAPI_MCP_QUIET_END, in the server's configuration); the agent instead schedules the call\n"
        "   for the callee's daytime (schedulePlan.earliestAt) or calls someone for whom it is day:"
    )
    placed = await session.run("create_call", _with(ids, call(day), "line", "assistant"), f"Call {day['number']}, where it is day (the guard asks the human first)")
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
