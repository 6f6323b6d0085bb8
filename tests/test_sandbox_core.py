"""The sandbox's gate and shared validation answer like api.vapi.ai does."""

from __future__ import annotations

import uuid

import httpx2 as httpx
import pytest

from vapi_mcp.sandbox import Sandbox
from vapi_mcp.sandbox.validation import Num, Obj, Str, validate


@pytest.fixture
def sandbox(either_world: Sandbox) -> Sandbox:
    """Every test here runs on a world in memory and on one in an SQLite file."""
    return either_world


BAD_REQUEST = {"error": "Bad Request", "statusCode": 400}


@pytest.mark.parametrize("authorization", [None, "", "Bearer ", "Basic abc"])
async def test_no_bearer_key_is_401(api: httpx.AsyncClient, authorization: str | None) -> None:
    del api.headers["Authorization"]
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await api.get("/call", headers=headers)
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401
    assert response.json()["error"] == "Unauthorized"


async def test_live_control_url_needs_no_key(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    del api.headers["Authorization"]
    response = await api.post(f"/call/{uuid.uuid4()}/control", json={"type": "end-call"})
    assert response.status_code != 401
    assert sandbox.requests[-1].path.endswith("/control")


async def test_recorded_headers_leave_out_the_key(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await api.get("/call")
    recorded = sandbox.requests[-1]
    assert (recorded.method, recorded.path) == ("GET", "/call")
    assert "authorization" not in recorded.headers


async def test_unknown_route_is_404_in_vapis_shape(api: httpx.AsyncClient) -> None:
    response = await api.get("/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"message": "Cannot GET /no-such-thing", "error": "Not Found", "statusCode": 404}


async def test_unknown_call_id_is_404(api: httpx.AsyncClient) -> None:
    response = await api.get(f"/call/{uuid.uuid4()}")
    assert response.status_code == 404
    body = response.json()
    assert body["statusCode"] == 404 and body["error"] == "Not Found"
    assert "Call" in body["message"]


async def test_malformed_id_is_400(api: httpx.AsyncClient) -> None:
    response = await api.get("/call/not-a-uuid")
    assert response.status_code == 400
    assert response.json() == {"message": ["id must be a UUID"], **BAD_REQUEST}


async def test_list_limit_over_1000_is_rejected(api: httpx.AsyncClient) -> None:
    response = await api.get("/call", params={"limit": 1001})
    assert response.status_code == 400
    assert response.json() == {"message": ["limit must not be greater than 1000"], **BAD_REQUEST}
    assert (await api.get("/call", params={"limit": 1000})).status_code == 200


async def test_unknown_query_parameter_is_rejected(api: httpx.AsyncClient) -> None:
    response = await api.get("/call", params={"foo": "1"})
    assert response.json() == {"message": ["property foo should not exist"], **BAD_REQUEST}


def test_object_rule_refuses_undeclared_properties() -> None:
    rule = Obj({"name": Str(max_len=40), "count": Num(maximum=3)}, required=("name",))
    assert validate(rule, {"name": "ok", "foo": 1}) == ["property foo should not exist"]
    assert validate(rule, {"name": "x" * 41}) == ["name must be shorter than or equal to 40 characters"]
    assert validate(rule, {"count": 4}) == ["name should not be empty", "count must not be greater than 3"]
    assert validate(rule, {"name": "ok", "count": 3}) == []


def test_nested_object_errors_name_the_path() -> None:
    rule = Obj({"customer": Obj({"number": Str()})})
    assert validate(rule, {"customer": {"number": "+14155550100", "foo": 1}}) == ["customer.property foo should not exist"]


@pytest.mark.parametrize(
    ("fault_body", "content_type"),
    [(None, "application/json"), (b"<html>oops</html>", "text/html")],
)
async def test_injected_fault_answers_once(api: httpx.AsyncClient, sandbox: Sandbox, fault_body: bytes | None, content_type: str) -> None:
    from vapi_mcp.sandbox import Fault

    sandbox.inject(Fault("GET", "/call", status=503, retry_after=2, body=fault_body))
    first = await api.get("/call")
    assert first.status_code == 503
    assert first.headers["retry-after"] == "2"
    assert first.headers["content-type"].startswith(content_type)
    assert (await api.get("/call")).status_code == 200


async def test_the_request_log_keeps_only_the_latest_requests(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    """A long-running sandbox (`vapi-mcp sandbox`, or the embedded one behind an HTTP server) keeps its memory:
    it remembers its latest requests, not every request since it started."""
    from vapi_mcp.sandbox import REQUEST_LOG

    for i in range(REQUEST_LOG + 200):
        await api.get("/call", params={"limit": str(i % 1000 + 1)})
    assert len(sandbox.requests) == REQUEST_LOG
    assert [r.query["limit"] for r in sandbox.requests[:2]] == ["201", "202"]
    assert sandbox.requests_to("GET", "/call")[-1].query["limit"] == str((REQUEST_LOG + 199) % 1000 + 1)


def test_every_route_is_reached_by_its_own_paths() -> None:
    """The one route order (`sandbox.routes()`): no route hides another, whatever module it comes from
    (`/eval/run` and `/eval/simulation/...` are not taken for `/eval/{id}`)."""
    from starlette.routing import Match, Route

    from vapi_mcp.sandbox import ROUTES

    for route in ROUTES:
        assert isinstance(route, Route)
        path = route.path.replace("{id}", str(uuid.uuid4())).replace("{itemId}", str(uuid.uuid4()))
        for method in route.methods or ():
            scope = {"type": "http", "path": path, "method": method, "root_path": ""}
            first = next(r for r in ROUTES if r.matches(scope)[0] == Match.FULL)
            assert first is route, f"{method} {route.path} is taken by {first.path}"  # type: ignore[attr-defined]


async def test_an_endpoint_runs_alone_with_the_sandbox_in_the_apps_state(sandbox: Sandbox) -> None:
    """An endpoint is a module-level function of the request: it runs in an app of its own, no gate, no other route."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    from vapi_mcp.sandbox import assistants, chat
    from vapi_mcp.sandbox.core import stamp

    riley = stamp(sandbox, name="Riley")
    sandbox.store.assistants[riley["id"]] = riley
    app = Starlette(routes=[Route("/assistant/{id}", assistants.ASSISTANTS.get_item), Route("/chat", chat.create_chat, methods=["POST"])])
    app.state.sandbox = sandbox
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://alone") as alone:
        got = await alone.get(f"/assistant/{riley['id']}")
        said = await alone.post("/chat", json={"assistantId": riley["id"], "input": "Hello?"})
    assert got.status_code == 200 and got.json()["name"] == "Riley"
    assert said.status_code == 200 and said.json()["output"][0]["content"] == "Hello, this is Riley. How can I help you today?"
    assert len(sandbox.store.chats) == 1 and sandbox.requests == []  # the gate never saw it


def test_vapis_default_personalities_are_put_in_by_the_store() -> None:
    """Built-in objects are the world's, not a side effect of building routes: a bare store holds them, and after a reset too."""
    from vapi_mcp.sandbox import built_in
    from vapi_mcp.sandbox.simulations import DEFAULT_PERSONALITIES
    from vapi_mcp.sandbox.store import Store

    store = Store(built_in=built_in())
    assert set(store.personalities) == set(DEFAULT_PERSONALITIES)
    riley = {"id": str(uuid.uuid4()), "name": "Riley", "orgId": "org"}
    store.assistants[riley["id"]] = riley
    assert store.counts() == {"assistants": 1}
    assert store.reset() == {"assistants": 1}
    assert set(store.personalities) == set(DEFAULT_PERSONALITIES) and not store.assistants


async def test_a_discriminator_that_is_not_a_string_is_a_400_naming_it(api: httpx.AsyncClient) -> None:
    """A list or an object where a union's tag belongs (`provider`, an eval message's `role`) was looked up as a
    dictionary key and crashed the request (a 500); it is Vapi's 400 naming the field."""
    number = await api.post("/phone-number", json={"provider": ["vapi"]})
    message = await api.post("/eval", json={"type": "chat.mockConversation", "messages": [{"role": {"x": 1}, "content": "hi"}]})
    assert number.status_code == 400 and number.json()["message"] == ["provider must be one of the following values: vapi, twilio, vonage, telnyx, byo-phone-number"]
    assert message.status_code == 400 and message.json()["message"] == ["messages.0.role must be one of the following values: assistant, system, tool, user"]


@pytest.mark.parametrize(("path", "query", "body"), [("/call", {"limit": "NaN"}, None), ("/sandbox/clock", None, b'{"advanceSeconds": NaN}'), ("/assistant", None, b'{"maxDurationSeconds": Infinity}')])
async def test_a_number_that_is_not_finite_is_a_400(api: httpx.AsyncClient, path: str, query: dict[str, str] | None, body: bytes | None) -> None:
    """NaN passed every bound and then crashed the request (`?limit=NaN` was a 500); Vapi's IsNumber refuses it."""
    if body is None:
        response = await api.get(path, params=query)
    else:
        response = await api.post(path, content=body, headers={"content-type": "application/json"})
    field = "limit" if query else body.split(b'"')[1].decode()
    assert response.status_code == 400 and response.json()["message"] == [f"{field} must be a number conforming to the specified constraints"]
