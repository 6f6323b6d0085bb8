"""The one HTTP client to Vapi: auth, timeouts, retries of safe requests, error mapping."""

from __future__ import annotations

import email.utils
import hashlib
import logging
import random
import time
import uuid
from typing import Any, Mapping

import anyio
import httpx2 as httpx
import orjson

from .errors import InputError, VapiError

logger = logging.getLogger("vapi_mcp.client")

SAFE_METHODS = frozenset({"GET", "HEAD"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
SANDBOX_KEY = "sandbox-key"


def vapi_id(value: str, field: str = "id") -> str:
    """Return `value` if it is a Vapi id (a UUID); refuse anything that could steer a URL."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise InputError(field, f"must be a Vapi id (a UUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6), got {value!r:.60}")
    if str(parsed) != value.lower():
        raise InputError(field, "must be a Vapi id in canonical UUID form (8-4-4-4-12 hex digits)")
    return value


class RetryPolicy:
    """Bounded, jittered exponential backoff that honours Retry-After."""

    def __init__(self, attempts: int = 4, base: float = 0.25, cap: float = 4.0, budget: float = 20.0) -> None:
        self.attempts = attempts
        self.base = base
        self.cap = cap
        self.budget = budget

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.budget)
        return random.uniform(0, min(self.cap, self.base * 2**attempt))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _vapi_messages(response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    message = body.get("message")
    if isinstance(message, list):
        return [str(m) for m in message][:10]
    if isinstance(message, str):
        return [message]
    return [str(body["error"])] if isinstance(body.get("error"), str) else []


class VapiClient:
    """Talks to api.vapi.ai, or to the embedded sandbox through the same code path."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "vapi-mcp"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.base_url = base_url.rstrip("/")
        self.account = hashlib.sha256(f"{self.base_url} {api_key}".encode()).hexdigest()[:16]
        """Which Vapi account this client acts on, without the key: confirm tokens are bound to it."""
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, json: Any, *, check: str | None = None) -> Any:
        return await self.request("POST", path, json=json, check=check)

    async def patch(self, path: str, json: Any) -> Any:
        return await self.request("PATCH", path, json=json)

    async def delete(self, path: str, json: Any = None) -> Any:
        return await self.request("DELETE", path, json=json)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        check: str | None = None,
    ) -> Any:
        """Send one request and return its JSON body.

        `check` tells the agent how to find out whether a create went through when
        the outcome is unknown (timeout or 5xx after the request may have arrived).
        """
        safe = method in SAFE_METHODS
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                # httpx's timeouts bound each phase; this bounds the whole exchange (and holds in-process too).
                with anyio.fail_after(self.timeout):
                    response = await self._http.request(method, path, params=query or None, json=json)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached Vapi, so any request may be tried again.
                if self._may_retry(attempt, started, None):
                    await self._sleep(attempt, None)
                    attempt += 1
                    continue
                raise VapiError(
                    f"Could not connect to Vapi at {self.base_url} ({type(exc).__name__}).",
                    hint="Nothing was sent. Check the network or VAPI_BASE_URL, then try again.",
                    sent=False,
                ) from None
            except (httpx.TimeoutException, TimeoutError):
                if safe and self._may_retry(attempt, started, None):
                    await self._sleep(attempt, None)
                    attempt += 1
                    continue
                raise self._unknown_outcome(method, path, "Vapi did not answer in time", check) from None
            except httpx.TransportError as exc:
                if safe and self._may_retry(attempt, started, None):
                    await self._sleep(attempt, None)
                    attempt += 1
                    continue
                raise self._unknown_outcome(method, path, f"The connection to Vapi failed ({type(exc).__name__})", check) from None

            logger.debug("%s %s -> %s (%.0f ms)", method, path, response.status_code, (time.monotonic() - started) * 1000)
            if response.status_code in RETRY_STATUSES and safe:
                retry_after = _retry_after(response)
                if self._may_retry(attempt, started, retry_after):
                    await self._sleep(attempt, retry_after)
                    attempt += 1
                    continue
            if response.status_code >= 400:
                raise self._status_error(method, path, response, check)
            if response.status_code == 204 or not response.content:
                return None
            try:
                return orjson.loads(response.content)
            except ValueError:
                raise VapiError(
                    f"Vapi answered {method} {path} with {response.status_code} but the body is not JSON "
                    f"(content-type {response.headers.get('content-type', 'none')!r}).",
                    status=response.status_code,
                    hint="This is unexpected; try again, and if it persists check VAPI_BASE_URL.",
                ) from None

    async def control(self, url: str, body: Any) -> Any:
        """POST to a call's live-control URL (from `monitor.controlUrl`), without the API key.

        The URL comes from a response, so it is untrusted: only Vapi's own https hosts
        (or, in sandbox mode, the sandbox's own base URL) are followed.
        """
        if not self._trusted_control_url(url):
            raise VapiError(
                "Refusing to follow the call's control URL: it is not on a Vapi domain over https.",
                hint="End the call from the Vapi dashboard instead.",
            )
        request = self._http.build_request("POST", url, json=body)
        request.headers.pop("Authorization", None)
        try:
            with anyio.fail_after(self.timeout):
                response = await self._http.send(request)
        except (httpx.TransportError, TimeoutError) as exc:
            raise VapiError(f"Could not reach the call's control URL ({type(exc).__name__}).", hint="Try again.") from None
        if response.status_code >= 400:
            raise self._status_error("POST", "<controlUrl>", response, None)
        try:
            return response.json() if response.content else None
        except ValueError:
            return None

    def _trusted_control_url(self, url: str) -> bool:
        parsed = httpx.URL(url)
        if parsed.scheme == "https" and (parsed.host == "vapi.ai" or parsed.host.endswith(".vapi.ai")):
            return True
        return url.startswith(self.base_url + "/") and not self.base_url.startswith("https://api.vapi.ai")

    def _may_retry(self, attempt: int, started: float, retry_after: float | None) -> bool:
        if attempt + 1 >= self.retry.attempts:
            return False
        elapsed = time.monotonic() - started
        return elapsed + (retry_after or 0.0) <= self.retry.budget

    async def _sleep(self, attempt: int, retry_after: float | None) -> None:
        await anyio.sleep(self.retry.delay(attempt, retry_after))

    def _unknown_outcome(self, method: str, path: str, what: str, check: str | None) -> VapiError:
        if method in SAFE_METHODS:
            return VapiError(f"{what} for {method} {path}.", hint="Nothing was changed. Try again in a moment.")
        return VapiError(
            f"{what} for {method} {path}: the request may or may not have taken effect.",
            hint=(check or "Check the current state with the matching list or get tool before trying again.")
            + " It was not retried automatically, so that nothing happens twice.",
        )

    def _status_error(self, method: str, path: str, response: httpx.Response, check: str | None) -> VapiError:
        status = response.status_code
        messages = _vapi_messages(response)
        if status in (401, 403):
            return VapiError(
                f"Vapi refused the API key ({status}): it is missing, wrong or lacks permission.",
                status=status,
                hint="Set VAPI_API_KEY (or VAPI_TOKEN) to your private API key from the Vapi dashboard and restart the server.",
            )
        if status == 404:
            return VapiError(
                f"Not found ({method} {path}).",
                status=status,
                vapi_messages=messages,
                hint="Check the id; the list tools show the ids that exist.",
            )
        if status == 429:
            after = _retry_after(response)
            wait = f" after {after:.0f} s" if after is not None else " in a moment"
            return VapiError(
                "Vapi is rate limiting requests (429).",
                status=status,
                vapi_messages=messages,
                hint=f"Nothing was changed by this request; try again{wait}.",
            )
        if status >= 500 and method not in SAFE_METHODS:
            error = self._unknown_outcome(method, path, f"Vapi failed with {status}", check)
            error.status = status
            error.vapi_messages = messages
            return error
        if status >= 500:
            return VapiError(
                f"Vapi failed with {status} on {method} {path}.",
                status=status,
                vapi_messages=messages,
                hint="Nothing was changed. Try again in a moment.",
            )
        return VapiError(
            f"Vapi rejected {method} {path} ({status}).",
            status=status,
            vapi_messages=messages,
            hint="Fix what Vapi names above and try again; nothing was changed.",
        )


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
