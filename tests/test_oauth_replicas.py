"""A team deployment: two replicas (real `vapi-mcp serve --transport http --stateless --auth oauth` processes)
behind one issuer (a real OpenID provider) and one Redis, both on one `vapi-mcp sandbox` backend. A token from
one sign-in works on either replica; confirmations, the per-person cap and the scopes hold across them."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx

from tests.ledger_kit import CALLEE, CONFIRM_SECRET, call_args, calls_to, http_replicas, server_env
from tests.loopback import bound_socket
from tests.mcp_kit import result_json, result_text
from tests.oidc_kit import EVERYTHING, Issuer, MemoryStorage, balancer, running_issuer, signed_in
from vapi_mcp import scopes
from vapi_mcp.guard.audit import attempts, read_lines

PEOPLE = {"dana": [scopes.READ, scopes.CHANGE, scopes.DIAL], "bob": [scopes.READ, scopes.CHANGE], "alice": EVERYTHING}


async def test_two_replicas_behind_one_issuer_and_one_redis_agree(tmp_path: Path, vapi_backend: str, redis_url: str) -> None:
    sock = bound_socket()
    public = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"  # the load balancer's URL: every token is issued for it
    with running_issuer([public], PEOPLE) as issuer:
        env = server_env(
            tmp_path,
            vapi_backend,
            VAPI_MCP_STATE_URL=redis_url,
            VAPI_MCP_CONFIRM_SECRET=CONFIRM_SECRET,
            VAPI_MCP_AUTH="oauth",
            VAPI_MCP_OAUTH_ISSUER=issuer.url,
            VAPI_MCP_PUBLIC_URL=public,
            VAPI_MCP_DAILY_CAP_PER_PERSON="1",
        )
        with http_replicas(env) as (one, two):
            async with balancer(sock, [one.removesuffix("/mcp"), two.removesuffix("/mcp")]):
                await _team_works_across(one, two, public, issuer, vapi_backend)
    _audit_names_each_person(tmp_path)


ON_ONE, ON_TWO = {"X-Replica": "0"}, {"X-Replica": "1"}
"""The balancer sends a request that carries one of these to that replica (and any other in turn)."""


async def _team_works_across(one: str, two: str, public: str, issuer: Issuer, vapi_backend: str) -> None:
    """Each person signs in through the balancer, as a client would; then a client is pinned to one replica."""
    dana = MemoryStorage()
    async with signed_in(public, "dana", dana, headers=ON_ONE) as on_one:
        preview = result_json(await on_one.call_tool("create_call", call_args()))
    signed = dana.tokens.access_token if dana.tokens else None
    async with signed_in(public, "dana", dana, headers=ON_TWO) as on_two:  # the same sign-in, the other replica
        placed = await on_two.call_tool("create_call", call_args(confirmToken=preview["confirmToken"]))
        over_cap = await on_two.call_tool("create_call", call_args(number="+12125550198"))
    assert dana.tokens is not None and dana.tokens.access_token == signed, "no second sign-in was needed"
    async with signed_in(public, "alice", headers=ON_TWO) as alice:
        borrowed = await alice.call_tool("create_call", call_args(confirmToken=preview["confirmToken"]))
    async with signed_in(public, "bob") as bob:  # round robin: any replica
        refused = await bob.call_tool("create_call", call_args())
    async with httpx.AsyncClient(timeout=10) as http:
        foreign = issuer.mint({"aud": one})  # issued for one replica's own address, not the deployment's
        answers = [(await http.post(url, json={}, headers={"Authorization": f"Bearer {foreign}"})).status_code for url in (one, two)]

    assert not placed.is_error, result_text(placed)
    assert over_cap.is_error and "VAPI_MCP_DAILY_CAP_PER_PERSON" in result_text(over_cap), "her one dial today was used on the other replica"
    assert borrowed.is_error and "another person" in result_text(borrowed)
    assert refused.is_error and "vapi:dial" in result_text(refused)
    assert answers == [401, 401]
    assert len(calls_to(vapi_backend)) == 1, "one dial reached Vapi"
    assert calls_to(vapi_backend, CALLEE)


def _audit_names_each_person(tmp_path: Path) -> None:
    lines = read_lines(sorted((tmp_path / "state").glob("replica-*/audit*.jsonl")))
    rows = attempts(lines)
    sent = [row for row in rows if row["decision"] == "sent"]
    assert [row["tenant"] for row in sent] == ["oauth:dana"] and sent[0]["channel"] == "agent-relayed"
    assert any(row["tenant"] == "oauth:bob" and row["decision"] == "refused" and "vapi:dial" in row["error"] for row in rows)
    assert any(row["tenant"] == "oauth:alice" and row["decision"] == "refused" for row in rows)
    by_replica = {path.parent.name: {row["decision"] for row in attempts(read_lines([path]))} for path in (tmp_path / "state").glob("replica-*/audit.jsonl")}
    assert "previewed" in by_replica["replica-0"] and "sent" in by_replica["replica-1"], "previewed on one replica, confirmed on the other"
