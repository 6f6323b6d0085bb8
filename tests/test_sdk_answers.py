"""The sandbox's answers parse into Vapi's own Python SDK (vapi-server-sdk), a client no one here wrote.

Each resource the SDK and the sandbox share is driven through the SDK (its httpx client pointed at
the sandbox in-process), and every answer is validated strictly against the type the SDK method
declares, with the SDK's own model classes (`sdk_kit.SdkCheck`): a missing required field, a wrong
type or a shape the SDK cannot read fails here, naming the method and the field. Among them: a
simulation suite's `targetAssignments`, a call with a transient `phoneNumber`, a call-log download
the SDK follows to the storage host, and sessions. A `sandboxNote` on conversation results (keys the
SDK does not declare) is shown not to break its parsing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from vapi.types.chat import Chat

from tests.sdk_kit import SdkCheck, strictly
from vapi_mcp.sandbox import ManualClock, Sandbox

pytestmark = pytest.mark.filterwarnings("ignore::pydantic.PydanticDeprecatedSince20")  # the SDK's own use of `__fields__`

MODEL = {"provider": "openai", "model": "gpt-4o", "messages": [{"role": "system", "content": "You are Sunny Paws' receptionist. A nail trim is $15."}]}
VOICE = {"provider": "11labs", "voiceId": "burt"}


@pytest.fixture
async def sdk(sandbox: Sandbox) -> AsyncIterator[SdkCheck]:
    check = SdkCheck(sandbox.app)
    yield check
    await check.aclose()


async def assistant(sdk: SdkCheck) -> Any:
    return await sdk(sdk.vapi.assistants.create, name="Sunny Paws", first_message="Hi, Sunny Paws grooming!", model=MODEL, voice=VOICE)


async def number(sdk: SdkCheck) -> Any:
    return await sdk(sdk.vapi.phone_numbers.create, request={"provider": "vapi", "numberDesiredAreaCode": "415", "name": "Front desk"})


async def assistants(sdk: SdkCheck, clock: ManualClock) -> None:
    created = await assistant(sdk)
    await sdk(sdk.vapi.assistants.list)
    await sdk(sdk.vapi.assistants.get, created.id)
    await sdk(sdk.vapi.assistants.update, created.id, first_message="Hello from Sunny Paws!")
    await sdk(sdk.vapi.assistants.delete, created.id)


async def squads(sdk: SdkCheck, clock: ManualClock) -> None:
    member = await assistant(sdk)
    squad = await sdk(sdk.vapi.squads.create, name="Front desk", members=[{"assistantId": member.id}])
    await sdk(sdk.vapi.squads.list)
    await sdk(sdk.vapi.squads.get, squad.id)
    await sdk(sdk.vapi.squads.update, squad.id, members=[{"assistantId": member.id}], name="Desk")
    await sdk(sdk.vapi.squads.delete, squad.id)


async def phone_numbers(sdk: SdkCheck, clock: ManualClock) -> None:
    free = await number(sdk)
    imported = await sdk(
        sdk.vapi.phone_numbers.create, request={"provider": "twilio", "number": "+14155550177", "twilioAccountSid": "AC0123", "twilioAuthToken": "t"}
    )
    await sdk(sdk.vapi.phone_numbers.list)
    await sdk(sdk.vapi.phone_numbers.get, free.id)
    await sdk(sdk.vapi.phone_numbers.update, free.id, request={"name": "Main line"})
    await sdk(sdk.vapi.phone_numbers.delete, imported.id)


async def tools(sdk: SdkCheck, clock: ManualClock) -> None:
    function = await sdk(
        sdk.vapi.tools.create,
        request={"type": "function", "function": {"name": "book_slot", "parameters": {"type": "object", "properties": {"day": {"type": "string"}}}}},
    )
    await sdk(sdk.vapi.tools.create, request={"type": "transferCall", "destinations": [{"type": "number", "number": "+14155550188"}]})
    await sdk(sdk.vapi.tools.create, request={"type": "apiRequest", "method": "GET", "url": "https://example.com/slots"})
    await sdk(sdk.vapi.tools.create, request={"type": "endCall"})
    await sdk(sdk.vapi.tools.list)
    await sdk(sdk.vapi.tools.get, function.id)
    await sdk(sdk.vapi.tools.update, function.id, request={"type": "function", "async": True})
    await sdk(sdk.vapi.tools.delete, function.id)


async def ended_call(sdk: SdkCheck, clock: ManualClock) -> Any:
    who, line = await assistant(sdk), await number(sdk)
    call = await sdk(sdk.vapi.calls.create, assistant_id=who.id, phone_number_id=line.id, customer={"number": "+14155550123", "name": "Ada"})
    clock.advance(60)
    return call


async def calls(sdk: SdkCheck, clock: ManualClock) -> None:
    who, line = await assistant(sdk), await number(sdk)
    call = await ended_call(sdk, clock)
    await sdk(sdk.vapi.calls.create, assistant_id=who.id, phone_number_id=line.id, customers=[{"number": "+14155550124"}, {"number": "+14155550125"}])
    await sdk(
        sdk.vapi.calls.create,
        assistant_id=who.id,
        phone_number={"twilioPhoneNumber": "+14155550199", "twilioAccountSid": "AC0123", "twilioAuthToken": "t"},
        customer={"number": "+14155550126"},
    )
    await sdk(sdk.vapi.calls.list)
    await sdk(sdk.vapi.calls.get, call.id)
    await sdk(sdk.vapi.calls.update, call.id, name="Ada's booking")
    await sdk(sdk.vapi.calls.call_artifact_controller_call_logs_download, call.id)
    await sdk(sdk.vapi.calls.call_artifact_controller_pcap_download, call.id)
    await sdk(sdk.vapi.calls.delete, call.id)


async def chats(sdk: SdkCheck, clock: ManualClock) -> None:
    who = await assistant(sdk)
    chat = await sdk(sdk.vapi.chats.create, assistant_id=who.id, input="How much is a nail trim?")
    await sdk(sdk.vapi.chats.create, previous_chat_id=chat.id, input="And a bath?")
    await sdk(sdk.vapi.chats.create, assistant_id=who.id, input=[{"role": "user", "content": "Do you groom cats?"}])
    await sdk(sdk.vapi.chats.get, chat.id)
    await sdk(sdk.vapi.chats.list)
    await sdk(sdk.vapi.chats.list, assistant_id=who.id, limit=1, page=2)
    await sdk(sdk.vapi.chats.delete, chat.id)


async def sessions(sdk: SdkCheck, clock: ManualClock) -> None:
    who = await assistant(sdk)
    session = await sdk(sdk.vapi.sessions.create, assistant_id=who.id, name="Nail trims")
    await sdk(sdk.vapi.chats.create, session_id=session.id, input="How much is a nail trim?")
    await sdk(sdk.vapi.chats.create, session_id=session.id, input="And for two dogs?")
    await sdk(sdk.vapi.sessions.list)
    await sdk(sdk.vapi.sessions.get, session.id)
    await sdk(sdk.vapi.sessions.update, session.id, status="completed")
    await sdk(sdk.vapi.sessions.delete, session.id)


async def files(sdk: SdkCheck, clock: ManualClock) -> None:
    made = await sdk(sdk.vapi.files.create, file=("prices.txt", b"Nail trim: $15\n", "text/plain"), purpose="knowledge-base-v2", metadata='{"source": "desk"}')
    await sdk(sdk.vapi.files.create, file=("scan.pdf", b"%PDF-1.7", "application/pdf"), purpose="knowledge-base-v2")
    clock.advance(10)
    await sdk(sdk.vapi.files.list, purpose="knowledge-base-v2")
    await sdk(sdk.vapi.files.get, made.id)
    await sdk(sdk.vapi.files.update, made.id, name="Prices")
    await sdk(sdk.vapi.files.delete, made.id)


async def knowledge_bases(sdk: SdkCheck, clock: ManualClock) -> None:
    kb = sdk.vapi.knowledge_bases_v_2
    prices = await sdk(sdk.vapi.files.create, file=("prices.txt", b"Nail trim: $15\n", "text/plain"), purpose="knowledge-base-v2")
    scan = await sdk(sdk.vapi.files.create, file=("scan.pdf", b"%PDF-1.7", "application/pdf"), purpose="knowledge-base-v2")
    base = await sdk(kb.knowledge_base_v_2_controller_create, name="Prices", description="What things cost.")
    await sdk(kb.knowledge_base_v_2_controller_file_attach, base.id, file_id=prices.id)
    await sdk(kb.knowledge_base_v_2_controller_file_attach, base.id, file_id=scan.id)
    clock.advance(10)
    await sdk(kb.knowledge_base_v_2_controller_find_all)
    found = await sdk(kb.knowledge_base_v_2_controller_find_one, base.id)
    await sdk(sdk.vapi.tools.get, found.tool_id)
    await sdk(sdk.vapi.tools.list)
    await sdk(kb.knowledge_base_v_2_controller_files_get, base.id)
    await sdk(kb.knowledge_base_v_2_controller_file_retry, base.id, scan.id)
    await sdk(kb.knowledge_base_v_2_controller_file_detach, base.id, prices.id)
    await sdk(kb.knowledge_base_v_2_controller_update, base.id, name="Prices 2026")
    await sdk(kb.knowledge_base_v_2_controller_remove, base.id)


async def scorecards(sdk: SdkCheck, clock: ManualClock) -> None:
    asked = await sdk(sdk.vapi.structured_outputs.structured_output_controller_create, name="asked_nail_trim", schema=SCHEMA)
    metric = {"structuredOutputId": asked.id, "conditions": [{"type": "comparator", "comparator": "=", "value": True, "points": 50}]}
    card = await sdk(sdk.vapi.observability_scorecard.scorecard_controller_create, metrics=[metric], name="Price questions")
    await sdk(sdk.vapi.observability_scorecard.scorecard_controller_get_paginated)
    await sdk(sdk.vapi.observability_scorecard.scorecard_controller_get, card.id)
    await sdk(sdk.vapi.observability_scorecard.scorecard_controller_update, card.id, description="Asked about prices.")
    await sdk(sdk.vapi.observability_scorecard.scorecard_controller_remove, card.id)


SCHEMA = {"type": "boolean", "description": "Whether the caller asked about a nail trim."}


async def structured_outputs(sdk: SdkCheck, clock: ManualClock) -> None:
    call = await ended_call(sdk, clock)
    output = await sdk(sdk.vapi.structured_outputs.structured_output_controller_create, name="asked_nail_trim", schema=SCHEMA)
    await sdk(sdk.vapi.structured_outputs.structured_output_controller_find_all)
    await sdk(sdk.vapi.structured_outputs.structured_output_controller_find_one, output.id)
    await sdk(sdk.vapi.structured_outputs.structured_output_controller_update, output.id, schema_override="false", description="Asked about a trim.")
    await sdk(sdk.vapi.structured_outputs.structured_output_controller_run, call_ids=[call.id], preview_enabled=True, structured_output_id=output.id)
    await sdk(sdk.vapi.structured_outputs.structured_output_controller_run, call_ids=[call.id], structured_output_id=output.id)
    await sdk(sdk.vapi.structured_outputs.structured_output_controller_remove, output.id)


MOCK = [
    {"role": "user", "content": "How much is a nail trim?"},
    {"role": "assistant", "judgePlan": {"type": "regex", "content": ".+"}},
]


async def evals(sdk: SdkCheck, clock: ManualClock) -> None:
    who = await assistant(sdk)
    made = await sdk(sdk.vapi.eval.eval_controller_create, messages=MOCK, type="chat.mockConversation", name="Nail trim price")
    await sdk(sdk.vapi.eval.eval_controller_get_paginated)
    await sdk(sdk.vapi.eval.eval_controller_get, made.id)
    await sdk(sdk.vapi.eval.eval_controller_update, made.id, description="Quotes the price.")
    run = await sdk(sdk.vapi.eval.eval_controller_run, target={"type": "assistant", "assistantId": who.id}, type="eval", eval_id=made.id)
    clock.advance(60)
    await sdk(sdk.vapi.eval.eval_controller_get_run, run["id"])
    await sdk(sdk.vapi.eval.eval_controller_get_runs_paginated)
    await sdk(sdk.vapi.eval.eval_controller_remove_run, run["id"])
    await sdk(sdk.vapi.eval.eval_controller_remove, made.id)


async def simulations(sdk: SdkCheck, clock: ManualClock) -> None:
    who = await assistant(sdk)
    personality = await sdk(
        sdk.vapi.simulation_personalities.personality_controller_create,
        name="Hurried Hana",
        assistant={"model": {"provider": "openai", "model": "gpt-4o", "messages": [{"role": "system", "content": "You are in a hurry."}]}},
    )
    await sdk(sdk.vapi.simulation_personalities.personality_controller_find_all)
    await sdk(sdk.vapi.simulation_personalities.personality_controller_find_one, personality.id)
    await sdk(sdk.vapi.simulation_personalities.personality_controller_update, personality.id, name="Hurried Hanna")
    scenario = await sdk(
        sdk.vapi.simulation_scenarios.scenario_controller_create,
        name="Nail trim price",
        instructions="Ask how much a nail trim costs.",
        evaluations=[{"structuredOutput": {"name": "asked", "schema": SCHEMA}, "comparator": "=", "value": True}],
    )
    await sdk(sdk.vapi.simulation_scenarios.scenario_controller_find_all)
    await sdk(sdk.vapi.simulation_scenarios.scenario_controller_find_one, scenario.id)
    await sdk(sdk.vapi.simulation_scenarios.scenario_controller_update, scenario.id, name="Nail trim")
    simulation = await sdk(sdk.vapi.simulations.simulation_controller_create, scenario_id=scenario.id, personality_id=personality.id, name="Price check")
    await sdk(sdk.vapi.simulations.simulation_controller_find_all)
    await sdk(sdk.vapi.simulations.simulation_controller_find_one, simulation.id)
    await sdk(sdk.vapi.simulations.simulation_controller_update, simulation.id, name="Price")
    await sdk(sdk.vapi.simulations.simulation_controller_get_concurrency)
    await sdk(sdk.vapi.simulations.simulation_generate_controller_generate, assistant_id=who.id)
    suite = await sdk(sdk.vapi.simulation_suites.simulation_suite_controller_create, name="Front desk", simulation_ids=[simulation.id])
    await sdk(sdk.vapi.simulation_suites.simulation_suite_controller_find_all)
    await sdk(sdk.vapi.simulation_suites.simulation_suite_controller_find_one, suite.id)
    await sdk(sdk.vapi.simulation_suites.simulation_suite_controller_update, suite.id, name="Desk")
    run = await sdk(
        sdk.vapi.simulation_runs.simulation_run_controller_create,
        simulations=[{"type": "simulationSuite", "simulationSuiteId": suite.id}],
        target={"type": "assistant", "assistantId": who.id},
        transport={"provider": "vapi.webchat"},
    )
    clock.advance(120)
    await sdk(sdk.vapi.simulation_runs.simulation_run_controller_find_all)
    await sdk(sdk.vapi.simulation_runs.simulation_run_controller_find_one, run.id)
    items = await sdk(sdk.vapi.simulation_runs.simulation_run_controller_find_items, run.id)
    await sdk(sdk.vapi.simulation_runs.simulation_run_controller_find_item, run.id, items[0].id)
    await sdk(sdk.vapi.simulation_runs.simulation_run_controller_cancel_group, run.id)
    await sdk(sdk.vapi.simulation_suites.simulation_suite_controller_remove, suite.id)
    await sdk(sdk.vapi.simulations.simulation_controller_remove, simulation.id)
    await sdk(sdk.vapi.simulation_scenarios.scenario_controller_remove, scenario.id)
    await sdk(sdk.vapi.simulation_personalities.personality_controller_remove, personality.id)


async def campaigns(sdk: SdkCheck, clock: ManualClock) -> None:
    who, line = await assistant(sdk), await number(sdk)
    customers = [{"number": "+14155550131", "name": "Ada"}, {"number": "+14155550132", "name": "Bo"}]
    first = await sdk(sdk.vapi.campaigns.campaign_controller_create, name="Reminders", assistant_id=who.id, phone_number_id=line.id, customers=customers)
    tomorrow = {"earliestAt": (clock.now() + timedelta(days=1)).isoformat()}
    second = await sdk(
        sdk.vapi.campaigns.campaign_controller_create_v_2, name="Follow-ups", assistant_id=who.id, phone_number_id=line.id, customers=customers, schedule_plan=tomorrow
    )
    clock.advance(60)
    await sdk(sdk.vapi.campaigns.campaign_controller_find_all)
    await sdk(sdk.vapi.campaigns.campaign_controller_find_all_v_2, include_counters=True)
    await sdk(sdk.vapi.campaigns.campaign_controller_find_one, first.id)
    await sdk(sdk.vapi.campaigns.campaign_controller_find_one_v_2, second.id, include_counters=True)
    await sdk(sdk.vapi.campaigns.campaign_controller_get_campaign_v_2_contacts, second.id)
    await sdk(sdk.vapi.campaigns.campaign_controller_update, first.id, name="Reminders (done)")
    await sdk(sdk.vapi.campaigns.campaign_controller_update_v_2, second.id, status="cancelled")
    await sdk(sdk.vapi.campaigns.campaign_controller_remove, first.id)
    await sdk(sdk.vapi.campaigns.campaign_controller_remove_v_2, second.id)


async def analytics(sdk: SdkCheck, clock: ManualClock) -> None:
    await ended_call(sdk, clock)
    query = {"table": "call", "name": "cost", "operations": [{"operation": "sum", "column": "cost"}, {"operation": "count", "column": "id"}], "groupBy": ["assistantId"]}
    await sdk(sdk.vapi.analytics.get, queries=[query])


RESOURCES: dict[str, Callable[[SdkCheck, ManualClock], Awaitable[None]]] = {
    f.__name__: f
    for f in (assistants, squads, phone_numbers, tools, calls, chats, sessions, structured_outputs, evals, simulations, campaigns, analytics, files, knowledge_bases, scorecards)
}
"""Every resource the SDK and the sandbox share, each driven through its SDK methods the sandbox serves."""


@pytest.mark.parametrize("resource", list(RESOURCES))
async def test_every_answer_parses_strictly_into_the_sdks_types(sdk, clock, resource):
    await RESOURCES[resource](sdk, clock)
    assert sdk.checks, resource
    assert not sdk.failed(), sdk.summary()


NOTE = "Replies are drawn from the assistant's prompt by a written rule, not generated by a model."


def with_sandbox_note(app: Any) -> Any:
    """The sandbox app, with a top-level `sandboxNote` added to every JSON object it answers (as conversation results carry one)."""

    async def noted(scope: Any, receive: Any, send: Any) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            if body.startswith(b"{"):
                body = json.dumps({**json.loads(body), "sandboxNote": NOTE}).encode()
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, keep if scope["type"] == "http" else send)

    return noted


async def test_a_sandbox_note_on_conversation_results_does_not_break_the_sdks_parsing(sandbox, clock):
    """The SDK's models allow extra keys: a top-level `sandboxNote` parses strictly, and the SDK keeps it readable."""
    sdk = SdkCheck(with_sandbox_note(sandbox.app))
    try:
        await chats(sdk, clock)
        await evals(sdk, clock)
        call = await ended_call(sdk, clock)
        ended = await sdk(sdk.vapi.calls.get, call.id)
    finally:
        await sdk.aclose()
    assert not sdk.failed(), sdk.summary()
    noted = [c for c in sdk.checks if "sandboxNote" in c.extras]
    assert {c.what for c in noted} >= {"Chats.create", "Chats.get", "Eval.eval_controller_get_run", "Calls.get"}
    assert ended.model_extra["sandboxNote"] == NOTE
    problems, extras = strictly(Chat, json.dumps({"id": "c", "orgId": "o", "createdAt": "2026-11-02T16:00:00.000Z", "updatedAt": "2026-11-02T16:00:00.000Z", "sandboxNote": NOTE}).encode())
    assert problems == [] and extras == ["sandboxNote"]
