"""Failures injected into the sandbox: what is retried, what is not, and what the agent is told."""

from __future__ import annotations

import dataclasses
import time
from typing import Any, AsyncIterator, Iterator

import anyio
import pytest
from mcp import Client
from mcp_types import ElicitResult

from vapi_mcp.client import SANDBOX_KEY, VapiClient
from vapi_mcp.config import ConfigError, Settings
from vapi_mcp.errors import InputError, VapiError
from vapi_mcp.sandbox import Fault, ManualClock, Sandbox
from vapi_mcp.sandbox.core import stamp

from .faults_kit import CALL_BODY, CHECK, FAST_RETRY, OddVapi, as_the_guard, odd_client, unknown_outcome, vapi_client
from .mcp_kit import connect, result_json, result_text
from .loopback import on_loopback

@pytest.fixture
async def vapi(sandbox: Sandbox) -> AsyncIterator[VapiClient]:
    client = vapi_client(sandbox)
    yield client
    await client.aclose()


# the client


async def test_get_is_retried_after_429_honouring_retry_after(vapi: VapiClient, sandbox: Sandbox) -> None:
    sandbox.inject(Fault("GET", "/call", status=429, retry_after=0.3))
    started = time.monotonic()
    assert await vapi.get("/call") == []
    assert time.monotonic() - started >= 0.3
    assert len(sandbox.requests_to("GET", "/call")) == 2


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_get_is_retried_after_a_gateway_error(vapi: VapiClient, sandbox: Sandbox, status: int) -> None:
    sandbox.inject(Fault("GET", "/call", status=status))
    assert await vapi.get("/call") == []
    assert len(sandbox.requests_to("GET", "/call")) == 2


async def test_get_retries_are_bounded(vapi: VapiClient, sandbox: Sandbox) -> None:
    sandbox.inject(Fault("GET", "/call", status=503, times=100))
    with pytest.raises(VapiError) as failed:
        await vapi.get("/call")
    assert failed.value.status == 503
    assert "Nothing was changed" in failed.value.text()
    assert len(sandbox.requests_to("GET", "/call")) == FAST_RETRY.attempts


async def test_get_is_not_retried_on_a_client_error(vapi: VapiClient, sandbox: Sandbox) -> None:
    sandbox.inject(Fault("GET", "/call", status=400))
    with pytest.raises(VapiError):
        await vapi.get("/call")
    assert len(sandbox.requests_to("GET", "/call")) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_post_call_failure_is_not_retried_and_says_the_outcome_is_unknown(
    vapi: VapiClient, sandbox: Sandbox, status: int
) -> None:
    sandbox.inject(Fault("POST", "/call", status=status))
    with pytest.raises(VapiError) as failed, as_the_guard():
        await vapi.post("/call", CALL_BODY, check="Run list_calls with createdAtGe set to the time of this attempt.")
    assert len(sandbox.requests_to("POST", "/call")) == 1
    assert failed.value.status == status
    if status >= 500:
        text = failed.value.text()
        assert "may or may not have taken effect" in text
        assert "Run list_calls with createdAtGe" in text
        assert "not retried" in text


@pytest.mark.parametrize(
    ("reason", "hint"),
    [
        ("insufficient_credits", "Add credits in the Vapi dashboard (Billing)"),
        ("billing_limit", "reached its billing limit"),
        ("subscription_frozen", "The subscription is frozen"),
    ],
)
async def test_402_names_the_billing_reason_and_what_to_do_and_is_not_retried(
    vapi: VapiClient, sandbox: Sandbox, reason: str, hint: str
) -> None:
    sandbox.inject(Fault("POST", "/eval/simulation/run", status=402, reason=reason))
    with pytest.raises(VapiError) as caught:
        await vapi.post("/eval/simulation/run", {})
    text = caught.value.text()
    assert caught.value.status == 402 and f"billing (402: {reason}): nothing was started or charged" in text
    assert hint in text and "try again" not in text.lower()
    assert len(sandbox.requests_to("POST", "/eval/simulation/run")) == 1


async def test_slow_get_times_out_and_is_retried(sandbox: Sandbox) -> None:
    sandbox.inject(Fault("GET", "/call", delay=2.0, then_pass=True))
    vapi = vapi_client(sandbox, timeout=0.2)
    try:
        started = time.monotonic()
        assert await vapi.get("/call") == []
        assert time.monotonic() - started < 1.5
    finally:
        await vapi.aclose()
    assert len(sandbox.requests_to("GET", "/call")) == 2


async def test_slow_post_times_out_once_and_says_the_outcome_is_unknown(sandbox: Sandbox) -> None:
    sandbox.inject(Fault("POST", "/call", delay=2.0, then_pass=True))
    vapi = vapi_client(sandbox, timeout=0.2)
    try:
        started = time.monotonic()
        with pytest.raises(VapiError) as failed, as_the_guard():
            await vapi.post("/call", CALL_BODY)
        assert time.monotonic() - started < 1.5
    finally:
        await vapi.aclose()
    assert "did not answer in time" in failed.value.text()
    assert "may or may not" in failed.value.text()
    assert len(sandbox.requests_to("POST", "/call")) == 1


async def test_non_json_success_body_is_an_error(vapi: VapiClient, sandbox: Sandbox) -> None:
    sandbox.inject(Fault("GET", "/call", status=200, body=b"<html>maintenance</html>"))
    with pytest.raises(VapiError) as failed:
        await vapi.get("/call")
    assert "not JSON" in failed.value.text()
    assert "text/html" in failed.value.text()


async def test_non_json_error_body_still_maps_to_the_status(vapi: VapiClient, sandbox: Sandbox) -> None:
    sandbox.inject(Fault("POST", "/call", status=500, body=b"<html>upstream error</html>"))
    with pytest.raises(VapiError) as failed, as_the_guard():
        await vapi.post("/call", CALL_BODY)
    assert failed.value.status == 500 and failed.value.vapi_messages == []
    assert "<html>" not in failed.value.text()


@pytest.mark.parametrize("api_key", [None, ""])
async def test_missing_key_is_401_and_says_so(sandbox: Sandbox, api_key: str | None) -> None:
    vapi = vapi_client(sandbox, api_key=api_key)
    try:
        with pytest.raises(VapiError) as failed:
            await vapi.get("/call")
    finally:
        await vapi.aclose()
    assert failed.value.status == 401
    assert "missing, wrong" in failed.value.text() and "VAPI_API_KEY" in failed.value.text()


async def test_rejected_key_is_not_repeated_in_the_error(sandbox: Sandbox) -> None:
    key = "garbage-key-7f3a9c"
    sandbox.inject(Fault("GET", "/call", status=401))
    vapi = vapi_client(sandbox, api_key=key)
    try:
        with pytest.raises(VapiError) as failed:
            await vapi.get("/call")
    finally:
        await vapi.aclose()
    assert "missing, wrong" in failed.value.text()
    assert key not in failed.value.text() and key not in repr(failed.value)


# through the tools: every failure is an isError result with text an agent can act on


@pytest.fixture
def fast_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, timeout=0.2)


async def test_tool_succeeds_after_a_retried_429(client: Client, sandbox: Sandbox) -> None:
    sandbox.inject(Fault("GET", "/call", status=429, retry_after=0.05))
    result = await client.call_tool("list_calls", {})
    assert not result.is_error
    assert result_json(result)["calls"] == []
    assert len(sandbox.requests_to("GET", "/call")) == 2


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault("GET", "/call", status=503, times=100), "Vapi failed with 503"),
        (Fault("GET", "/call", status=200, body=b"<html>maintenance</html>"), "not JSON"),
        (Fault("GET", "/call", status=401), "missing, wrong"),
        (Fault("GET", "/call", delay=2.0, times=100, then_pass=True), "did not answer in time"),
    ],
    ids=["503", "non-json", "401", "timeout"],
)
async def test_tool_failure_is_an_actionable_error_result(
    fast_settings: Settings, sandbox: Sandbox, fault: Fault, expected: str
) -> None:
    sandbox.inject(dataclasses.replace(fault))
    async with connect(fast_settings, sandbox) as client:
        result = await client.call_tool("list_calls", {})
    assert result.is_error
    text = result_text(result)
    assert expected in text
    assert text.endswith("[sandbox]")
    assert "Traceback" not in text and SANDBOX_KEY not in text


async def test_create_call_500_is_not_retried_and_says_how_to_check(settings: Settings, clock: ManualClock, sandbox: Sandbox) -> None:
    async def accept(context: object, params: object) -> ElicitResult:
        return ElicitResult(action="accept", content={"confirm": True})

    number = stamp(clock, provider="twilio", number="+14155550100", status="active", name="Demo line")
    sandbox.store.phone_numbers[number["id"]] = number
    sandbox.store.assistants[CALL_BODY["assistantId"]] = {**stamp(clock, name="Riley"), "id": CALL_BODY["assistantId"]}
    sandbox.inject(Fault("POST", "/call", status=500))
    async with connect(settings, sandbox, elicitation_callback=accept) as client:
        registered = "create_call" in {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("create_call", {**CALL_BODY, "phoneNumberId": number["id"]}) if registered else None
    if result is None:
        pytest.skip("create_call is not registered yet")
    assert result.is_error, result
    text = result_text(result)
    assert "may or may not" in text
    assert "list_calls" in text
    assert len(sandbox.requests_to("POST", "/call")) == 1


# Odd answers: only a clean one (2xx with the JSON the request expects) is a result


ODD_2XX = [
    (200, b"<html>ok</html>"),
    (201, b"null"),
    (201, b"[]"),
    (201, b""),
    (202, b'"queued"'),
]


@pytest.mark.parametrize(("status", "body"), ODD_2XX, ids=["html", "null", "list", "empty", "string"])
async def test_an_odd_2xx_answer_to_a_create_is_outcome_unknown(vapi: VapiClient, sandbox: Sandbox, status: int, body: bytes) -> None:
    sandbox.inject(Fault("POST", "/call", status=status, body=body))
    with as_the_guard(), pytest.raises(VapiError) as failed:
        await vapi.post("/call", CALL_BODY, check=CHECK)
    unknown_outcome(failed.value.text())
    assert CHECK in failed.value.text()
    assert len(sandbox.requests_to("POST", "/call")) == 1


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_is_never_a_result(vapi: VapiClient, sandbox: Sandbox, status: int) -> None:
    created = b'{"id": "0b4f8a1e-2c3d-4e5f-8a9b-1c2d3e4f5a6b", "status": "queued"}'
    sandbox.inject(Fault("POST", "/call", status=status, body=created))
    with as_the_guard(), pytest.raises(VapiError) as failed:
        await vapi.post("/call", CALL_BODY, check=CHECK)
    unknown_outcome(failed.value.text())
    assert f"answered {status}" in failed.value.text() and "redirect" in failed.value.text()
    sandbox.inject(Fault("GET", "/call", status=status, body=b"[]"))
    with pytest.raises(VapiError) as failed:
        await vapi.get("/call")
    assert "redirect" in failed.value.text() and "Nothing was changed" in failed.value.text()


@pytest.mark.parametrize("method", ["PATCH", "DELETE", "POST"])
async def test_every_request_that_changes_something_is_outcome_unknown_after_an_odd_answer(
    vapi: VapiClient, sandbox: Sandbox, method: str
) -> None:
    path = "/phone-number/0b4f8a1e-2c3d-4e5f-8a9b-1c2d3e4f5a6b" if method != "POST" else "/assistant"
    sandbox.inject(Fault(method, path, status=200, body=b"<html>saved?</html>"))
    with pytest.raises(VapiError) as failed:
        await vapi.request(method, path, json={"name": "x"})
    unknown_outcome(failed.value.text())
    assert "matching list or get tool" in failed.value.text()


async def test_a_delete_may_answer_nothing(vapi: VapiClient, sandbox: Sandbox) -> None:
    sandbox.inject(Fault("DELETE", "/thing", status=204, body=b""))
    assert await vapi.delete("/thing/0b4f8a1e-2c3d-4e5f-8a9b-1c2d3e4f5a6b") is None


@pytest.mark.parametrize(
    ("path", "body", "expect", "wanted"),
    [
        ("/call", b"null", list, "a JSON list was expected"),
        ("/call", b"{}", list, "a JSON list was expected"),
        ("/call", b'"calls"', None, "a JSON list or a JSON object was expected"),
        ("/call/0b4f8a1e-2c3d-4e5f-8a9b-1c2d3e4f5a6b", b"[]", None, "a JSON object was expected"),
    ],
)
async def test_a_get_of_the_wrong_shape_is_a_clear_error(
    vapi: VapiClient, sandbox: Sandbox, path: str, body: bytes, expect: Any, wanted: str
) -> None:
    sandbox.inject(Fault("GET", path, status=200, body=body))
    with pytest.raises(VapiError) as failed:
        await (vapi.get(path, expect=expect) if expect else vapi.get(path))
    assert wanted in failed.value.text() and "Nothing was changed" in failed.value.text()


@pytest.mark.parametrize(("body", "ids"), [(b"null", "null"), (b"[]", "list"), (b"<html>ok</html>", "html")])
async def test_create_call_after_an_odd_answer_says_how_to_check_not_try_again(
    settings: Settings, clock: ManualClock, sandbox: Sandbox, body: bytes, ids: str
) -> None:
    async def accept(context: object, params: object) -> ElicitResult:
        return ElicitResult(action="accept", content={"confirm": True})

    number = stamp(clock, provider="twilio", number="+14155550100", status="active", name="Demo line")
    sandbox.store.phone_numbers[number["id"]] = number
    sandbox.store.assistants[CALL_BODY["assistantId"]] = {**stamp(clock, name="Riley"), "id": CALL_BODY["assistantId"]}
    sandbox.inject(Fault("POST", "/call", status=201, body=body))
    async with connect(settings, sandbox, elicitation_callback=accept) as client:
        result = await client.call_tool("create_call", {**CALL_BODY, "phoneNumberId": number["id"]})
    assert result.is_error, result
    text = result_text(result)
    unknown_outcome(text)
    assert "list_calls createdAtGe=" in text and "unexpected error" not in text
    assert len(sandbox.requests_to("POST", "/call")) == 1


async def test_list_calls_with_a_null_answer_is_a_clear_error(client: Client, sandbox: Sandbox) -> None:
    sandbox.inject(Fault("GET", "/call", status=200, body=b"null"))
    result = await client.call_tool("list_calls", {})
    assert result.is_error
    assert "where a JSON list was expected" in result_text(result) and "unexpected error" not in result_text(result)


# Retry-After in any form


UNREADABLE_RETRY_AFTER = ["soon", "Wed, 99 Foo 2026", "nan", "inf", "-5", "1e400", "Wed, 21 Oct 2015 07:28:00 GMT", ""]


@pytest.mark.parametrize("retry_after", UNREADABLE_RETRY_AFTER)
async def test_any_retry_after_is_read_safely(retry_after: str) -> None:
    odd = OddVapi().then(503, b'{"message": "busy"}', retry_after=retry_after).then(200, b"[]")
    vapi = odd_client(odd)
    try:
        with anyio.fail_after(5):
            assert await vapi.get("/call") == []
        odd.then(429, b'{"message": "slow down"}', retry_after=retry_after)
        with as_the_guard(), pytest.raises(VapiError) as failed:
            await vapi.post("/call", CALL_BODY)
    finally:
        await vapi.aclose()
    assert odd.requests == [("GET", "/call"), ("GET", "/call"), ("POST", "/call")]
    assert "rate limiting" in failed.value.text() and "Nothing was changed" in failed.value.text()
    assert "inf" not in failed.value.text() and "nan" not in failed.value.text()


async def test_a_body_that_cannot_be_decoded_is_an_odd_answer() -> None:
    odd = OddVapi().then(200, b"not gzip at all", content_encoding="gzip").then(201, b"not gzip either", content_encoding="gzip")
    vapi = odd_client(odd)
    try:
        with pytest.raises(VapiError) as read:
            await vapi.get("/call")
        with as_the_guard(), pytest.raises(VapiError) as created:
            await vapi.post("/call", CALL_BODY, check=CHECK)
    finally:
        await vapi.aclose()
    assert "could not be decoded" in read.value.text() and "Nothing was changed" in read.value.text()
    unknown_outcome(created.value.text())
    assert len(odd.requests) == 2


# The size of an answer


def huge_list(total: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """A valid JSON list of `total` bytes, streamed without a Content-Length."""
    yield b"["
    item = b'"' + b"x" * (chunk - 3) + b'",'
    for _ in range(total // chunk):
        yield item
    yield b'"end"]'


async def test_an_answer_over_the_size_cap_is_not_read_to_the_end() -> None:
    """A streamed 48 MiB answer against a 1 MiB cap: the client stops reading, and says why."""
    odd = OddVapi().then(200, huge_list(48 * 1024 * 1024))
    async with on_loopback(odd) as base:
        vapi = VapiClient(base_url=base, api_key=SANDBOX_KEY, retry=FAST_RETRY, max_response_bytes=1024 * 1024)
        try:
            with pytest.raises(VapiError) as failed:
                await vapi.get("/call")
        finally:
            await vapi.aclose()
        with anyio.fail_after(5):
            while not odd.disconnected:
                await anyio.sleep(0.01)
    text = failed.value.text()
    assert "larger than the 1 MiB limit (VAPI_MCP_MAX_RESPONSE_BYTES)" in text and "Nothing was changed" in text
    assert odd.sent < 16 * 1024 * 1024, odd.sent


async def test_a_create_answered_over_the_cap_is_outcome_unknown() -> None:
    odd = OddVapi().then(201, b'{"id": "' + b"x" * 5000 + b'"}')
    vapi = odd_client(odd, max_response_bytes=1000)  # a Content-Length over the cap: nothing is read
    try:
        with as_the_guard(), pytest.raises(VapiError) as failed:
            await vapi.post("/call", CALL_BODY, check=CHECK)
    finally:
        await vapi.aclose()
    unknown_outcome(failed.value.text())
    assert "VAPI_MCP_MAX_RESPONSE_BYTES" in failed.value.text() and CHECK in failed.value.text()


async def test_the_size_cap_is_a_setting_and_tools_say_so(tmp_path: Any, sandbox: Sandbox, clock: ManualClock) -> None:
    settings = Settings.load({"VAPI_MCP_MAX_RESPONSE_BYTES": "2000"}, audit_log=str(tmp_path / "a.jsonl"))
    assert settings.max_response_bytes == 2000 and Settings.load({}).max_response_bytes == 64 * 1024 * 1024
    for bad in ("0", "-1", "1mb"):
        with pytest.raises(ConfigError, match="VAPI_MCP_MAX_RESPONSE_BYTES"):
            Settings.load({"VAPI_MCP_MAX_RESPONSE_BYTES": bad})
    for i in range(20):
        item = stamp(clock, name=f"Assistant {i}", firstMessage="Hello " * 20)
        sandbox.store.assistants[item["id"]] = item
    async with connect(settings, sandbox) as client:
        result = await client.call_tool("list_assistants", {})
    assert result.is_error and "VAPI_MCP_MAX_RESPONSE_BYTES" in result_text(result)


# Query arguments that could not fit in a URL


async def test_a_huge_filter_value_is_refused_naming_the_field(client: Client, sandbox: Sandbox) -> None:
    result = await client.call_tool("list_calls", {"createdAtGt": "2026-11-02T00:00:00Z" + "0" * 100_000})
    assert result.is_error
    assert "`createdAtGt`" in result_text(result) and "too long" in result_text(result)
    assert "unexpected error" not in result_text(result)
    assert sandbox.requests == []


async def test_query_values_are_limited_well_inside_httpx2s_url_limit(vapi: VapiClient, sandbox: Sandbox) -> None:
    from httpx2._urlparse import MAX_URL_LENGTH

    from vapi_mcp.client import MAX_QUERY_VALUE

    assert MAX_QUERY_VALUE * 12 < MAX_URL_LENGTH  # every filter of list_calls at its longest still fits
    with pytest.raises(InputError) as refused:
        await vapi.get("/call", params={"assistantId": "a" * (MAX_QUERY_VALUE + 1)})
    assert refused.value.field == "assistantId"
    assert await vapi.get("/call", params={"createdAtGt": "2026-11-02T00:00:00Z"}) == []
