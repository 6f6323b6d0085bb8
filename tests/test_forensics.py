"""Why did this call fail? get_call's endedReason help, logs (fetched without the key from where Vapi redirects), latency and links."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest
from mcp_types import ResourceLink
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.routing import Route

from tests.mcp_kit import result_json
from tests.guard_kit import answering, serve
from vapi_mcp.client import VapiClient
from vapi_mcp.errors import VapiError
from vapi_mcp.sandbox import Fault, ManualClock, Sandbox
from vapi_mcp.sandbox.campaigns import OUTCOMES
from vapi_mcp.sandbox.core import stamp
from vapi_mcp.tools.forensics import summarize_log

ERROR_REASON = "call.in-progress.error-providerfault-openai-llm-failed"


@pytest.fixture
def spied(sandbox: Sandbox) -> list[tuple[str, str | None]]:
    """(path, Authorization header) of every request the sandbox serves: what really reached it."""
    seen: list[tuple[str, str | None]] = []
    inner = sandbox.app.app

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            seen.append((scope["path"], headers.get("authorization")))
        await inner(scope, receive, send)

    sandbox.app.app = app
    return seen


@pytest.fixture
async def calls(settings, sandbox: Sandbox, clock: ManualClock) -> dict[str, str]:
    """One ended sandbox call per campaign outcome (by endedReason), placed by a small campaign."""
    assistant = stamp(clock, name="Riley", firstMessage="Hi, this is Riley.", model={"provider": "openai", "model": "gpt-4o-mini"})
    phone = stamp(clock, provider="twilio", number="+14155550101", status="active")
    sandbox.store.assistants[assistant["id"]] = assistant
    sandbox.store.phone_numbers[phone["id"]] = phone
    contacts = [{"number": f"+1212555{1000 + i:04d}"} for i in range(len(OUTCOMES))]
    arguments = {"name": "Outcomes", "assistantId": assistant["id"], "phoneNumberId": phone["id"], "customers": contacts, "maxConcurrency": len(OUTCOMES)}
    yes, _ = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=yes) as client:
        assert not (await client.call_tool("create_campaign", arguments)).is_error
    clock.advance(60)
    return {(c.get("_ended_reason")): i for i, c in sandbox.store.calls.items()}


async def get_call(settings, sandbox, clock, call_id: str, **arguments: Any) -> Any:
    async with serve(settings, sandbox, clock) as client:
        return await client.call_tool("get_call", {"id": call_id, **arguments})


async def test_a_failed_calls_log_shows_the_error_with_its_time_fetched_without_the_key(settings, sandbox, clock, calls, spied):
    result = await get_call(settings, sandbox, clock, calls[ERROR_REASON], include=["logs"])
    view = result_json(result)
    logs = view["logs"]
    assert logs["errors"] == 1
    error = next(p for p in logs["problems"] if " ERROR " in p)
    assert error.startswith("2026-11-02T16:00:03.000Z ERROR OpenAI request failed: 500")
    assert "(model gpt-4o-mini)" in error, "the log names the call's own model (it once named gpt-4o whatever the assistant's)"
    assert logs["last"][-1].endswith(f"INFO Call ended: {ERROR_REASON}") and len(logs["last"]) <= 8
    assert view["endedReason"] == ERROR_REASON
    assert view["endedBecause"] == "The OpenAI model (LLM) failed during the call. Vapi files it as the provider's fault."
    assert "model.fallbackModels" in view["nextStep"]
    [(api_path, key)] = [(p, k) for p, k in spied if p.endswith("/call-logs")]
    [(download_path, no_key)] = [(p, k) for p, k in spied if p.startswith("/presigned/")]
    assert key == "Bearer sandbox-key", "Vapi's own endpoint gets the key"
    assert no_key is None, "the presigned URL Vapi redirects to never sees the key"
    assert "transcript" not in view


async def test_an_unanswered_call_has_a_log_with_a_warning_and_no_transcript(settings, sandbox, clock, calls):
    view = result_json(await get_call(settings, sandbox, clock, calls["customer-did-not-answer"], include=["logs", "latency"]))
    assert view["logs"]["errors"] == 0 and "No answer" in view["logs"]["problems"][0]
    assert view["latency"]["note"].startswith("Vapi recorded no performanceMetrics")
    assert view["endedBecause"] == "The customer did not answer." and view["nextStep"].startswith("Call again")


async def test_latency_shows_averages_each_turn_and_the_slowest_broken_down(settings, sandbox, clock, calls):
    view = result_json(await get_call(settings, sandbox, clock, calls["customer-ended-call"], include=["latency"]))
    latency = view["latency"]
    raw = result_json(await get_call(settings, sandbox, clock, calls["customer-ended-call"], include=["raw"]))["call"]
    metrics = raw["artifact"]["performanceMetrics"]
    answers = [m for m in raw["messages"] if m["role"] == "bot"][1:]
    assert latency["turns"] == len(metrics["turnLatencies"]) == len(latency["turnMs"]) == len(answers) == 2
    assert latency["turnMs"] == [t["turnLatency"] for t in metrics["turnLatencies"]]
    assert latency["averageMs"]["turn"] == round(metrics["turnLatencyAverage"])
    slowest = latency["slowest"][0]
    assert slowest["turn"] == 2 and slowest["ms"] == max(latency["turnMs"]) > 1500
    assert set(slowest) == {"turn", "ms", "model", "voice", "transcriber", "endpointing"}


async def test_recording_and_log_links_are_resource_links_that_say_when_they_expire(settings, sandbox, clock, calls):
    result = await get_call(settings, sandbox, clock, calls["customer-ended-call"], include=["recording", "logs"])
    links = [block for block in result.content if isinstance(block, ResourceLink)]
    assert [link.name for link in links] == ["recording", "stereo recording", "call log"]
    log = links[-1]
    assert "/presigned/call-logs/" in log.uri and "expires at 2026-11-02T17:01:00.000Z" in log.description
    assert result_json(result)["linksExpireAt"] == "2026-11-02T17:01:00.000Z"
    assert "no expiry given" in links[0].description
    plain = await get_call(settings, sandbox, clock, calls["customer-ended-call"], include=["transcript"])
    assert len(plain.content) == 1, "no links unless recordings or logs are shown"


async def test_a_log_that_is_not_there_is_a_note_not_a_failure(settings, sandbox, clock, calls):
    call_id = calls["voicemail"]
    sandbox.inject(Fault("GET", f"/call/{call_id}/call-logs", status=404))
    view = result_json(await get_call(settings, sandbox, clock, call_id, include=["logs"]))
    assert "artifactPlan.loggingEnabled" in view["logs"]["note"] and view["status"] == "ended"


async def test_no_log_is_fetched_before_the_call_ends(settings, sandbox, clock, calls):
    live = stamp(clock, type="outboundPhoneCall", _start=clock.now(), _assistant={"firstMessage": "Hi"})
    sandbox.store.calls[live["id"]] = live
    view = result_json(await get_call(settings, sandbox, clock, live["id"], include=["logs"]))
    assert view["logs"] == {"note": "Vapi writes the call log when the call ends (status now: queued)."}
    assert not sandbox.requests_to("GET", f"/call/{live['id']}/call-logs")


# the client's download, against a stand-in storage host


def storage_app(target: str, seen: list[tuple[str, str | None]]) -> Starlette:
    async def api(request: Request) -> Any:
        seen.append((str(request.url), request.headers.get("authorization")))
        return RedirectResponse(target, status_code=302)

    async def storage(request: Request) -> Any:
        seen.append((str(request.url), request.headers.get("authorization")))
        return PlainTextResponse('{"level":"error","message":"boom"}\n' * 100)

    return Starlette(routes=[Route("/call/{id}/call-logs", api), Route("/bucket/log", storage)])


async def test_download_follows_vapis_redirect_once_without_the_key():
    seen: list[tuple[str, str | None]] = []
    app = storage_app("https://storage.example/bucket/log?sig=1", seen)
    client = VapiClient(base_url="https://api.vapi.ai", api_key="sk-live-123456", transport=httpx.ASGITransport(app=app))
    text = await client.download("/call/1/call-logs")
    await client.aclose()
    assert text.count("boom") == 100
    assert seen == [("https://api.vapi.ai/call/1/call-logs", "Bearer sk-live-123456"), ("https://storage.example/bucket/log?sig=1", None)]


async def test_download_refuses_a_redirect_that_is_not_https():
    seen: list[tuple[str, str | None]] = []
    app = storage_app("http://storage.example/bucket/log", seen)
    client = VapiClient(base_url="https://api.vapi.ai", api_key="sk-live-123456", transport=httpx.ASGITransport(app=app))
    with pytest.raises(VapiError, match="not https"):
        await client.download("/call/1/call-logs")
    await client.aclose()
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("base", "target", "followed"),
    [
        ("http://sandbox.vapi.local", "http://storage.sandbox.vapi.local/bucket/log", True),  # the embedded sandbox's storage host
        ("http://127.0.0.1:8787", "http://localhost:8787/bucket/log", True),  # a served sandbox's: the other loopback name
        ("http://localhost:8787", "http://127.0.0.1:8787/bucket/log", True),
        ("http://127.0.0.1:8787", "http://localhost:9999/bucket/log", False),  # another port is another server
        ("http://127.0.0.1:8787", "http://storage.example/bucket/log", False),
        ("http://sandbox.vapi.local", "http://storage.evil.example/bucket/log", False),
        ("https://api.vapi.ai", "http://storage.api.vapi.ai/bucket/log", False),  # never plain http beside the real Vapi
    ],
)
async def test_beside_a_sandbox_the_download_follows_its_storage_host_over_http_without_the_key(base, target, followed):
    seen: list[tuple[str, str | None]] = []
    client = VapiClient(base_url=base, api_key="sk-sandbox-123456", transport=httpx.ASGITransport(app=storage_app(target, seen)))
    if followed:
        assert (await client.download("/call/1/call-logs")).count("boom") == 100
        assert seen[1] == (target, None), "the storage host never sees the key"
    else:
        with pytest.raises(VapiError, match="not https"):
            await client.download("/call/1/call-logs")
        assert len(seen) == 1
    await client.aclose()


async def test_download_reads_at_most_its_limit():
    app = storage_app("https://storage.example/bucket/log", [])
    client = VapiClient(base_url="https://api.vapi.ai", api_key="k-123456", transport=httpx.ASGITransport(app=app))
    text = await client.download("/call/1/call-logs", limit=1000)
    await client.aclose()
    assert len(text) < 1100 and text.endswith("KiB]\n") and text.count("boom") < 100


# reading logs of any shape


def test_summarize_log_reads_json_pino_and_text_lines():
    text = "\n".join(
        [
            '{"time":"2026-11-02T16:00:00Z","level":"info","message":"start"}',
            '{"timestamp":"2026-11-02T16:00:01Z","severity":"WARNING","msg":"slow model"}',
            '{"time":1762099202000,"level":50,"msg":"pino error"}',
            "2026-11-02T16:00:03.120Z ERROR Deepgram socket closed",
            "[2026-11-02 16:00:04] warn: retrying",
            "plain line",
        ]
    )
    summary = summarize_log(text)
    assert summary["lines"] == 6 and summary["errors"] == 2 and summary["warnings"] == 2
    assert summary["problems"] == [
        "2026-11-02T16:00:01Z WARN slow model",
        "1762099202000 ERROR pino error",
        "2026-11-02T16:00:03.120Z ERROR ERROR Deepgram socket closed",
        "2026-11-02 16:00:04 WARN warn: retrying",
    ]
    assert summary["last"][-1] == "INFO plain line"


async def test_get_call_explains_every_outcome_the_sandbox_produces(settings, sandbox, clock, calls):
    for reason, call_id in calls.items():
        view = result_json(await get_call(settings, sandbox, clock, call_id, include=["transcript"]))
        assert view["endedReason"] == reason and view["endedBecause"] and view["nextStep"]
