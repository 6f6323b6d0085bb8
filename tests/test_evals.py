"""Evals through an MCP client on the sandbox: a mock conversation's checkpoints judged for real, read compactly."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mcp_kit import SANDBOX, confirmed, result_json, result_text
from tests.openapi import assert_valid
from tests.testing_kit import MISSING, add_assistant, bodies, tick_on_reads
from vapi_mcp.sandbox.conversation import RULE_NOTE

HOURS = [
    {"role": "user", "content": "What are your opening hours?"},
    {"role": "assistant", "judgePlan": {"type": "regex", "content": "9am to 5pm"}},
    {"role": "user", "content": "Can I book Thursday?"},
    {"role": "assistant", "judgePlan": {"type": "exact", "content": "Yes, Thursday at 2 PM is free."}},
]
"""One checkpoint Riley's prompt passes (its hours) and one it fails (it offers the first free slot, 9 AM)."""
PROMPT = "You are Riley from Bright Smile Dental. We are open Monday to Friday, 9am to 5pm. You can book cleanings."


@pytest.fixture
def riley(sandbox) -> str:
    return add_assistant(sandbox, model={"provider": "openai", "model": "gpt-4o", "messages": [{"role": "system", "content": PROMPT}]})


async def test_an_eval_with_one_passing_and_one_failing_checkpoint_reports_exactly_that(client, sandbox, clock, riley):
    created = result_json(await client.call_tool("create_eval", {"name": "Opening hours", "messages": HOURS}))
    assert created["checkpoints"] == 2
    [sent] = bodies(sandbox, "POST", "/eval")
    assert sent == {"name": "Opening hours", "messages": HOURS, "type": "chat.mockConversation"}
    assert_valid("CreateEvalDTO", sent)

    tick_on_reads(sandbox, clock, "/eval/run/", 2)
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    result = await client.call_tool(
        "run_eval", {"evalId": created["id"], "target": {"assistantId": riley}}, progress_callback=on_progress
    )
    view = result_json(result)
    [run_body] = bodies(sandbox, "POST", "/eval/run")
    assert run_body == {"type": "eval", "evalId": created["id"], "target": {"type": "assistant", "assistantId": riley}}
    assert_valid("CreateEvalRunDTO", run_body)

    assert (view["status"], view["result"], view["passed"], view["failed"]) == ("ended", "fail", 1, 1)
    passing, failing = view["checkpoints"]
    assert passing == {"turn": 2, "status": "pass"}
    assert failing == {
        "turn": 4,
        "status": "fail",
        "judge": "exact",
        "expected": "Yes, Thursday at 2 PM is free.",
        "actual": "I can book that for you. How about Thursday, November 5 at 9:00 AM?",
        "reason": "Expected exact match: 'Yes, Thursday at 2 PM is free.' but got: 'I can book that for you. How about Thursday, November 5 at 9:00 AM?'",
        "after": "Can I book Thursday?",
    }
    assert view["cost"] == 0.0008 and result_text(result).count('"cost"') == 1
    assert view["sandboxNote"] == RULE_NOTE and result_text(result).count(RULE_NOTE) == 1
    assert progress and progress[-1] == "eval run: ended"


async def test_an_inline_eval_against_an_inline_assistant_with_an_ai_judge(client, sandbox, clock):
    """The sandbox's ai judge passes when the reply contains every phrase its prompt quotes; mock system messages are more prompt."""
    judge = {
        "provider": "openai",
        "model": "gpt-4.1",
        "messages": [{"role": "system", "content": 'Pass if the reply says "refund".'}],
    }
    arguments = {
        "eval": {
            "messages": [
                {"role": "system", "content": "Refunds are issued within 5 business days of receiving the item."},
                {"role": "user", "content": "I want a refund"},
                {"role": "assistant", "judgePlan": {"type": "ai", "model": judge}},
                {"role": "user", "content": "Now please"},
                {
                    "role": "assistant",
                    "judgePlan": {"type": "ai", "model": judge},
                    "continuePlan": {"exitOnFailureEnabled": True},
                },
                {"role": "user", "content": "Hello?"},
                {"role": "assistant", "judgePlan": {"type": "regex", "content": "(?i)hello"}},
            ]
        },
        "target": {"assistant": {"name": "Quick Test", "model": {"provider": "openai", "model": "gpt-4.1"}}},
    }
    tick_on_reads(sandbox, clock, "/eval/run/", 10)
    view = result_json(await client.call_tool("run_eval", arguments))
    [body] = bodies(sandbox, "POST", "/eval/run")
    assert body["eval"]["type"] == "chat.mockConversation" and body["target"]["type"] == "assistant"
    assert_valid("CreateEvalRunDTO", body)
    assert [c["status"] for c in view["checkpoints"]] == ["pass", "fail", "not reached"]
    assert view["checkpoints"][1]["actual"] == "I'm sorry, I don't have that information."
    assert view["checkpoints"][1]["reason"] == 'The reply does not contain "refund".'
    assert view["checkpoints"][1]["expected"] == 'Pass if the reply says "refund".'
    assert view["checkpoints"][2] == {"turn": 7, "status": "not reached"}


async def test_a_squad_target_answers_with_its_first_member(client, sandbox, clock, riley):
    squad = {"name": "Front desk", "members": [{"assistantId": riley}]}
    tick_on_reads(sandbox, clock, "/eval/run/", 10)
    view = result_json(await client.call_tool("run_eval", {"eval": {"messages": HOURS[:2]}, "target": {"squad": squad}}))
    assert view["result"] == "pass" and view["checkpoints"] == [{"turn": 2, "status": "pass"}]
    assert_valid("CreateEvalRunDTO", bodies(sandbox, "POST", "/eval/run")[0])


async def test_a_run_that_is_not_finished_says_how_to_read_it_later(client, sandbox, clock, riley):
    started = result_json(
        await client.call_tool("run_eval", {"eval": {"messages": HOURS}, "target": {"assistantId": riley}, "wait": 0})
    )
    assert started["status"] == "queued" and "checkpoints" not in started
    assert f"get_eval_run id={started['id']}" in started["resume"]
    clock.advance(10)
    later = result_json(await client.call_tool("get_eval_run", {"id": started["id"]}))
    assert (later["status"], later["passed"], later["failed"]) == ("ended", 1, 1)
    assert later["checkpoints"][1]["turn"] == 4  # the inline eval comes back with the run


async def test_get_eval_run_waits_for_the_end(client, sandbox, clock, riley):
    started = result_json(
        await client.call_tool("run_eval", {"eval": {"messages": HOURS}, "target": {"assistantId": riley}, "wait": 0})
    )
    reads = tick_on_reads(sandbox, clock, "/eval/run/", 1)
    view = result_json(await client.call_tool("get_eval_run", {"id": started["id"], "wait": 30}))
    assert view["status"] == "ended" and len(reads) >= 2  # it read again until the run ended


async def test_list_get_update_and_a_confirmed_delete(client, sandbox, riley):
    created = result_json(await client.call_tool("create_eval", {"name": "Hours", "messages": HOURS}))
    listed = result_json(await client.call_tool("list_evals", {"limit": 10}))
    assert listed["evals"] == [{"id": created["id"], "name": "Hours", "checkpoints": 2, "createdAt": created["createdAt"]}]
    got = result_json(await client.call_tool("get_eval", {"id": created["id"]}))
    assert got["messages"] == HOURS and "orgId" not in got

    updated = result_json(
        await client.call_tool("update_eval", {"id": created["id"], "messages": HOURS[:2], "description": "Short"})
    )
    assert updated["checkpoints"] == 1 and updated["changed"] == ["description", "messages"]
    [patch] = bodies(sandbox, "PATCH", f"/eval/{created['id']}")
    assert_valid("UpdateEvalDTO", patch)

    preview = result_json(await client.call_tool("delete_eval", {"id": created["id"]}))
    assert preview["summary"] == f'{SANDBOX}Delete the eval "Hours" ({created["id"]}) with its 1 checkpoint.'
    assert created["id"] in sandbox.store.evals and not sandbox.requests_to("DELETE", f"/eval/{created['id']}")
    deleted = result_json(await confirmed(client, "delete_eval", {"id": created["id"]}))
    assert deleted["deleted"]["id"] == created["id"] and sandbox.store.evals == {}


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        (
            "create_eval",
            {"messages": [{"role": "assistant", "content": "Hi", "judgePlan": {"type": "exact", "content": "Hi"}}]},
            "has no `content`",
        ),
        ("create_eval", {"messages": [{"role": "assistant", "judgePlan": {"type": "exact"}}]}, "needs `content`"),
        ("create_eval", {"messages": [{"role": "assistant", "judgePlan": {"type": "ai"}}]}, "needs `model`"),
        ("create_eval", {"messages": [{"role": "user"}]}, "a user message needs `content`"),
        ("create_eval", {"messages": [{"role": "caller", "content": "Hi"}]}, "`messages.0.role`"),
        ("create_eval", {"messages": []}, "`messages`"),
        ("create_eval", {"name": "x" * 81, "messages": HOURS}, "`name`"),
        ("run_eval", {"target": {"assistantId": MISSING}}, "either evalId"),
        ("run_eval", {"evalId": MISSING, "eval": {"messages": HOURS}, "target": {"assistantId": MISSING}}, "either evalId"),
        ("run_eval", {"evalId": "../call", "target": {"assistantId": MISSING}}, "`evalId`"),
        (
            "run_eval",
            {"evalId": MISSING, "target": {"assistantId": MISSING, "assistant": {}}},
            "exactly one of assistantId or assistant",
        ),
        ("run_eval", {"evalId": MISSING, "target": {"assistantId": "riley"}}, "`target.assistantId`"),
        ("get_eval_run", {"id": "x"}, "`id`"),
        ("update_eval", {"id": MISSING}, "at least one field"),
    ],
)
async def test_bad_input_names_the_field_and_sends_nothing(client, sandbox, name, arguments, says):
    result = await client.call_tool(name, arguments)
    assert result.is_error and says in result_text(result), result_text(result)
    assert sandbox.requests == []


async def test_vapis_own_refusals_come_back_as_actionable_errors(client, riley):
    unknown = await client.call_tool("run_eval", {"evalId": MISSING, "target": {"assistantId": riley}})
    assert unknown.is_error and f"Couldn't Get Eval. `evalId` {MISSING} Not Found." in result_text(unknown)
    gone = await client.call_tool("get_eval_run", {"id": MISSING})
    assert gone.is_error and "Not found" in result_text(gone)


def test_the_compact_view_of_a_run_that_ended_in_error(tmp_path):
    from vapi_mcp.tools.evals import run_view

    run: dict[str, Any] = {
        "id": "r",
        "status": "ended",
        "endedReason": "error",
        "endedMessage": "Chat error",
        "results": [],
        "cost": 0,
    }
    assert run_view(run, None) == {"id": "r", "status": "ended", "endedReason": "error", "endedMessage": "Chat error", "cost": 0}


async def test_a_started_eval_run_that_cannot_be_read_says_its_id(client, sandbox, riley):
    from vapi_mcp.sandbox import Fault

    sandbox.inject(Fault("GET", "/eval/run/", status=500))
    result = await client.call_tool("run_eval", {"eval": {"messages": HOURS}, "target": {"assistantId": riley}})
    [run_id] = list(sandbox.store.eval_runs)
    assert result.is_error and f"read it later with get_eval_run id={run_id}" in result_text(result)


async def test_a_judges_credentials_are_masked_when_the_eval_is_read_back(client, sandbox):
    judge = {
        "provider": "custom-llm",
        "model": "judge-1",
        "url": "https://llm.example.com/v1",
        "headers": {"Authorization": "Bearer sk-judge-0123456789"},
        "messages": [{"role": "system", "content": "Answer pass or fail."}],
    }
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "judgePlan": {"type": "ai", "model": judge}}]
    created = result_json(await client.call_tool("create_eval", {"messages": messages}))
    assert_valid("CreateEvalDTO", bodies(sandbox, "POST", "/eval")[0])
    got = await client.call_tool("get_eval", {"id": created["id"]})
    assert "sk-judge-0123456789" not in result_text(got)
    assert result_json(got)["messages"][1]["judgePlan"]["model"]["headers"]["Authorization"] == "***"
