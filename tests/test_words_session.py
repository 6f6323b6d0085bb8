"""Issue 18's "done when": a scripted agent session through a real MCP client (setup, testing loop, campaign)
in which no question, refusal or result reads wrong.

Every text the session gets (the instructions, each tool result, each question the human is asked) is read
by `tests.words_kit`: a rehearsal says SANDBOX first, ids come with names, a scheduled time has its local
time, counts add up and agree with their nouns, no full stop is doubled, and a setting is never named
without saying only the user can change it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mcp_types import ElicitResult

from tests.guard_kit import serve
from tests.mcp_kit import result_json, result_text
from tests.testing_kit import DEFAULT_TESTER, tick_on_reads
from tests.words_kit import every_problem
from vapi_mcp.sandbox import ManualClock, Sandbox

NOON_IN_NEW_YORK = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
PROMPT = "You are the receptionist of Sunny Paws Dog Grooming. Book grooming visits. Never mention prices."
ASSISTANT = {
    "name": "Sunny Paws Receptionist",
    "firstMessage": "Hi, Sunny Paws here. How can I help?",
    "model": {"provider": "openai", "model": "gpt-4o-mini", "messages": [{"role": "system", "content": PROMPT}]},
    "voice": {"provider": "11labs", "voiceId": "rachel"},
}
US = ["+12125550123", "+13125550123", "+14155550123", "+16175550123", "+12065550123"]


class Reader:
    """An MCP client's side of the session that keeps every text a person reads."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    async def human(self, context: Any, params: Any) -> ElicitResult:
        self.texts.append(("question", params.message))
        return ElicitResult(action="accept", content={"confirm": True})

    async def call(self, client: Any, step: str, tool: str, arguments: dict[str, Any], *, error: bool = False) -> dict[str, Any]:
        result = await client.call_tool(tool, arguments)
        text = result_text(result)
        self.texts.append((f"{step} ({tool})", text))
        assert result.is_error is error, f"{step}: {text}"
        return {} if error else result_json(result)


async def test_a_whole_session_reads_right(settings: Any, tmp_path: Any) -> None:
    clock = ManualClock(NOON_IN_NEW_YORK)
    sandbox = Sandbox(clock=clock)
    tick_on_reads(sandbox, clock, "/", 2)  # calls, runs and campaigns move on as they are read
    reader = Reader()
    quiet = settings.__class__.load(
        {}, audit_log=str(tmp_path / "audit.jsonl"), state_url=f"sqlite://{tmp_path / 'state.sqlite3'}", toolsets=("all",), daily_cap=500
    )
    async with serve(quiet, sandbox, clock, elicitation_callback=reader.human) as client:
        reader.texts.append(("instructions", client.session.instructions or ""))
        call = reader.call

        # setup
        riley = await call(client, "create the receptionist", "create_assistant", ASSISTANT)
        await call(client, "a number for inbound calls", "buy_number", {"numberDesiredAreaCode": "415", "assistantId": riley["id"], "name": "Front desk"})
        line = (
            await call(client, "a number to call out from", "import_number", {"provider": "twilio", "number": "+14155550142", "twilioAccountSid": "AC1", "twilioAuthToken": "tw-token", "name": "Outbound"})
        )["phoneNumber"]
        transfer = {"type": "transferCall", "destinations": [{"type": "number", "number": "+14155550199"}]}
        updated = await call(client, "add a transfer", "update_assistant", {"id": riley["id"], "model": {"tools": [transfer]}})
        assert "model.messages" in updated["kept"]
        placed = await call(client, "a test call", "create_call", {"assistantId": riley["id"], "phoneNumberId": line["id"], "customer": {"number": US[0], "name": "Dana"}})
        await call(client, "wait for it", "wait_for_call", {"id": placed["id"], "timeout": 60})
        await call(client, "read it", "get_call", {"id": placed["id"]})
        await call(client, "delete it", "delete_call", {"id": placed["id"]})
        plan = {"earliestAt": "2026-12-08T15:00:00Z", "latestAt": "2026-12-08T16:00:00Z"}
        await call(client, "a call tomorrow", "create_call", {"assistantId": riley["id"], "phoneNumberId": line["id"], "customer": {"number": US[1]}, "schedulePlan": plan})
        clock.set(datetime(2026, 12, 8, 6, 0, tzinfo=UTC))  # 01:00 in New York
        await call(client, "a call at night", "create_call", {"assistantId": riley["id"], "phoneNumberId": line["id"], "customer": {"number": US[0]}}, error=True)
        clock.set(NOON_IN_NEW_YORK.replace(day=8))

        # the testing loop
        await call(client, "a smoke test", "chat_with_assistant", {"assistantId": riley["id"], "input": "Can I book a nail trim?"})
        messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "judgePlan": {"type": "regex", "content": "(?i)sunny"}}]
        saved = await call(client, "an eval", "create_eval", {"type": "chat.mockConversation", "name": "Greeting", "messages": messages})
        await call(client, "run it", "run_eval", {"type": "eval", "evalId": saved["id"], "target": {"assistantId": riley["id"]}})
        scenario = {"name": "Book", "instructions": "Ask to book a bath.", "evaluations": [{"structuredOutput": {"name": "booked", "schema": {"type": "boolean"}}, "comparator": "=", "value": True}]}
        entries = [{"scenario": scenario, "personalityId": DEFAULT_TESTER}] * 3
        await call(client, "chat simulations", "run_simulation", {"simulations": entries, "target": {"assistantId": riley["id"]}})
        await call(client, "voice simulations", "run_simulation", {"simulations": entries, "target": {"assistantId": riley["id"]}, "transport": {"provider": "vapi.websocket"}, "wait": 0})
        inline = {**ASSISTANT, "name": "Trial desk", "model": {**ASSISTANT["model"], "tools": [transfer]}}
        await call(client, "the eval on a trial copy", "run_eval", {"evalId": saved["id"], "target": {"assistant": inline}})
        prompt = {"messages": [{"role": "system", "content": PROMPT + " Offer a nail trim with every bath."}]}
        await call(client, "fix the prompt", "update_assistant", {"id": riley["id"], "model": prompt})
        await call(client, "a broken transient", "chat_with_assistant", {"assistant": {"unexpected_92": []}, "input": "Hi"}, error=True)

        # a campaign of 20
        contacts = [{"number": f"+1{area}555{1000 + i:04d}", "name": f"Owner {i}"} for i, area in enumerate(["212", "312", "415", "617", "206"] * 4)]
        campaign = await call(client, "a campaign", "create_campaign", {"name": "Spring baths", "assistantId": riley["id"], "phoneNumberId": line["id"], "customers": contacts, "maxConcurrency": 3})
        await call(client, "its progress", "get_campaign", {"id": campaign["id"]})
        await call(client, "its contacts", "list_campaign_contacts", {"id": campaign["id"]})
        await call(client, "stop it", "cancel_campaign", {"id": campaign["id"]})
        free = next(n for n in sandbox.store.phone_numbers.values() if n["provider"] == "vapi")
        await call(client, "a campaign from the free number", "create_campaign", {"name": "Free", "assistantId": riley["id"], "phoneNumberId": free["id"], "customers": contacts[:2]}, error=True)

    questions = [text for where, text in reader.texts if where == "question"]
    assert len(questions) >= 8, questions  # buy, import, transfer, two calls, voice run, the campaign...
    wrong = every_problem(reader.texts)
    assert not wrong, "\n".join(wrong)


def test_the_reader_catches_what_once_read_wrong() -> None:
    """The session's reader is no rubber stamp: each text issue 18 quoted is caught."""
    from tests.words_kit import problems, question_problems

    assert problems("Vapi says: numberDesiredAreaCode 123 is not available. Try another US area code..")
    assert problems("by time zone: 1 2 zones (America/Adak, ...)") and problems("and 1 more in 1 others")
    assert problems("Rough cost: about $0.05 (0.0 min each at $0.126/min)")
    assert problems("call 5 contacts (by country: 3 in US (+1); by time zone: 5 in America/New_York) from +14155550142")
    assert question_problems("Call +12125550123 from +14155550100 with assistant x, now. Vapi bills every minute of the call to your account.")
    assert question_problems('SANDBOX (no real phone rings, nothing is billed): Change model of the assistant 8e71b48d-0000-4000-8000-000000000000.')
    assert question_problems("SANDBOX (no real phone rings, nothing is billed): Call +1212 not before 2026-12-07T14:05:00+00:00.")
    assert problems("Refused by rule `quiet_hours`: ... (VAPI_MCP_NO_QUIET_HOURS).")
    assert not question_problems('SANDBOX (no real phone rings, nothing is billed): Change model.tools of the assistant "Riley" (8e71b48d-0000-4000-8000-000000000000). Nothing is billed. Go ahead?')
