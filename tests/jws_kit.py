"""An OAuth issuer in this process (its metadata and keys served by a Starlette app, reached through httpx's ASGI
transport: real HTTP semantics, no socket) and compact JWS tokens signed by hand, so a test can put any header or
claim in a token, however malformed, and ask this server's verifier what it makes of it."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx2 as httpx
from joserfc.jwk import ECKey
from joserfc.jws import JWSRegistry
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from vapi_mcp.auth import IssuerKeys, JwtVerifier, OAuthConfig

ISSUER = "https://login.example.com/realms/team"
RESOURCE = "https://mcp.example.com/mcp"
ES256 = JWSRegistry.algorithms["ES256"]


def key(kid: str = "key-1") -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": "ES256"}, private=True)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(signer: ECKey, claims: dict[str, Any] | None = None, header: dict[str, Any] | None = None) -> str:
    """A compact JWS signed with `signer` (ES256), with any header and claims: `None` values are left out."""
    now = int(time.time())
    body = {"iss": ISSUER, "sub": "alice", "aud": RESOURCE, "iat": now, "exp": now + 300, "scope": "vapi:read vapi:change", **(claims or {})}
    head = {"alg": "ES256", "kid": signer.kid, "typ": "at+jwt", **(header or {})}
    signing = ".".join(_b64(json.dumps({k: v for k, v in part.items() if v is not None}).encode()) for part in (head, body))
    return f"{signing}.{_b64(ES256.sign(signing.encode(), signer))}"



def issuer_app(keys: list[ECKey], metadata: dict[str, Any] | None = None) -> Starlette:
    """The issuer's RFC 8414 metadata and its JWKS (public keys only, or `metadata` as given)."""

    async def meta(_: Any) -> JSONResponse:
        return JSONResponse(metadata or {"issuer": ISSUER, "jwks_uri": "https://login.example.com/realms/team/keys"})

    async def jwks(_: Any) -> JSONResponse:
        return JSONResponse({"keys": [k.as_dict(private=False) for k in keys]})

    return Starlette(routes=[Route("/.well-known/oauth-authorization-server/realms/team", meta), Route("/realms/team/keys", jwks)])


def verifier(keys: list[ECKey], metadata: dict[str, Any] | None = None) -> JwtVerifier:
    """This server's verifier for `ISSUER`, whose keys it fetches from `issuer_app(keys)`."""
    config = OAuthConfig(issuer=ISSUER, resource=RESOURCE, audience=RESOURCE)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=issuer_app(keys, metadata)))
    return JwtVerifier(config, IssuerKeys(config, http=http))
