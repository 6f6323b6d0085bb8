"""Red team, round four: who is asking. OAuth tokens as an attacker shapes them, the subject an issuer lets a person
choose as it reaches the audit and the ledger, CORS and the Host check as browsers can be made to send them, and the
sandbox's own HTTP server on loopback.

Each test is an attack; those that broke through say so in their docstring ("Before: ..."), the others held and are
kept so they keep holding.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2 as httpx
import pytest

from tests.jws_kit import ISSUER, RESOURCE, key, token, verifier
from vapi_mcp.guard.audit import is_by, table

# tokens: what the verifier makes of each


async def verified(signer: Any, keys: list[Any] | None = None, **parts: Any) -> Any:
    """The access token the verifier accepts (None: refused, which the HTTP layer answers 401)."""
    return await verifier(keys if keys is not None else [signer]).verify_token(token(signer, **parts))


async def test_a_well_formed_token_is_accepted() -> None:
    """The baseline every refusal below is measured against: the same key, the same claims, accepted."""
    signer = key()
    accepted = await verified(signer)
    assert accepted is not None and accepted.subject == "alice" and accepted.scopes == ["vapi:change", "vapi:read"]


@pytest.mark.parametrize(
    "subject",
    [
        "alice\n2026-12-07 09:00:00  create_call  local @acct  sent",  # a forged row of `vapi-mcp audit`
        "\x1b[2J\x1b[Halice",  # terminal escapes: clear the screen of whoever reads the audit
        "alice\u202e",  # a bidi override: what follows it on the line reads backwards
        "ali\u200bce",  # a zero-width space: "alice" to the eye, another person to the ledger
        "alice\u2028bob",  # a line separator
    ],
    ids=["newline", "ansi", "bidi", "zero-width", "line separator"],
)
async def test_a_subject_with_control_or_format_characters_is_refused(subject: str) -> None:
    """Before: accepted. `sub` is the person in every audit line, the `vapi-mcp audit` table, the per-person cap and
    `approvedBy`: an issuer that lets people pick their subject (a username) let one forge rows of the audit table or
    pass for someone else."""
    assert await verified(key(), claims={"sub": subject}) is None


@pytest.mark.parametrize("subject", ["local", "http:server-key", "x-vapi-key:acct"])
async def test_a_subject_named_like_another_tenant_stays_a_signed_in_person(subject: str) -> None:
    """Held: the tenant is `oauth:<sub>`, never the bare name, so `sub: local` is not the stdio user."""
    accepted = await verified(key(), claims={"sub": subject})
    assert accepted is not None and accepted.subject == subject


@pytest.mark.parametrize(
    ("header", "claims"),
    [
        ({"typ": "logout+jwt"}, {}),  # a logout token (OpenID back-channel logout)
        ({"typ": "secevent+jwt"}, {}),  # a security event token
        ({"typ": "dpop+jwt"}, {}),  # a DPoP proof
        ({"cty": "JWT"}, {}),  # a nested JWT: the signed payload is another token
        ({"typ": "JWT"}, {"typ": "ID"}),  # Keycloak's ID token
        ({"typ": "JWT"}, {"typ": "Refresh"}),  # Keycloak's refresh token
        ({"typ": "JWT"}, {"at_hash": "x8Jx3aF2", "nonce": "n-0S6_WzA2Mj"}),  # an OpenID ID token (at_hash is theirs alone)
    ],
    ids=["logout", "secevent", "dpop", "nested", "keycloak id", "keycloak refresh", "oidc id token"],
)
async def test_a_token_that_is_not_an_access_token_is_refused(header: dict[str, Any], claims: dict[str, Any]) -> None:
    """Before: accepted. The issuer signs ID tokens, logout tokens and refresh tokens with the same keys; one whose
    audience names this server (`--oauth-audience` set to a client id, as Keycloak's audience mapper does) signed a
    person in without any access token."""
    assert await verified(key(), header=header, claims=claims) is None


@pytest.mark.parametrize(
    ("header", "claims"),
    [({"typ": None}, {}), ({"typ": "JWT"}, {}), ({"typ": "at+JWT"}, {}), ({"typ": "application/at+jwt"}, {}), ({"typ": "JWT"}, {"typ": "Bearer"})],
    ids=["no typ", "JWT", "at+JWT", "application/at+jwt", "keycloak access"],
)
async def test_access_tokens_as_issuers_type_them_are_accepted(header: dict[str, Any], claims: dict[str, Any]) -> None:
    """Held (the other side of the refusal above): RFC 9068's `at+jwt`, and the plain `JWT` that Keycloak, Entra ID
    and Auth0 put on their access tokens."""
    assert await verified(key(), header=header, claims=claims) is not None


async def test_keys_a_token_brings_along_are_never_used() -> None:
    """Held: `jwk`, `jku`, `x5u` and `x5c` headers name the attacker's own key; only the issuer's published key
    verifies, so a token signed with the attacker's key under the issuer's key id is refused."""
    issuer, attacker = key("key-1"), key("key-1")
    public = attacker.as_dict(private=False)
    for header in ({"jwk": public}, {"jku": "https://attacker.example/jwks"}, {"x5u": "https://attacker.example/cert.pem"}, {"x5c": ["MIIB"]}):
        assert await verified(attacker, keys=[issuer], header=header) is None, header


@pytest.mark.parametrize(
    "header",
    [{"kid": "../../../../etc/passwd"}, {"kid": "key-1' OR '1'='1"}, {"kid": "key-1\u0000"}, {"crit": ["exp"]}, {"crit": "b64"}, {"alg": "none"}, {"alg": "HS256"}],
    ids=["kid path", "kid sql", "kid nul", "crit", "crit string", "alg none", "hs256"],
)
async def test_headers_that_name_no_published_key_or_need_what_is_not_understood_are_refused(header: dict[str, Any]) -> None:
    """Held: a `kid` is only ever compared with the issuer's published key ids (never a path or a query), `crit`
    parameters are not understood here, and only asymmetric algorithms verify."""
    assert await verified(key(), header=header) is None


async def test_an_oversized_token_is_refused_before_it_is_parsed() -> None:
    """Held: 16 KiB at most (the request line and headers are 16 KiB anyway)."""
    assert await verified(key(), claims={"padding": "x" * 20_000}) is None


async def test_duplicate_key_ids_in_the_issuers_set_do_not_let_another_key_sign() -> None:
    """Held: the issuer published two keys under one id; only a token of the first verifies, and a key the issuer
    never published still does not, whatever its id."""
    first, second, stranger = key("key-1"), key("key-1"), key("key-1")
    assert await verified(first, keys=[first, second]) is not None
    assert await verified(stranger, keys=[first, second]) is None


@pytest.mark.parametrize(
    ("claims", "accepted"),
    [
        ({"exp": -20}, True),  # within the 30 s of clock skew
        ({"exp": -40}, False),
        ({"nbf": 20}, True),
        ({"nbf": 40}, False),
        ({"exp": "+300"}, False),  # a string is no time
        ({"exp": True}, False),  # a boolean is no time (Python's True == 1)
        ({"iat": 3600}, False),  # issued in the future
        ({"exp": None}, False),
    ],
    ids=["exp-20s", "exp-40s", "nbf+20s", "nbf+40s", "exp string", "exp bool", "iat future", "no exp"],
)
async def test_times_hold_to_the_second_with_thirty_seconds_of_skew(claims: dict[str, Any], accepted: bool) -> None:
    """Held: clock skew edges (offsets from now, in seconds)."""
    now = int(time.time())
    timed = {k: now + v if isinstance(v, int) and not isinstance(v, bool) else str(now + 300) if v == "+300" else v for k, v in claims.items()}
    assert (await verified(key(), claims=timed) is not None) is accepted


@pytest.mark.parametrize(
    ("claims", "granted"),
    [
        ({"scope": "vapi:read vapi:dial"}, ["vapi:dial", "vapi:read"]),
        ({"scope": ["vapi:read", "vapi:dial", 7]}, ["vapi:dial", "vapi:read"]),  # an array (some issuers), non-strings dropped
        ({"scope": None, "scp": "vapi:read vapi:dial"}, ["vapi:dial", "vapi:read"]),  # Entra ID's `scp`
        ({"scope": "vapi:read", "scp": ["vapi:dial", "vapi:delete"]}, ["vapi:read"]),  # `scope` wins: never the union
        ({"scope": "", "scp": ["vapi:dial"]}, []),  # an empty `scope` is no scope, not a cue to read `scp`
        ({"scope": "vapi:read,vapi:dial"}, ["vapi:read,vapi:dial"]),  # commas are no separator: matches no scope
        ({"scope": "VAPI:DIAL vapi:d\u0456al"}, ["VAPI:DIAL", "vapi:d\u0456al"]),  # case and a Cyrillic i: other scopes
        ({"scope": {"vapi:dial": True}}, []),
    ],
    ids=["space", "array", "scp", "scope wins", "empty scope", "commas", "look-alikes", "object"],
)
async def test_scopes_are_read_as_the_issuer_wrote_them_and_never_widened(claims: dict[str, Any], granted: list[str]) -> None:
    """Held: scope spoofing."""
    accepted = await verified(key(), claims=claims)
    assert accepted is not None and accepted.scopes == granted


async def test_the_issuers_keys_may_live_on_another_https_host_but_never_on_plain_http() -> None:
    """Held, by design: RFC 8414 metadata fetched over TLS from the issuer names its `jwks_uri` (Google's keys live on
    www.googleapis.com); a plain-http one off loopback is refused, and so the token."""
    signer = key()
    elsewhere = verifier([signer], {"issuer": ISSUER, "jwks_uri": "https://keys.example.net/realms/team/keys"})
    plain = verifier([signer], {"issuer": ISSUER, "jwks_uri": "http://keys.example.net/realms/team/keys"})
    other_issuer = verifier([signer], {"issuer": "https://login.attacker.example", "jwks_uri": "https://login.example.com/realms/team/keys"})
    assert await elsewhere.verify_token(token(signer)) is not None
    assert await plain.verify_token(token(signer)) is None
    assert await other_issuer.verify_token(token(signer)) is None


async def test_a_token_for_another_resource_is_refused_and_one_for_several_is_not() -> None:
    """Held (RFC 8707): `aud` must name this server; an audience list that includes it is the issuer's own choice."""
    signer = key()
    assert await verified(signer, claims={"aud": "https://other.example.com/mcp"}) is None
    assert await verified(signer, claims={"aud": ["https://other.example.com/mcp", RESOURCE]}) is not None
    assert await verified(signer, claims={"aud": RESOURCE + "/"}) is None


# the subject as the audit shows it


def test_the_audit_table_shows_control_characters_as_text() -> None:
    """Before: `vapi-mcp audit` printed a row's fields as they were, so a subject (or an id Vapi answered with) that
    held a newline or a terminal escape forged rows, or cleared the screen, of the person reading the audit."""
    forged = "alice\n2026-12-07 09:00:00  delete_assistant  local @acct  sandbox  declined"
    printed = table([{"time": "2026-12-07T09:00:00Z", "tool": "create_call", "tenant": f"oauth:{forged}", "decision": "sent", "ids": ["id\x1b[2J"]}])
    assert printed.count("\n") == 1, printed
    assert "\x1b" not in printed and "\\n2026-12-07" in printed and "\\x1b[2J" in printed


@pytest.mark.parametrize(
    ("who", "tenant", "matches"),
    [
        ("local", "local", True),
        ("local", "oauth:local", False),
        ("http:server-key", "oauth:http:server-key", False),
        ("oauth:local", "oauth:local", True),
        ("alice", "oauth:alice", True),
        ("alice", "local", False),
    ],
)
def test_vapi_mcp_audit_who_tells_the_local_user_from_a_person_called_local(who: str, tenant: str, matches: bool) -> None:
    """Before: `--who local` (and `--who http:server-key`) also listed the attempts of a signed-in person whose
    subject was `local`: the user reviewing what their own sessions did saw someone else's dials as theirs."""
    assert is_by({"tenant": tenant}, who) is matches


# browsers: CORS and the Host check


async def test_a_simple_request_from_a_page_on_another_origin_changes_nothing(settings: Any, sandbox: Any) -> None:
    """Held: a POST a browser sends without a preflight (text/plain, form-encoded) from a page on an unlisted origin
    is refused by the Origin check (403) or, from another loopback port, by the MCP transport (400: not JSON); none
    reaches a tool."""
    from tests.loopback import serving

    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "create_assistant", "arguments": {"name": "Planted"}}})
    answers = []
    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
        async with httpx.AsyncClient(timeout=10) as http:
            for origin in ("https://attacker.example", "http://localhost:6274", "null"):
                for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
                    answer = await http.post(f"{base}/mcp", content=body, headers={"Origin": origin, "Content-Type": kind, "Accept": "application/json, text/event-stream"})
                    answers.append((origin, kind, answer.status_code))
    assert all(status in (400, 403) for _, _, status in answers), answers
    assert all(status == 403 for origin, _, status in answers if origin != "http://localhost:6274"), answers
    assert [r for r in sandbox.requests if r.method != "GET"] == []


@pytest.mark.parametrize(
    "origin",
    ["HTTPS://APP.EXAMPLE.COM.", "https://app.example.com.", "https://app.example.com:444", "http://app.example.com", "null",
     "https://xn--pp-7ka.example.com", "https://app.example.com@attacker.example", "https://attacker.example#https://app.example.com"],
)
async def test_an_origin_spelled_like_an_allowed_one_gets_no_cors(origin: str, settings: Any, sandbox: Any) -> None:
    """Held: a trailing dot, another port or scheme, `null`, a punycode look-alike, userinfo or a fragment is another
    origin: no preflight passes and no answer names it."""
    import dataclasses

    from tests.loopback import serving

    allowed = dataclasses.replace(settings, allowed_origins=("https://app.example.com",))
    async with serving("--transport", "http", "--stateless", settings=allowed, sandbox=sandbox) as base:
        async with httpx.AsyncClient(timeout=10) as http:
            preflight = await http.options(f"{base}/mcp", headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
            post = await http.post(f"{base}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Origin": origin, "Accept": "application/json, text/event-stream"})
    assert preflight.status_code == 403, (origin, preflight.status_code)
    assert "access-control-allow-origin" not in preflight.headers and "access-control-allow-origin" not in post.headers


async def test_no_answer_lets_a_page_send_credentials(settings: Any, sandbox: Any) -> None:
    """Held: a preflight for a credentialed request (cookies) from an allowed origin gets no
    `Access-Control-Allow-Credentials`, so the browser never sends cookies or reads a credentialed answer."""
    import dataclasses

    from tests.loopback import serving

    allowed = dataclasses.replace(settings, allowed_origins=("https://app.example.com",))
    async with serving("--transport", "http", "--stateless", settings=allowed, sandbox=sandbox) as base:
        async with httpx.AsyncClient(timeout=10) as http:
            preflight = await http.options(
                f"{base}/mcp", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, cookie"}
            )
            plain = await http.options(f"{base}/mcp", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403 and "cookie" in preflight.json()["message"]
    assert plain.status_code == 204 and "access-control-allow-credentials" not in plain.headers


async def test_the_sandbox_control_route_is_not_served_by_the_mcp_server(settings: Any, sandbox: Any) -> None:
    """Held: `/sandbox/clock` belongs to the sandbox's own API; the MCP HTTP server answers 404 for it, with or
    without an `X-Vapi-Key`."""
    from tests.loopback import serving

    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
        async with httpx.AsyncClient(timeout=10) as http:
            moved = await http.post(f"{base}/sandbox/clock", json={"advanceSeconds": 86400}, headers={"X-Vapi-Key": "a-real-looking-key-123"})
            read = await http.get(f"{base}/sandbox/clock")
    assert moved.status_code == 404 and read.status_code == 404
    assert sandbox.store.clock_offset == 0


# the sandbox's own HTTP server (`vapi-mcp sandbox --port`)


async def test_the_served_sandbox_cannot_be_reached_by_dns_rebinding_or_a_foreign_page(vapi_backend: str) -> None:
    """Before: `vapi-mcp sandbox --port` answered any Host ("any bearer key works"), so a web page that rebound its
    own name to 127.0.0.1 read and wrote the world every stdio server of the user shares (planting an assistant
    whose prompt speaks to the agent that reads it), and moved its clock. Loopback names and addresses only now, and
    no Origin but a loopback page's."""
    port = vapi_backend.rsplit(":", 1)[1]
    bearer = {"Authorization": "Bearer any-key"}
    async with httpx.AsyncClient(timeout=10) as http:
        own = await http.get(f"{vapi_backend}/assistant", headers=bearer)
        local_name = await http.get(f"http://localhost:{port}/assistant", headers=bearer)
        rebound = await http.get(f"{vapi_backend}/assistant", headers={**bearer, "Host": f"rebinding.attacker.example:{port}"})
        moved = await http.post(f"{vapi_backend}/sandbox/clock", json={"advanceSeconds": 86400}, headers={**bearer, "Host": f"rebinding.attacker.example:{port}"})
        planted = await http.post(
            f"{vapi_backend}/assistant", json={"name": "Read me first"}, headers={**bearer, "Origin": "https://attacker.example"}
        )
        listed = await http.get(f"{vapi_backend}/assistant", headers=bearer)
    assert own.status_code == 200 and local_name.status_code == 200
    assert rebound.status_code == 421 and moved.status_code == 421
    assert planted.status_code == 403
    assert "Read me first" not in {a.get("name") for a in listed.json()}


# the scope check reads each request as the MCP SDK will


@pytest.mark.parametrize(
    "body",
    [
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_calls","name":"delete_assistant","arguments":{}}}',
        b'{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"delete_assistant","arguments":{}}}',
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_assistant","arguments":{}},"id":null}',
        b'\xef\xbb\xbf{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_assistant","arguments":{}}}',
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_assistant","arguments":{}}}'.encode("utf-16"),
        b'[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_assistant"}}]',
    ],
    ids=["duplicate name", "duplicate method", "duplicate id", "bom", "utf-16", "batch"],
)
def test_a_request_shaped_to_read_one_way_here_and_another_in_the_sdk_still_needs_its_scopes(body: bytes) -> None:
    """Held: the scope check and the SDK parse a body alike where both can (the last duplicate key wins in both), and
    a body only the scope check can read (a BOM, UTF-16) still needs the scopes, though the SDK then refuses it."""
    from vapi_mcp.auth import ScopeCheck, tool_scope_table

    check = ScopeCheck(None, tool_scope_table(), "https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
    assert check._lacking(body, frozenset({"vapi:read"})) == ["vapi:change", "vapi:delete"]
