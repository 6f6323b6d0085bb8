"""OAuth 2.1 for the HTTP transport (`--auth oauth`): this server is a resource server for a team's issuer.

Following the MCP authorization spec, built on the SDK's auth hooks (`TokenVerifier`, its bearer backend
and `RequireAuthMiddleware`, its Protected Resource Metadata routes):

- Protected Resource Metadata (RFC 9728) at `/.well-known/oauth-protected-resource/mcp` (and at the root
  well-known path) names the issuer and the scopes; a request without a valid access token is answered
  `401` with `WWW-Authenticate: Bearer ..., resource_metadata="..."`, so a client can discover the issuer,
  register, sign the person in (authorization code with PKCE) and retry.
- An access token is a JWT signed by a key the issuer publishes: the keys are found through the issuer's
  metadata (RFC 8414, else OpenID Connect discovery), cached, refreshed when they age and fetched again
  when a token names a key not in the cache (at most once per `refetch_interval`: a stream of made-up key
  ids cannot make this server hammer the issuer). Only asymmetric algorithms are accepted (never `none`,
  never an HMAC, which a public key would otherwise sign); `iss` must be the issuer, `aud` must name this
  server (RFC 8707: a token minted for another resource is refused), `exp` and `nbf` hold within
  `leeway` seconds, and `sub` is required: it is the person, the "who" of every audit line.
- Scopes (`vapi_mcp.scopes`) decide which tools a person sees and may call: a tool call without them is
  answered `403` with `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`.

The JOSE work (parsing, signature verification, claim checks) is joserfc's; nothing here is crypto.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2 as httpx
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp_types import ListToolsResult
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Route

from . import scopes as scopes_
from .config import ConfigError, Serving
from .web import is_loopback

logger = logging.getLogger("vapi_mcp.auth")

"""`--auth`: `token` (the default), one shared bearer token (`--auth-token`) or none on loopback; `oauth`,
each person signs in with the team's issuer."""
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
"""Signature algorithms accepted: asymmetric only. `none` and HS* are refused, whatever a token's header says."""
LEEWAY = 30
"""Seconds of clock difference allowed between the issuer and this server for `exp`, `nbf` and `iat`."""
KEYS_TTL = 600.0
"""Seconds the issuer's keys (and its metadata) are used before they are fetched again."""
REFETCH_INTERVAL = 10.0
"""Least seconds between two fetches prompted by tokens naming a key not in the cache."""
MAX_TOKEN_BYTES = 16 * 1024
MAX_DOCUMENT_BYTES = 1024 * 1024
"""The largest metadata or key set read from the issuer."""
MAX_BODY_BYTES = 4 * 1024 * 1024
"""The largest request body the scope check reads (the SDK's own limit for streamable HTTP)."""
ROOT_METADATA_PATH = "/.well-known/oauth-protected-resource"
ACCESS_TOKEN_TYPES = frozenset({"jwt", "at+jwt", "application/at+jwt"})
"""The header `typ` of an access token (RFC 9068's `at+jwt`; the plain `JWT` of Keycloak, Entra ID, Auth0); absent is
fine too. Any other (`logout+jwt`, `secevent+jwt`, `dpop+jwt`...) is another kind of token the issuer signs."""
ID_TOKEN_CLAIMS = ("at_hash", "c_hash", "s_hash")
"""Claims only an OpenID Connect ID token carries: such a token says who signed in to a client, and grants nothing here."""


@dataclass(frozen=True)
class OAuthConfig:
    """Where tokens come from and whom they must be for."""

    issuer: str
    """The authorization server's issuer identifier, exactly as its metadata states it."""
    resource: str
    """This server's MCP endpoint as clients reach it (`--public-url`): the resource of its metadata."""
    audience: str
    """What `aud` must contain: the resource URL unless the issuer names this server otherwise (`--oauth-audience`)."""
    leeway: int = LEEWAY
    keys_ttl: float = KEYS_TTL
    refetch_interval: float = REFETCH_INTERVAL

    @property
    def metadata_url(self) -> str:
        return str(build_resource_metadata_url(AnyHttpUrl(self.resource)))


# Settings: --auth, --oauth-issuer, --oauth-audience, --public-url (declared on `config.Serving`)


def oauth_config(ns: argparse.Namespace, serving: Serving) -> OAuthConfig | None:
    """The OAuth settings of `vapi-mcp serve`, checked; None unless `--auth oauth`."""
    if serving.auth != "oauth":
        return None
    if ns.transport != "http":
        raise ConfigError("--auth oauth serves streamable HTTP only: add --transport http (SSE clients cannot sign in).")
    issuer = (serving.oauth_issuer or "").strip()
    if not issuer:
        raise ConfigError("--auth oauth needs the issuer: --oauth-issuer / VAPI_MCP_OAUTH_ISSUER (e.g. https://login.example.com/realms/team).")
    _check_url(issuer, "--oauth-issuer / VAPI_MCP_OAUTH_ISSUER", issuer=True)
    public = (serving.public_url or "").strip()
    if not public:
        if not (is_loopback(ns.host) and ns.port):
            raise ConfigError(
                "--auth oauth needs the URL clients use for this server: --public-url / VAPI_MCP_PUBLIC_URL "
                "(e.g. https://mcp.example.com/mcp); tokens must be issued for it."
            )
        host = f"[{ns.host}]" if ":" in ns.host else ns.host
        public = f"http://{host}:{ns.port}/mcp"
    _check_url(public, "--public-url / VAPI_MCP_PUBLIC_URL")
    if urlsplit(public).path != "/mcp":
        raise ConfigError(f"--public-url / VAPI_MCP_PUBLIC_URL must end in /mcp, where this server answers, got {public!r}")
    audience = (serving.oauth_audience or "").strip() or public
    return OAuthConfig(issuer=issuer, resource=public, audience=audience)


def _check_url(url: str, setting: str, *, issuer: bool = False) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"{setting} must be an https:// URL, got {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(f"{setting} must be https:// (plain http is accepted on loopback only, for tests), got {url!r}")
    if issuer and (parts.query or parts.fragment):
        raise ConfigError(f"{setting}: an issuer has no query or fragment (RFC 8414), got {url!r}")


# The issuer's keys


class TokenRefused(Exception):
    """Why a token is not accepted (logged at INFO; the client only sees 401)."""


class IssuerKeys:
    """The issuer's signing keys: discovered from its metadata, cached, refreshed, fetched again for an unknown key."""

    def __init__(self, config: OAuthConfig, *, http: httpx.AsyncClient | None = None, clock: Any = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self._http = http
        self._keys: list[Any] = []
        self._jwks_uri: str | None = None
        self._fetched: float | None = None
        self._lock = anyio.Lock()

    async def key_for(self, kid: str | None, alg: str) -> Any | None:
        """The published key a token names (by `kid`; a token without one needs a set with a single key)."""
        now = self.clock()
        if self._fetched is None or now - self._fetched >= self.config.keys_ttl:
            await self._refresh(since=self._fetched)
        key = self._find(kid, alg)
        if key is None and self._fetched is not None and self.clock() - self._fetched >= self.config.refetch_interval:
            await self._refresh(since=self._fetched)  # rotated: the issuer may publish it by now
            key = self._find(kid, alg)
        return key

    def _find(self, kid: str | None, alg: str) -> Any | None:
        usable = [key for key in self._keys if key.get("use") in (None, "sig") and key.get("alg") in (None, alg)]
        if kid is None:
            return usable[0] if len(usable) == 1 else None
        return next((key for key in usable if key.kid == kid), None)

    async def _refresh(self, since: float | None) -> None:
        async with self._lock:
            if self._fetched != since:  # another request refreshed while this one waited
                return
            try:
                if self._jwks_uri is None or self._fetched is None or self.clock() - self._fetched >= self.config.keys_ttl:
                    self._jwks_uri = await self._discover()
                document = await self._get_json(self._jwks_uri)
                self._keys = _key_set(document)
            except (TokenRefused, httpx.HTTPError, ValueError) as exc:
                logger.warning("could not fetch the OAuth issuer's keys (%s): %s; keeping the %d cached", self.config.issuer, exc, len(self._keys))
            self._fetched = self.clock()  # a failure also waits its turn: an issuer that is down is not hammered

    async def _discover(self) -> str:
        """The issuer's `jwks_uri`: RFC 8414 metadata, else OpenID Connect discovery; its `issuer` must be ours."""
        issuer = self.config.issuer
        parts = urlsplit(issuer)
        path = parts.path.rstrip("/")
        candidates = [
            f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{path}",
            f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        ]
        problems = []
        for url in candidates:
            try:
                metadata = await self._get_json(url)
            except (httpx.HTTPError, ValueError, TokenRefused) as exc:
                problems.append(f"{url}: {exc}")
                continue
            if metadata.get("issuer") != issuer:
                raise TokenRefused(f"the metadata at {url} names the issuer {metadata.get('issuer')!r}, not {issuer!r}")
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise TokenRefused(f"the metadata at {url} has no jwks_uri")
            try:
                _check_url(jwks_uri, "the issuer's jwks_uri")
            except ConfigError as exc:
                raise TokenRefused(str(exc)) from None
            return jwks_uri
        raise TokenRefused("no issuer metadata found: " + "; ".join(problems))

    async def _get_json(self, url: str) -> dict[str, Any]:
        client = self._http or httpx.AsyncClient(timeout=10, follow_redirects=False)
        try:
            async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
                if response.status_code != 200:
                    raise TokenRefused(f"HTTP {response.status_code}")
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise TokenRefused(f"more than {MAX_DOCUMENT_BYTES} bytes")
        finally:
            if self._http is None:
                await client.aclose()
        document = json.loads(body)
        if not isinstance(document, dict):
            raise TokenRefused("not a JSON object")
        return document


def _key_set(document: dict[str, Any]) -> list[Any]:
    """The public signing keys of a JWKS; private or symmetric keys are never used (an `oct` key would let anyone
    who reads the set sign tokens)."""
    from joserfc.jwk import KeySet

    keys = [key for key in document.get("keys") or [] if isinstance(key, dict) and key.get("kty") in ("RSA", "EC", "OKP")]
    public = [{k: v for k, v in key.items() if k not in ("d", "p", "q", "dp", "dq", "qi", "oth")} for key in keys]
    return list(KeySet.import_key_set({"keys": public}).keys)


# Access tokens


class JwtVerifier:
    """The SDK's `TokenVerifier` for this server: a JWT access token from the issuer, for this server, in time."""

    def __init__(self, config: OAuthConfig, keys: IssuerKeys | None = None) -> None:
        self.config = config
        self.keys = keys or IssuerKeys(config)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            return await self._verify(token)
        except TokenRefused as exc:
            logger.info("bearer token refused: %s", exc)
            return None

    async def _verify(self, token: str) -> AccessToken:
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwt import JWTClaimsRegistry

        if len(token) > MAX_TOKEN_BYTES:
            raise TokenRefused("too long")
        header = _header(token)
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise TokenRefused(f"algorithm {alg!r} is not accepted (only {', '.join(ALGORITHMS)})")
        kid = header.get("kid")
        key = await self.keys.key_for(kid if isinstance(kid, str) else None, alg)
        if key is None:
            raise TokenRefused(f"no key {kid!r} is published by {self.config.issuer}")
        try:
            claims = jwt.decode(token, key, algorithms=[alg]).claims
            JWTClaimsRegistry(
                leeway=self.config.leeway,
                iss={"essential": True, "value": self.config.issuer},
                sub={"essential": True},
                exp={"essential": True},
            ).validate(claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise TokenRefused(f"{type(exc).__name__}: {exc}") from None
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else audiences if isinstance(audiences, list) else []
        if self.config.audience not in audiences:
            raise TokenRefused(f"issued for {audiences!r}, not for this server ({self.config.audience})")
        _check_kind(header, claims)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip() or len(subject) > 255 or not _printable(subject):
            raise TokenRefused("no usable subject (sub): missing, over 255 characters, or holding control or formatting characters")
        granted = claims.get("scope", claims.get("scp", ""))
        granted = granted.split() if isinstance(granted, str) else [s for s in granted if isinstance(s, str)] if isinstance(granted, list) else []
        client_id = claims.get("client_id") or claims.get("azp") or "unknown"
        return AccessToken(
            token=token,
            client_id=str(client_id),
            scopes=sorted(set(granted)),
            expires_at=int(claims["exp"]) + self.config.leeway,  # the SDK's own expiry check, with the same skew
            resource=self.config.audience,
            subject=subject,
            claims={"iss": claims["iss"], "sub": subject},
        )


def _check_kind(header: dict[str, Any], claims: dict[str, Any]) -> None:
    """Refuse a token the issuer signed for another purpose: only an access token signs a person in here."""
    kind = header.get("typ")
    if kind is not None and (not isinstance(kind, str) or kind.lower() not in ACCESS_TOKEN_TYPES):
        raise TokenRefused(f"a {kind!r} token is not an access token")
    if "cty" in header:
        raise TokenRefused("a nested token (cty) is not accepted")
    payload_kind = claims.get("typ")  # Keycloak types its tokens in the payload: Bearer (access), ID, Refresh, Logout
    if payload_kind is not None and (not isinstance(payload_kind, str) or payload_kind.lower() != "bearer"):
        raise TokenRefused(f"a {payload_kind!r} token is not an access token")
    if any(name in claims for name in ID_TOKEN_CLAIMS):
        raise TokenRefused("an OpenID Connect ID token is not an access token")


def _printable(text: str) -> bool:
    """No control, formatting (bidi, zero-width), private-use or unassigned character, and no line or paragraph
    separator: the subject is shown in the audit, the `vapi-mcp audit` table and the ledger as it is."""
    return not any(unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp") for ch in text)


def _header(token: str) -> dict[str, Any]:
    """The protected header of a JWS in compact form (three parts); anything else is refused."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRefused("not a signed JWT in compact form")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except ValueError:
        raise TokenRefused("unreadable header") from None
    if not isinstance(header, dict):
        raise TokenRefused("unreadable header")
    if header.get("crit"):
        raise TokenRefused("critical header parameters are not understood here")
    return header


# Who is asking: the signed-in person of a request


def signed_in(request: Any) -> AccessToken | None:
    """The verified access token of an HTTP request (None over stdio, in-process, or without OAuth)."""
    scope = getattr(request, "scope", None)
    user = scope.get("user") if isinstance(scope, dict) else None
    return user.access_token if isinstance(user, AuthenticatedUser) else None


def request_of(context: Any) -> Any:
    """The HTTP request an MCP request context came with, if any."""
    try:
        return context.request_context.request if context is not None else None
    except (AttributeError, ValueError):
        return None


# The HTTP layer


def tool_scope_table() -> dict[str, frozenset[str]]:
    """The scopes every call of each tool needs, the MCP Apps view's buttons included."""
    from .toolsets import catalogue

    table = {spec.name: scopes_.tool_scopes(spec.name, spec.read_only) for _, spec in catalogue()}
    table[scopes_.APPROVE_TOOL] = scopes_.tool_scopes(scopes_.APPROVE_TOOL, False)
    table[scopes_.DECLINE_TOOL] = scopes_.tool_scopes(scopes_.DECLINE_TOOL, False)
    return table


READ_METHODS = ("resources/read", "prompts/get")
"""Requests besides tool calls that read the account (a call's transcript): they need `vapi:read`."""


class ScopeCheck:
    """ASGI: a JSON-RPC request this token's scopes do not cover is answered 403 `insufficient_scope`, naming them."""

    def __init__(self, app: Any, table: Mapping[str, frozenset[str]], metadata_url: str) -> None:
        self.app = app
        self.table = table
        self.metadata_url = metadata_url

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay(b"", [message], receive), send)
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY_BYTES:
                await _json(send, 413, {"error": "payload_too_large", "error_description": f"the request body exceeds {MAX_BODY_BYTES} bytes"})
                return
        credentials = scope.get("auth")
        granted = frozenset(getattr(credentials, "scopes", None) or ())
        lacking = self._lacking(body, granted)
        if lacking:
            description = f"Required scope: {' '.join(lacking)}"
            header = f'Bearer error="insufficient_scope", scope="{" ".join(lacking)}", resource_metadata="{self.metadata_url}", error_description="{description}"'
            await _json(send, 403, {"error": "insufficient_scope", "error_description": description}, header)
            return
        await self.app(scope, _replay(body, [], receive), send)

    def _lacking(self, body: bytes, granted: frozenset[str]) -> list[str]:
        try:
            parsed = json.loads(body)
        except ValueError:
            return []  # not JSON: the SDK answers it
        needed: set[str] = set()
        for message in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(message, dict) or "id" not in message:
                continue
            method, params = message.get("method"), message.get("params")
            if method == "tools/call" and isinstance(params, dict) and isinstance(params.get("name"), str):
                needed |= self.table.get(params["name"], frozenset())
            elif method in READ_METHODS:
                needed.add(scopes_.READ)
        return scopes_.missing(needed, granted)


def _replay(body: bytes, pending: list[Any], receive: Any) -> Any:
    """A `receive` that gives the body already read (or the messages already taken), then the client's own."""
    queue = list(pending) or [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Any:
        return queue.pop(0) if queue else await receive()

    return replayed


async def _json(send: Any, status: int, body: dict[str, Any], www_authenticate: str | None = None) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if www_authenticate:
        headers.append((b"www-authenticate", www_authenticate.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class OAuthGate:
    """ASGI around the MCP app: the metadata, then every request with a verified token and the scopes it needs.

    Lifespan events go straight to the app (its session manager starts there)."""

    def __init__(self, app: Any, config: OAuthConfig, verifier: Any | None = None, table: Mapping[str, frozenset[str]] | None = None) -> None:
        self.config = config
        self.verifier = verifier or JwtVerifier(config)
        routes = create_protected_resource_routes(  # strings: the metadata model keeps a path-less issuer without a "/"
            resource_url=config.resource,  # type: ignore[arg-type]
            authorization_servers=[config.issuer],  # type: ignore[list-item]
            scopes_supported=list(scopes_.ALL),
            resource_name="vapi-mcp",
        )
        routes.append(Route(ROOT_METADATA_PATH, endpoint=routes[0].endpoint, methods=["GET", "OPTIONS"]))
        self.metadata_paths = frozenset(route.path for route in routes)
        self.metadata = Starlette(routes=routes)
        checked = ScopeCheck(AuthContextMiddleware(app), table if table is not None else tool_scope_table(), config.metadata_url)
        required = RequireAuthMiddleware(checked, [], AnyHttpUrl(config.metadata_url))
        self.protected = AuthenticationMiddleware(required, backend=BearerAuthBackend(self.verifier))
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["path"] in self.metadata_paths:
            await self.metadata(scope, receive, send)
        else:
            await self.protected(scope, receive, send)


def listing_by_scope(table: Mapping[str, frozenset[str]]) -> Any:
    """Server middleware: tools/list shows a signed-in person only the tools their scopes cover."""

    async def middleware(ctx: Any, call_next: Any) -> Any:
        result = await call_next(ctx)
        token = signed_in(getattr(ctx, "request", None)) if ctx.method == "tools/list" else None
        if token is None:
            return result
        granted = frozenset(token.scopes)
        allowed = {name for name, needed in table.items() if not scopes_.missing(needed, granted)}
        if isinstance(result, dict) and isinstance(result.get("tools"), list):
            return {**result, "tools": [tool for tool in result["tools"] if tool.get("name") in allowed]}
        if isinstance(result, ListToolsResult):
            return result.model_copy(update={"tools": [tool for tool in result.tools if tool.name in allowed]})
        return result

    return middleware


def protect(app: Any, server: Any, config: OAuthConfig) -> Any:
    """`app` (the MCP HTTP app of `server`) as a resource server of `config.issuer`."""
    table = tool_scope_table()
    server.middleware.append(listing_by_scope(table))
    return OAuthGate(app, config, table=table)
