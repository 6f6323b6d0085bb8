"""A known API key and a known twilioAuthToken never show up in a result, a log line or an error."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import anyio
import httpx2 as httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import ElicitResult

from vapi_mcp.cli import configure_logging
from vapi_mcp.client import SANDBOX_KEY
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import Fault, ManualClock, Sandbox
from vapi_mcp.redact import scrubber
from vapi_mcp.sandbox.core import stamp

from .mcp_kit import connect, result_json, result_text
from .loopback import free_port, on_loopback, serving, stop

API_KEY = "vapi-private-key-0c9e4b7a-known"
TWILIO_TOKEN = "twilio-auth-token-5d83f1-known"
SECRETS = (API_KEY, TWILIO_TOKEN)

TWILIO_IMPORT = {
    "provider": "twilio",
    "number": "+14155550199",
    "twilioAccountSid": "AC" + "0" * 32,
    "twilioAuthToken": TWILIO_TOKEN,
    "name": "Imported line",
}


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.fixture
def keyed_settings(tmp_path: Path) -> Settings:
    """A real key in the environment, with --sandbox: the key must never leave the process."""
    return Settings.load({"VAPI_API_KEY": API_KEY}, force_sandbox=True, audit_log=str(tmp_path / "audit.jsonl"), quiet_hours=False)


@pytest.fixture
def server_logging(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """The server's own stderr logging at DEBUG (into capsys), restored afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("DEBUG")
    try:
        yield
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def spy_on_authorization(sandbox: Sandbox) -> list[str]:
    """Every Authorization header that reaches the sandbox (its request log leaves them out)."""
    seen: list[str] = []
    inner = sandbox.app

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append(dict(scope["headers"]).get(b"authorization", b"").decode())
        await inner(scope, receive, send)

    sandbox.app = app  # type: ignore[assignment]
    return seen


async def accept(context: Any, params: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"confirm": True})


async def scenarios(client: Client, sandbox: Sandbox, clock: ManualClock) -> list[str]:
    """The suite's main paths, successes and failures; returns every text an agent saw."""
    names = {t.name for t in (await client.list_tools()).tools}
    assistant = stamp(clock, name="Riley", firstMessage="Hi, this is Riley.")
    sandbox.store.assistants[assistant["id"]] = assistant
    number = stamp(clock, provider="twilio", number="+14155550100", status="active", name="Demo line")
    sandbox.store.phone_numbers[number["id"]] = number
    call = {"assistantId": assistant["id"], "phoneNumberId": number["id"], "customer": {"number": "+14155550123"}}

    steps: list[tuple[str, dict[str, Any], Fault | None]] = [
        ("list_calls", {}, None),
        ("list_calls", {"limit": 5000}, None),
        ("list_calls", {}, Fault("GET", "/call", status=401)),
        ("get_call", {"id": str(uuid.uuid4())}, None),
        ("get_call", {"id": "../phone-number"}, None),
        ("create_call", call, None),
        ("create_call", call, Fault("POST", "/call", status=500)),
        ("import_number", TWILIO_IMPORT, None),
        ("import_number", {**TWILIO_IMPORT, "foo": 1}, None),
        ("import_number", {**TWILIO_IMPORT, "number": "+14155550198"}, Fault("POST", "/phone-number", status=500)),
        ("import_number", {**TWILIO_IMPORT, "number": "+14155550197"}, Fault("POST", "/phone-number", status=400)),
    ]
    texts = []
    for tool, arguments, fault in steps:
        if tool not in names:
            continue
        if fault is not None:
            sandbox.inject(fault)
        result = await client.call_tool(tool, arguments)
        texts.extend(c.text for c in result.content if hasattr(c, "text"))
        texts.append(repr(result.structured_content))
    return texts


async def test_no_secret_in_results_logs_errors_or_requests(
    keyed_settings: Settings,
    sandbox: Sandbox,
    clock: ManualClock,
    server_logging: None,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    authorizations = spy_on_authorization(sandbox)
    async with connect(keyed_settings, sandbox, elicitation_callback=accept) as client:
        texts = await scenarios(client, sandbox, clock)
    logging.getLogger("vapi_mcp").error("a log line with the key %s", API_KEY)  # proves the stderr filter works

    assert len(texts) >= 10
    assert [t for t in texts if leaks(t)] == []
    stderr = capsys.readouterr().err
    assert "a log line with the key ***" in stderr
    assert leaks(stderr) == []
    assert leaks(keyed_settings.audit_log.read_text() if keyed_settings.audit_log.exists() else "") == []
    # With --sandbox the user's key is never sent, not even to the in-process sandbox.
    assert authorizations and set(authorizations) == {f"Bearer {SANDBOX_KEY}"}
    assert not any(API_KEY in repr(r) for r in sandbox.requests)


async def test_import_number_sends_the_token_to_vapi_only(keyed_settings: Settings, sandbox: Sandbox) -> None:
    async with connect(keyed_settings, sandbox, elicitation_callback=accept) as client:
        registered = "import_number" in {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("import_number", TWILIO_IMPORT) if registered else None
    if result is None:
        pytest.skip("import_number is not registered yet")
    assert not result.is_error, result
    assert leaks(result.content[0].text) == []
    sent = sandbox.requests_to("POST", "/phone-number")
    assert [r.body["twilioAuthToken"] for r in sent] == [TWILIO_TOKEN]


def test_no_secret_on_the_stdio_servers_stderr(tmp_path: Path) -> None:
    """A spawned server at DEBUG: its whole stderr stays clean."""
    errlog = tmp_path / "stderr.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    env |= {"VAPI_API_KEY": API_KEY, "VAPI_MCP_LOG_LEVEL": "DEBUG", "VAPI_MCP_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    params = StdioServerParameters(command=sys.executable, args=["-m", "vapi_mcp", "serve", "--sandbox"], env=env)

    async def session() -> list[str]:
        with errlog.open("w") as err:
            async with Client(stdio_client(params, errlog=err), elicitation_callback=accept) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                results = [await client.call_tool("list_calls", {})]
                results.append(await client.call_tool("get_call", {"id": str(uuid.uuid4())}))
                if "import_number" in names:
                    results.append(await client.call_tool("import_number", TWILIO_IMPORT))
                return [c.text for r in results for c in r.content if hasattr(c, "text")]

    texts = anyio.run(session)
    stderr = errlog.read_text()
    assert "embedded sandbox" in stderr  # the log was captured at all
    assert [t for t in texts if leaks(t)] == []
    assert leaks(stderr) == []


# Redaction is structural and per request: nothing a caller sends teaches the process anything


CALLEE = "+14155550123"


def add_world(sandbox: Sandbox, clock: ManualClock) -> dict[str, str]:
    assistant = stamp(clock, name="Riley")
    number = stamp(clock, provider="twilio", number="+14155550100", status="active", name="Demo line")
    sandbox.store.assistants[assistant["id"]] = assistant
    sandbox.store.phone_numbers[number["id"]] = number
    return {"assistantId": assistant["id"], "phoneNumberId": number["id"]}


def dial_arguments(world: dict[str, str]) -> dict[str, Any]:
    return {**world, "customer": {"number": CALLEE}}


@pytest.mark.parametrize("read_only", [False, True], ids=["read-write", "read-only"])
async def test_a_secret_named_argument_teaches_the_scrubber_nothing(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, read_only: bool
) -> None:
    """`list_calls {"password": <a phone number>}` is refused, and must not hide that number from later
    previews and audit lines (the human would confirm a *** while Vapi dials the real number)."""
    world = add_world(sandbox, clock)
    async with connect(dataclasses.replace(settings, read_only=read_only), sandbox) as client:
        for name in ("password", "token", "apiKey", "X-Api-Key"):
            refused = await client.call_tool("list_calls", {name: CALLEE})
            assert refused.is_error and "not an argument" in result_text(refused)
    async with connect(settings, sandbox) as client:
        preview = result_json(await client.call_tool("create_call", dial_arguments(world)))
    assert preview["confirmationRequired"] is True
    assert CALLEE in preview["summary"]
    assert preview["wouldSend"]["body"]["customer"]["number"] == CALLEE
    (line,) = [json.loads(line) for line in settings.sandbox_audit_path.read_text().splitlines()]
    assert CALLEE in line["summary"] and line["request"]["body"]["customer"]["number"] == CALLEE


async def test_a_secret_value_with_quotes_breaks_no_result_and_no_audit_line(
    settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    """Masking happens in the objects, never in encoded JSON: a value like `"sandbox":true` can't break it."""
    breaker = '"sandbox":true'
    async with connect(settings, sandbox) as client:
        await client.call_tool("list_calls", {"apiKey": breaker})
        later = await client.call_tool("list_calls", {})
        assert not later.is_error and result_json(later) == {"calls": [], "count": 0, "sandbox": True}
        # A validated secret of this very request (masked throughout it) with quotes and JSON inside.
        token = '"sandbox":true,"number":"+1'
        preview = await client.call_tool("import_number", {**TWILIO_IMPORT, "twilioAuthToken": token})
    assert not preview.is_error, result_text(preview)
    view = result_json(preview)
    assert view["sandbox"] is True and view["confirmationRequired"] is True
    assert view["wouldSend"]["body"]["twilioAuthToken"] == "***" and token not in result_text(preview)
    lines = [json.loads(line) for line in settings.sandbox_audit_path.read_text().splitlines()]
    assert [line["decision"] for line in lines] == ["previewed"]
    assert lines[0]["request"]["body"]["twilioAuthToken"] == "***"
    assert lines[0]["request"]["body"]["number"] == TWILIO_IMPORT["number"]


async def test_a_requests_own_secret_is_scrubbed_in_that_request_only(keyed_settings: Settings, sandbox: Sandbox) -> None:
    """import_number's twilioAuthToken is masked wherever that request echoes it (here Vapi's error
    message), and forgotten afterwards: the process-wide set holds configuration only."""
    echo = json.dumps({"message": [f"twilioAuthToken {TWILIO_TOKEN} was rejected by Twilio"], "statusCode": 400})
    sandbox.inject(Fault("POST", "/phone-number", status=400, body=echo.encode()))
    async with connect(keyed_settings, sandbox, elicitation_callback=accept) as client:
        failed = await client.call_tool("import_number", TWILIO_IMPORT)
        assert failed.is_error
        assert "twilioAuthToken *** was rejected by Twilio" in result_text(failed)
        assert leaks(result_text(failed)) == []
        # A later request that happens to carry the same text is not masked by what an earlier one sent.
        named = await client.call_tool("create_assistant", {"name": TWILIO_TOKEN})
        assert result_json(named)["name"] == TWILIO_TOKEN
        masked_key = await client.call_tool("create_assistant", {"name": f"k {API_KEY}"[:40]})
    assert result_json(masked_key)["name"] == "k ***"  # the configured API key stays masked everywhere
    assert API_KEY in scrubber.configured and TWILIO_TOKEN not in scrubber.configured


# Webhook credentials under header names in any spelling


HEADER_SECRETS = {
    "X-Api-Key": "hdr-secret-x-api-key-01",
    "Api-Key": "hdr-secret-api-key-02",
    "Cookie": "session=hdr-secret-cookie-03",
    "Set-Cookie": "id=hdr-secret-set-cookie-04",
    "X-Auth-Token": "hdr-secret-x-auth-token-05",
    "X-Access-Token": "hdr-secret-x-access-token-06",
    "Proxy-Authorization": "Basic hdr-secret-proxy-auth-07",
    "x_api_key": "hdr-secret-snake-08",
    "xApiKey": "hdr-secret-camel-09",
    "AUTHORIZATION": "Token hdr-secret-upper-10",
    "X-Vapi-Secret": "hdr-secret-vapi-11",
    "Ocp-Apim-Subscription-Key": "hdr-secret-azure-12",
}
PLAIN_HEADERS = {"Content-Type": "application/json", "X-Request-Source": "vapi"}


def assert_headers_masked(text: str, headers: dict[str, Any]) -> None:
    assert [v for v in HEADER_SECRETS.values() if v in text] == []
    assert {name: headers[name] for name in HEADER_SECRETS} == {name: "***" for name in HEADER_SECRETS}
    assert {name: headers[name] for name in PLAIN_HEADERS} == PLAIN_HEADERS


async def test_webhook_credentials_in_any_header_spelling_are_masked(client: Any, sandbox: Sandbox, clock: ManualClock) -> None:
    server = {"url": "https://hooks.example.com/vapi", "headers": {**HEADER_SECRETS, **PLAIN_HEADERS}}
    credentials = [{"provider": "11labs", "apiKey": "cred-secret-11labs-13"}, {"provider": "custom-llm", "authenticationPlan": {"type": "oauth2", "clientSecret": "cred-secret-oauth-14"}}]
    assistant = stamp(clock, name="Riley", server=server, model={"provider": "openai", "model": "gpt-4.1"}, credentials=credentials)
    sandbox.store.assistants[assistant["id"]] = assistant
    number = stamp(clock, provider="vapi", number="+14155550100", status="active", server=server)
    sandbox.store.phone_numbers[number["id"]] = number
    schema = {"type": "object", "properties": {name: {"type": "string", "value": v} for name, v in HEADER_SECRETS.items()}}
    tool = stamp(clock, type="apiRequest", method="POST", url="https://api.example.com", headers=schema, server=server)
    sandbox.store.tools[tool["id"]] = tool

    seen = await client.call_tool("get_assistant", {"id": assistant["id"]})
    assert_headers_masked(result_text(seen), result_json(seen)["server"]["headers"])
    assert "cred-secret" not in result_text(seen) and result_json(seen)["credentials"] == "***"
    seen = await client.call_tool("get_phone_number", {"id": number["id"]})
    assert_headers_masked(result_text(seen), result_json(seen)["server"]["headers"])
    seen = await client.call_tool("get_tool", {"id": tool["id"]})
    assert_headers_masked(result_text(seen), result_json(seen)["server"]["headers"])
    assert [v for v in HEADER_SECRETS.values() if v in result_text(seen)] == []
    assert set(result_json(seen)["headers"]["properties"]) == set(HEADER_SECRETS)


# uvicorn's access log


def test_the_http_access_log_masks_secret_query_values(tmp_path: Path) -> None:
    """`vapi-mcp serve --transport http` at INFO: uvicorn logs every request line, query string included."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    env |= {"VAPI_API_KEY": API_KEY, "VAPI_MCP_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    command = [sys.executable, "-m", "vapi_mcp", "serve", "--sandbox", "--transport", "http", "--port", str(port), "--log-level", "INFO"]
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    assert process.poll() is None and time.monotonic() < deadline, err.read_text()
                    time.sleep(0.05)
            query = "token=qs-secret-token-1&api_key=qs-secret-key-2&X-Api-Key=qs-secret-key-3&key=qs-secret-key-4&limit=5"
            for path in (f"/mcp?{query}", "/nowhere?access_token=qs-secret-token-5&page=2", f"/mcp?k={API_KEY}"):
                httpx.get(f"http://127.0.0.1:{port}{path}", timeout=10)
        finally:
            stop(process)
    logs = out.read_text() + err.read_text()
    assert "GET /mcp?token=***&api_key=***&X-Api-Key=***&key=***&limit=5" in logs, logs
    assert "GET /nowhere?access_token=***&page=2" in logs
    assert "qs-secret" not in logs and API_KEY not in logs


# vapi://calls/{id} resources read the same account as the request's tools


def ended_call(sandbox: Sandbox, first_message: str) -> dict[str, Any]:
    """A call that talked and ended ten minutes ago on `sandbox`'s clock; its transcript opens with `first_message`."""
    now = sandbox.clock.now()
    call = stamp(
        sandbox.clock,
        type="outboundPhoneCall",
        customer={"number": CALLEE},
        _start=now - timedelta(minutes=15),
        _ended_at=now - timedelta(minutes=10),
        _assistant={"firstMessage": first_message, "model": {"messages": [{"role": "system", "content": "You help."}]}},
    )
    sandbox.store.calls[call["id"]] = call
    return call


async def test_call_resources_use_the_requests_vapi_key(tmp_path: Path, sandbox: Sandbox, clock: ManualClock) -> None:
    """Tenant A (X-Vapi-Key) reads its own call; it cannot read the operator's; the operator reads only its own."""
    from mcp.client.streamable_http import streamable_http_client

    operator_call = ended_call(sandbox, "operator secret plan")
    tenant = Sandbox()  # tenant A's Vapi account, on loopback
    tenant_call = ended_call(tenant, "tenant hello")

    async def read(client: Client, uri: str) -> str:
        try:
            result = await client.read_resource(uri)
        except Exception as exc:  # the SDK raises the resource's error
            return f"error: {exc}"
        return result.contents[0].text

    async with on_loopback(tenant.app) as tenant_url:
        settings = Settings.load({}, base_url=tenant_url, audit_log=str(tmp_path / "a.jsonl"))
        async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
            async with httpx.AsyncClient(headers={"X-Vapi-Key": "tenant-a-key-5f2a9c"}, timeout=10) as http:
                async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                    own = await read(client, f"vapi://calls/{tenant_call['id']}/transcript")
                    own_view = await read(client, f"vapi://calls/{tenant_call['id']}")
                    others = await read(client, f"vapi://calls/{operator_call['id']}/transcript")
            async with Client(f"{base}/mcp") as client:
                operator = await read(client, f"vapi://calls/{operator_call['id']}/transcript")
                not_operators = await read(client, f"vapi://calls/{tenant_call['id']}")
    assert own.startswith("AI: tenant hello\n") and json.loads(own_view)["id"] == tenant_call["id"]
    assert others.startswith("error:") and "operator secret plan" not in others
    assert operator.startswith("AI: operator secret plan\n")
    assert not_operators.startswith("error:") and "tenant hello" not in not_operators


async def test_vapi_keys_are_scrubbed_per_request_and_never_kept(tmp_path: Path, sandbox: Sandbox, clock: ManualClock) -> None:
    """Every X-Vapi-Key used to be added to the process-wide set for good (3000 keys doubled list_calls'
    time): each key is masked in its own request's output, and the set holds configuration only."""
    from mcp.client.streamable_http import streamable_http_client

    keys = [f"tenant-key-{i:03d}-{uuid.uuid4().hex[:8]}" for i in range(40)]
    tenant = Sandbox()  # every tenant's account, on loopback; its errors echo the key
    echo = json.dumps({"message": "This key lacks the permission", "statusCode": 403})
    operator_assistant = stamp(clock, name=keys[0])  # the operator's own data, which happens to hold that text
    sandbox.store.assistants[operator_assistant["id"]] = operator_assistant
    before = getattr(scrubber, "configured", None)
    current = [keys[0]]

    async def with_key(request: httpx.Request) -> None:
        request.headers["X-Vapi-Key"] = current[0]

    texts = []
    async with on_loopback(tenant.app) as tenant_url:
        settings = Settings.load({}, base_url=tenant_url, audit_log=str(tmp_path / "a.jsonl"))
        async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
            async with httpx.AsyncClient(timeout=10, event_hooks={"request": [with_key]}) as http:
                async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                    for key in keys:
                        current[0] = key
                        tenant.inject(Fault("GET", "/assistant", status=400, body=echo.replace("This key", key).encode()))
                        texts.append((key, result_text(await client.call_tool("list_assistants", {}))))
            async with Client(f"{base}/mcp") as client:
                operator = result_json(await client.call_tool("list_assistants", {}))
    assert [a["name"] for a in operator["assistants"]] == [keys[0]]  # not masked: no key was kept
    assert len(texts) == len(keys)
    for key, text in texts:
        assert "*** lacks the permission" in text and key not in text, text
    assert getattr(scrubber, "configured", None) == before


def test_known_secrets_come_from_the_configuration() -> None:
    """The API key, the auth token, the confirm secret and the password of any URL setting (a state store's)."""
    from vapi_mcp.redact import settings_secrets

    @dataclasses.dataclass(frozen=True)
    class Configured:
        api_key: str = "cfg-api-key-123456"
        confirm_secret: str = "cfg-confirm-secret-123456"
        auth_token: str = "cfg-auth-token-123456"
        state_url: str = "redis://:cfg%40state-pass@127.0.0.1:6379/0"
        base_url: str = "https://api.vapi.ai"
        log_level: str = "WARNING"

    assert sorted(settings_secrets(Configured())) == sorted(
        ["cfg-api-key-123456", "cfg-confirm-secret-123456", "cfg-auth-token-123456", "cfg%40state-pass", "cfg@state-pass"]
    )


async def test_the_confirm_secret_is_masked_like_the_api_key(tmp_path: Path, sandbox: Sandbox) -> None:
    secret = "confirm-secret-7c1d9e0f"
    settings = Settings.load({"VAPI_MCP_CONFIRM_SECRET": secret}, audit_log=str(tmp_path / "a.jsonl"))
    async with connect(settings, sandbox) as client:
        created = result_json(await client.call_tool("create_assistant", {"name": f"s {secret}"}))
    assert created["name"] == "s ***"
