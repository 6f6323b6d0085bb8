"""OAuth 2.1 over HTTP (`--auth oauth`): a real OpenID provider on loopback (node-oidc-provider), the MCP SDK's
own OAuth client signing people in, and this server as the resource server: metadata, 401s, verified tokens,
scopes, and the signed-in person named in the audit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import httpx2 as httpx
import pytest
from mcp_types import ElicitResult

from tests.apps_kit import APPS, pending_of
from tests.ledger_kit import call_args
from tests.loopback import bound_socket
from tests.mcp_kit import result_json, result_text
from tests.oidc_kit import EVERYTHING, Issuer, MemoryStorage, oauth_server, running_issuer, signed_in, signing_key
from vapi_mcp import auth, scopes
from vapi_mcp.config import Settings
from vapi_mcp.guard.audit import attempts, read_lines, review
from vapi_mcp.sandbox import Sandbox
from vapi_mcp.sandbox.seed import seed

DIALLER = [scopes.READ, scopes.CHANGE, scopes.DIAL]
EDITOR = [scopes.READ, scopes.CHANGE]
READER = [scopes.READ]
PEOPLE = {"alice": EVERYTHING, "dana": DIALLER, "bob": EDITOR, "rita": READER}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}


@pytest.fixture
def world(settings: Settings, sandbox: Sandbox) -> tuple[Settings, Sandbox]:
    seed(sandbox, "demo")  # Riley and a Twilio number, as the ledger tests' backend has them
    return settings, sandbox


@asynccontextmanager
async def deployment(world: tuple[Settings, Sandbox], *flags: str) -> AsyncIterator[tuple[Issuer, str]]:
    """One issuer and one server whose resource it serves; the issuer and the server's /mcp URL."""
    settings, sandbox = world
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    with running_issuer([url], PEOPLE) as issuer:
        async with oauth_server(sock, issuer.url, *flags, settings=settings, sandbox=sandbox) as served:
            assert served == url
            yield issuer, url


async def accept(context: Any, request: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"confirm": True})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def raw_post(url: str, token: str | None, message: dict[str, Any] = INITIALIZE) -> httpx.Response:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(url, json=message, headers=headers)


# Signing in


async def test_a_person_signs_in_with_the_sdks_oauth_client_and_calls_a_tool(world: tuple[Settings, Sandbox]) -> None:
    """Discovery (the server's metadata, then the issuer's), dynamic registration, authorization code with PKCE,
    the token, and a tool call with it: all through the MCP SDK's own client against a certified provider."""
    async with deployment(world) as (issuer, url):
        storage = MemoryStorage()
        async with signed_in(url, "alice", storage) as client:
            listed = {tool.name for tool in (await client.list_tools()).tools}
            assistants = result_json(await client.call_tool("list_assistants", {}))
    assert storage.client_info is not None and storage.client_info.client_id, "the client registered itself"
    assert storage.tokens is not None and storage.tokens.access_token.count(".") == 2
    header = json.loads(base64.urlsafe_b64decode(storage.tokens.access_token.split(".")[0] + "=="))
    assert header["alg"] == "ES256" and header["kid"] == issuer.keys[0].kid
    assert {"create_call", "buy_number", "delete_assistant", "list_calls"} <= listed
    assert "Riley - Dental Front Desk" in {a["name"] for a in assistants["assistants"]}


async def test_without_a_token_the_answer_is_401_and_names_the_metadata(world: tuple[Settings, Sandbox]) -> None:
    async with deployment(world) as (issuer, url):
        refused = await raw_post(url, None)
        metadata_url = url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
        async with httpx.AsyncClient(timeout=10) as http:
            metadata = (await http.get(metadata_url)).json()
            root = (await http.get(url.replace("/mcp", "/.well-known/oauth-protected-resource"))).json()
    assert refused.status_code == 401
    challenge = refused.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and f'resource_metadata="{metadata_url}"' in challenge
    assert metadata["resource"] == url
    assert metadata["authorization_servers"] == [issuer.url], "the issuer exactly as it names itself (no trailing slash)"
    assert metadata["scopes_supported"] == list(scopes.ALL)
    assert root == metadata


# Tokens that are refused


def _none_alg(issuer: Issuer) -> str:
    good = issuer.mint({})
    payload = good.split(".")[1]
    return f"{_b64(json.dumps({'alg': 'none', 'typ': 'at+jwt', 'kid': issuer.keys[0].kid}).encode())}.{payload}."


def _hs256_with_the_public_key(issuer: Issuer) -> str:
    """The classic confusion: HMAC-sign with the issuer's public key (which anyone can read) as the secret."""
    public = issuer.keys[0].as_pem(private=False)
    header = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": issuer.keys[0].kid}).encode())
    payload = issuer.mint({}).split(".")[1]
    signature = _b64(hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def _tampered(issuer: Issuer) -> str:
    header, payload, signature = issuer.mint({"scope": scopes.READ}).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["scope"] = " ".join(EVERYTHING)
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


REFUSED = {
    "expired": lambda issuer: issuer.mint({"exp": int(time.time()) - 120}),
    "not yet valid": lambda issuer: issuer.mint({"nbf": int(time.time()) + 120}),
    "wrong issuer": lambda issuer: issuer.mint({"iss": "http://127.0.0.1:1"}),
    "wrong audience": lambda issuer: issuer.mint({"aud": "http://127.0.0.1:1/mcp"}),
    "no subject": lambda issuer: issuer.mint({"sub": None}),
    "alg none": _none_alg,
    "HS256 signed with the public key": _hs256_with_the_public_key,
    "tampered payload": _tampered,
    "a key the issuer never published": lambda issuer: issuer.mint({}, key=signing_key(issuer.keys[0].kid)),
}


async def test_forged_or_foreign_tokens_are_refused_with_401(world: tuple[Settings, Sandbox]) -> None:
    async with deployment(world) as (issuer, url):
        good = await raw_post(url, issuer.mint({}))
        assert good.status_code == 200, good.text  # the same issuer's key, the right claims: accepted
        for name, make in REFUSED.items():
            answer = await raw_post(url, make(issuer))
            assert answer.status_code == 401, f"{name}: {answer.status_code} {answer.text}"
            assert "resource_metadata=" in answer.headers["www-authenticate"], name
        skew = await raw_post(url, issuer.mint({"exp": int(time.time()) - 5, "nbf": int(time.time()) + 5}))
        assert skew.status_code == 200, "a few seconds of clock difference are allowed"


async def test_a_key_the_issuer_no_longer_publishes_is_refused_and_its_new_key_accepted(world: tuple[Settings, Sandbox]) -> None:
    """Rotation: the issuer replaces key-1 by key-2. A token naming key-2 makes the server fetch the keys again
    (it is not in the cache), after which key-1, no longer published, is refused."""
    new = signing_key("key-2")
    async with deployment(world) as (issuer, url):
        old = issuer.keys[0]
        assert (await raw_post(url, issuer.mint({}))).status_code == 200  # key-1 fetched and cached
        issuer.start(keys=[new])
        await anyio.sleep(auth.REFETCH_INTERVAL)  # a key id not in the cache is looked up at most once per interval
        assert (await raw_post(url, issuer.mint({}, key=new))).status_code == 200
        assert (await raw_post(url, issuer.mint({}, key=old))).status_code == 401


async def test_unknown_key_ids_fetch_the_keys_at_most_once_per_interval(world: tuple[Settings, Sandbox]) -> None:
    """A stream of made-up key ids cannot make the server hammer the issuer; the keys also age out and are refetched."""
    now = [1000.0]
    fetched: list[str] = []

    async def count(request: httpx.Request) -> None:
        fetched.append(request.url.path)

    with running_issuer(["http://127.0.0.1:1/mcp"], PEOPLE) as issuer:
        config = auth.OAuthConfig(issuer=issuer.url, resource="http://127.0.0.1:1/mcp", audience="http://127.0.0.1:1/mcp")
        async with httpx.AsyncClient(timeout=10, event_hooks={"request": [count]}) as http:
            keys = auth.IssuerKeys(config, http=http, clock=lambda: now[0])
            assert (await keys.key_for("key-1", "ES256")) is not None
            jwks_fetches = lambda: sum(1 for path in fetched if path.endswith("jwks"))  # noqa: E731
            assert jwks_fetches() == 1
            for i in range(50):
                assert await keys.key_for(f"made-up-{i}", "ES256") is None
            assert jwks_fetches() == 1, "no refetch within the interval"
            now[0] += config.refetch_interval
            assert await keys.key_for("made-up", "ES256") is None
            assert jwks_fetches() == 2, "one refetch once the interval has passed"
            assert await keys.key_for("key-1", "ES384") is None, "a key is used only with its own algorithm"
            now[0] += config.keys_ttl
            assert await keys.key_for("key-1", "ES256") is not None
            assert jwks_fetches() == 3, "aged keys are fetched again"


# Scopes


async def test_a_person_sees_only_the_tools_their_scopes_cover_and_gets_403_naming_the_missing_scope(world: tuple[Settings, Sandbox]) -> None:
    async with deployment(world) as (issuer, url):
        storage = MemoryStorage()
        async with signed_in(url, "rita", storage) as client:
            listed = {tool.name for tool in (await client.list_tools()).tools}
            assert not (await client.call_tool("list_calls", {})).is_error
        token = storage.tokens.access_token if storage.tokens else ""
        session = await raw_post(url, token)
        assert session.status_code == 200
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "delete_assistant", "arguments": {"id": "x"}}}
        denied = await raw_post(url, token, call)
    assert listed and all(name.startswith(("list_", "get_", "wait_", "query_", "generate_")) for name in listed), listed
    assert "create_assistant" not in listed and "delete_assistant" not in listed
    assert denied.status_code == 403
    assert denied.json() == {"error": "insufficient_scope", "error_description": "Required scope: vapi:change vapi:delete"}
    challenge = denied.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="vapi:change vapi:delete"' in challenge and "resource_metadata=" in challenge


# The team: two people, one may dial


async def test_two_people_sign_in_one_may_dial_and_the_audit_names_each(world: tuple[Settings, Sandbox], tmp_path: Path) -> None:
    settings, _ = world
    async with deployment(world) as (issuer, url):
        async with signed_in(url, "dana", elicitation_callback=accept) as dana:
            placed = await dana.call_tool("create_call", call_args())
        async with signed_in(url, "bob", elicitation_callback=accept) as bob:
            listed = {tool.name for tool in (await bob.list_tools()).tools}
            refused = await bob.call_tool("create_call", call_args())
            web_call = await bob.call_tool("create_call", {"assistantId": call_args()["assistantId"]})
    assert not placed.is_error, result_text(placed)
    assert refused.is_error and "vapi:dial" in result_text(refused) and "insufficient_scope" in result_text(refused)
    assert not web_call.is_error, "a web call rings no phone: an editor may make one"
    assert "create_call" in listed and "delete_assistant" not in listed and "buy_number" not in listed
    rows = attempts(read_lines([settings.sandbox_audit_path]))
    dials = [row for row in rows if row["tool"] == "create_call" and row.get("callees")]
    by = {row["tenant"]: row for row in dials}
    assert by["oauth:dana"]["decision"] == "sent" and by["oauth:dana"]["channel"] == "elicitation"
    assert by["oauth:dana"]["approvedBy"] == "oauth:dana", "the person who said yes is named"
    assert by["oauth:bob"]["decision"] == "refused" and by["oauth:bob"]["rules"] == {}
    assert "vapi:dial" in by["oauth:bob"]["error"]
    only_bob = review([settings.sandbox_audit_path], who="bob")
    assert {row["tenant"] for row in only_bob} == {"oauth:bob"} and only_bob


async def test_a_daily_cap_per_person_holds_for_each_person(world: tuple[Settings, Sandbox]) -> None:
    settings, sandbox = world
    capped = replace(settings, policy=replace(settings.policy, daily_cap_per_person=1))
    async with deployment((capped, sandbox)) as (issuer, url):
        async with signed_in(url, "dana", elicitation_callback=accept) as dana:
            first = await dana.call_tool("create_call", call_args())
            second = await dana.call_tool("create_call", call_args(number="+12125550198"))
        async with signed_in(url, "alice", elicitation_callback=accept) as alice:
            hers = await alice.call_tool("create_call", call_args(number="+12125550197"))
    assert not first.is_error and not hers.is_error, result_text(first) + result_text(hers)
    assert second.is_error and "VAPI_MCP_DAILY_CAP_PER_PERSON" in result_text(second)


# Settings


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--auth", "oauth"], {}, "--auth oauth needs the issuer"),
        (["--auth", "oauth", "--oauth-issuer", "http://login.example.com"], {}, "must be https://"),
        (["--auth", "oauth", "--oauth-issuer", "https://login.example.com?x=1"], {}, "no query or fragment"),
        (["--auth", "oauth", "--oauth-issuer", "https://login.example.com", "--host", "0.0.0.0"], {}, "--public-url / VAPI_MCP_PUBLIC_URL"),
        (["--auth", "oauth", "--oauth-issuer", "https://login.example.com", "--public-url", "https://mcp.example.com/"], {}, "must end in /mcp"),
        (["--auth", "oauth", "--oauth-issuer", "https://login.example.com", "--auth-token", "x" * 32], {}, "exclude each other"),
        ([], {"VAPI_MCP_AUTH": "sso"}, "VAPI_MCP_AUTH must be one of token, oauth"),
    ],
)
def test_oauth_settings_are_checked_before_anything_starts(
    args: list[str], env: dict[str, str], message: str, never_serves: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from vapi_mcp.cli import main

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--transport", "http", *args]) == 2
    assert message in capsys.readouterr().err


def test_oauth_is_for_streamable_http_only(never_serves: None, capsys: pytest.CaptureFixture[str]) -> None:
    from vapi_mcp.cli import main

    assert main(["serve", "--transport", "sse", "--auth", "oauth", "--oauth-issuer", "https://login.example.com"]) == 2
    assert "--transport http" in capsys.readouterr().err


def test_vapi_mcp_audit_who_shows_one_persons_attempts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vapi_mcp.cli import main

    log = tmp_path / "audit.jsonl"
    lines = [
        {"time": "2026-12-01T09:00:00Z", "attempt": "a1", "tool": "create_call", "decision": "sent", "tenant": "oauth:dana", "approvedBy": "oauth:dana"},
        {"time": "2026-12-01T09:01:00Z", "attempt": "a2", "tool": "create_call", "decision": "refused", "tenant": "oauth:bob"},
        {"time": "2026-12-01T09:02:00Z", "attempt": "a3", "tool": "delete_call", "decision": "previewed", "tenant": "local"},
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    log.chmod(0o600)
    for who, expected in (("bob", ["a2"]), ("oauth:dana", ["a1"]), ("local", ["a3"]), ("carol", [])):
        assert main(["audit", "--audit-log", str(log), "--only", "real", "--json", "--who", who]) == 0
        shown = [json.loads(line)["attempt"] for line in capsys.readouterr().out.splitlines()]
        assert shown == expected, who


async def test_the_confirmation_view_records_who_approved_and_only_the_asker_may(world: tuple[Settings, Sandbox]) -> None:
    """Through an MCP Apps host: dana's pending dial cannot be approved by alice (who may dial too); dana's own
    Approve sends it, and the audit names her as who asked and who approved."""
    settings, _ = world
    async with deployment(world) as (issuer, url):
        async with signed_in(url, "dana", extensions=[APPS]) as dana:
            first = pending_of(await dana.call_tool("create_call", call_args()))
            second = pending_of(await dana.call_tool("create_call", call_args(number="+12125550198")))
            async with signed_in(url, "alice", extensions=[APPS]) as alice:
                taken = await alice.call_tool(scopes.APPROVE_TOOL, {"id": first["id"]})
            approved = await dana.call_tool(scopes.APPROVE_TOOL, {"id": second["id"]})
    assert taken.is_error and "someone else" in result_text(taken)
    assert not approved.is_error, result_text(approved)
    rows = attempts(read_lines([settings.sandbox_audit_path]))
    sent = [row for row in rows if row["decision"] == "sent"]
    assert len(sent) == 1 and sent[0]["tenant"] == sent[0]["approvedBy"] == "oauth:dana" and sent[0]["channel"] == "app"
    assert any(row["tenant"] == "oauth:alice" and row["decision"] == "refused" for row in rows)
