"""A real OpenID provider on loopback (node-oidc-provider from npm, `tests/oidc/provider.mjs`), people signing in
through the MCP SDK's own OAuth client, and tokens made by hand with the issuer's own key for the refusals.

The provider is installed with npm at test time into a cache folder kept between runs (`VAPI_MCP_TEST_CACHE`,
default `~/.cache/vapi-mcp-tests`). Without node and npm the tests are skipped outside CI and fail under CI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2 as httpx
from joserfc import jwt
from joserfc.jwk import ECKey
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from tests.ledger_kit import wait_for_port
from tests.loopback import free_port, running, stop
from tests.npm_kit import npm_installed
from vapi_mcp import scopes, web
from vapi_mcp.cli import auth_token, http_app, parser
from vapi_mcp.server import build_server

PROVIDER_VERSION = "9.13.3"
SCRIPT = Path(__file__).resolve().parent / "oidc" / "provider.mjs"
EVERYTHING = list(scopes.ALL)
REDIRECT_URI = "http://127.0.0.1:9/callback"
"""Where the provider sends the browser back with the code; nothing listens there: the test reads the redirect."""


def provider_dir() -> Path:
    """node-oidc-provider installed (once) in the cache, with this test's script beside it."""
    folder = npm_installed("oidc-provider", PROVIDER_VERSION, "to run the OpenID provider")
    shutil.copy(SCRIPT, folder / "provider.mjs")
    return folder


def signing_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": "ES256"}, private=True)


@dataclass
class Issuer:
    """A running oidc-provider: its issuer URL, its keys (the first signs), the accounts and their allowed scopes."""

    folder: Path
    resources: list[str]
    accounts: dict[str, list[str]]
    keys: list[ECKey]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, keys: list[ECKey] | None = None) -> None:
        """Start (or restart, with `keys` now published) the provider on its port."""
        self.stop()
        if keys is not None:
            self.keys = keys
        config = {
            "issuer": self.url,
            "port": self.port,
            "jwks": {"keys": [key.as_dict(private=True) for key in self.keys]},
            "resources": self.resources,
            "accounts": self.accounts,
            "accessTokenTTL": 300,
        }
        path = self.folder / f"config-{self.port}.json"
        path.write_text(json.dumps(config))
        self.process = subprocess.Popen(["node", "provider.mjs", str(path)], cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_port(self.port, self.process, "the OpenID provider")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def mint(self, claims: dict[str, Any], *, key: ECKey | None = None, header: dict[str, Any] | None = None) -> str:
        """A token signed with the issuer's own key (or `key`), with the claims a test wants."""
        key = key or self.keys[0]
        now = int(time.time())
        body = {"iss": self.url, "sub": "alice", "aud": self.resources[0], "iat": now, "exp": now + 300, "scope": " ".join(EVERYTHING), "client_id": "c", **claims}
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "at+jwt", **(header or {})}, body, key)


@contextmanager
def running_issuer(resources: list[str], accounts: dict[str, list[str]]) -> Iterator[Issuer]:
    issuer = Issuer(provider_dir(), resources, accounts, [signing_key("key-1")])
    try:
        issuer.start()
        yield issuer
    finally:
        issuer.stop()


class MemoryStorage:
    """The SDK client's token storage, in memory (share one between clients: one person, one sign-in)."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class Browser:
    """What a person's browser does for the provider here: open the authorization URL and follow redirects (cookies
    kept) until the provider sends it back to the client's redirect URI with the code."""

    def __init__(self, person: str) -> None:
        self.person = person
        self.result: AuthorizationCodeResult | None = None
        self.visited: list[str] = []

    async def open(self, authorization_url: str) -> None:
        url = f"{authorization_url}&{urlencode({'login_hint': self.person})}"
        async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
            for _ in range(20):
                self.visited.append(url)
                response = await browser.get(url)
                location = response.headers.get("location")
                if response.status_code not in (302, 303) or location is None:
                    raise AssertionError(f"the provider answered {response.status_code} at {url}: {response.text[:500]}")
                url = str(httpx.URL(url).join(location))
                if url.startswith(REDIRECT_URI):
                    query = parse_qs(urlsplit(url).query)
                    if "error" in query:
                        raise AssertionError(f"the provider refused: {query}")
                    self.result = AuthorizationCodeResult(code=query["code"][0], state=query.get("state", [None])[0], iss=query.get("iss", [None])[0])
                    return
        raise AssertionError(f"no redirect back to the client after {self.visited}")

    async def callback(self) -> AuthorizationCodeResult:
        assert self.result is not None, "the browser never came back with a code"
        return self.result


def oauth_client(server_url: str, person: str, storage: MemoryStorage | None = None, **kwargs: Any) -> tuple[OAuthClientProvider, Browser]:
    """The MCP SDK's OAuth client for `server_url`, signing `person` in through the provider (`kwargs`: the SDK's
    `OAuthClientProvider` options)."""
    browser = Browser(person)
    metadata = OAuthClientMetadata(
        redirect_uris=[REDIRECT_URI],
        token_endpoint_auth_method="none",
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        client_name=f"vapi-mcp tests ({person})",
    )
    provider = OAuthClientProvider(
        server_url, metadata, storage or MemoryStorage(), redirect_handler=browser.open, callback_handler=browser.callback, **kwargs
    )
    return provider, browser


@asynccontextmanager
async def signed_in(
    server_url: str, person: str, storage: MemoryStorage | None = None, *, headers: dict[str, str] | None = None, **client_kwargs: Any
) -> AsyncIterator[Client]:
    """An MCP client of `server_url` for `person`: discovery, registration, authorization code with PKCE, token
    (none of it again when `storage` already holds a valid token). `headers` go with every request."""
    auth, _ = oauth_client(server_url, person, storage)
    async with (
        httpx.AsyncClient(auth=auth, timeout=30, headers=headers) as http,
        Client(streamable_http_client(server_url, http_client=http), **client_kwargs) as client,
    ):
        yield client


@asynccontextmanager
async def oauth_server(sock: Any, issuer: str, *flags: str, settings: Any, sandbox: Any) -> AsyncIterator[str]:
    """`vapi-mcp serve --transport http --auth oauth --oauth-issuer <issuer>` on the bound socket `sock` (its port is
    the public URL's, known before the issuer starts); the server's /mcp URL."""
    port = sock.getsockname()[1]
    ns = parser().parse_args(["serve", "--transport", "http", "--auth", "oauth", "--oauth-issuer", issuer, "--port", str(port), *flags])
    token = auth_token(ns)
    server, app = build_server(settings, sandbox=sandbox)
    config = web.config(http_app(server, ns, token, settings.http), "127.0.0.1", port, settings.http, lifespan="on")
    try:
        async with running(web.Server(config), sock):
            yield f"http://127.0.0.1:{port}/mcp"
    finally:
        await app.aclose()


@asynccontextmanager
async def balancer(sock: Any, replicas: list[str]) -> AsyncIterator[str]:
    """An HTTP load balancer on the bound socket `sock`, in front of `replicas` (base URLs): each request goes, whole,
    to the next replica in turn, or to the one its `X-Replica` header names (tests pin a client). Its base URL."""
    from starlette.requests import Request
    from starlette.responses import Response

    turn = [0]
    hop = {"host", "content-length", "connection", "transfer-encoding", "keep-alive", "x-replica"}

    async def forward(request: Request) -> Response:
        pinned = request.headers.get("x-replica", "")
        target = replicas[int(pinned) % len(replicas)] if pinned.isdigit() else replicas[turn[0] % len(replicas)]
        turn[0] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() not in hop}
        async with httpx.AsyncClient(timeout=60) as upstream:
            answer = await upstream.request(request.method, f"{target}{request.url.path}", params=request.query_params, headers=headers, content=await request.body())
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in hop | {"content-encoding"}}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    import uvicorn

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await (await forward(Request(scope, receive)))(scope, receive, send)

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    async with running(server, sock):
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
