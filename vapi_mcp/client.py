"""The one HTTP client to Vapi: auth, timeouts, retries of safe requests, error mapping."""

from __future__ import annotations

import email.utils
import hashlib
import logging
import random
import time
import uuid
from typing import Any, Callable, Mapping

import anyio
import httpx2 as httpx
import orjson

from .destinations import label, uncleared
from .errors import InputError, Refused, VapiError
from .redact import redact_body

logger = logging.getLogger("vapi_mcp.client")

SAFE_METHODS = frozenset({"GET", "HEAD"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
SANDBOX_KEY = "sandbox-key"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
DOWNLOAD_LIMIT = 5 * 1024 * 1024
"""Bytes read of a downloaded artifact (a call log); the rest is cut off, and the result says so."""
READ_POSTS: dict[str, Callable[[Any], bool]] = {
    # AnalyticsQueryDTO: aggregate queries over calls; answers AnalyticsQueryResult[], stores nothing.
    "/analytics": lambda body: True,
    # StructuredOutputRunDTO.previewEnabled: "the call artifact will NOT be updated" (false reruns and overwrites).
    "/structured-output/run": lambda body: isinstance(body, dict) and body.get("previewEnabled") is True,
    # GenerateScenariosDTO -> GenerateScenariosResponse {scenarios, coverageNotes}: proposals, nothing created.
    "/eval/simulation/scenario/generate": lambda body: True,
}
"""The POSTs that only read, per Vapi's document, and the body that keeps each one a read.

A tool marks such a request `reads=True`; in dry-run mode the client lets it through only when it is
also listed here (a claim alone, or a listed path with a body that changes something, stays unsent).
"""


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


class DryRun(Exception):
    """Dry-run mode stopped a request that would change something: `result` shows what would have been sent."""

    def __init__(self, method: str, path: str, body: Any) -> None:
        super().__init__(f"dry run: {method} {path} not sent")
        self.result = {
            "dryRun": True,
            "decision": "dry-run",
            "wouldSend": {"method": method, "path": path, "body": redact_body(body)},
            "message": "Dry-run mode: nothing was sent to Vapi (no request that changes anything leaves this server).",
        }


def is_read(method: str, path: str, body: Any) -> bool:
    """True for a POST that Vapi's document says only reads (`READ_POSTS`), with a body that keeps it one."""
    keeps_it_a_read = READ_POSTS.get(path)
    return method == "POST" and keeps_it_a_read is not None and keeps_it_a_read(body)


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


PAYMENT_HINTS = {
    "insufficient_credits": "Add credits in the Vapi dashboard (Billing), then ask the user before running it again.",
    "billing_limit": "The account reached its billing limit: raise it in the Vapi dashboard (Billing), then ask the user before running it again.",
    "payment_method_missing": "Add a payment method in the Vapi dashboard (Billing), then ask the user before running it again.",
    "initial_payment_missing": "Make the initial payment in the Vapi dashboard (Billing), then ask the user before running it again.",
    "wallet_missing": "Set up billing for this organization in the Vapi dashboard (Billing), then ask the user before running it again.",
    "subscription_frozen": "The subscription is frozen: resolve it in the Vapi dashboard (Billing) or with Vapi support first.",
}
"""What to do about a 402, by SimulationRunPaymentRequiredResponse.reason."""


def _payment_reason(response: httpx.Response) -> str | None:
    try:
        reason = response.json().get("reason")
    except (ValueError, AttributeError):
        return None
    return reason if isinstance(reason, str) and reason.isidentifier() else None


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
        dry_run: bool = False,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "vapi-mcp"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.base_url = base_url.rstrip("/")
        self.account = hashlib.sha256(f"{self.base_url} {api_key}".encode()).hexdigest()[:16]
        """Which Vapi account this client acts on, without the key: confirm tokens are bound to it."""
        self.timeout = timeout
        self.dry_run = dry_run
        """No request other than GET/HEAD leaves in dry-run mode: it raises `DryRun` instead."""
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

    async def post(self, path: str, json: Any, *, check: str | None = None, reads: bool = False) -> Any:
        """`reads=True`: this POST only reads (one of `READ_POSTS`), so dry-run mode sends it."""
        return await self.request("POST", path, json=json, check=check, reads=reads)

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
        reads: bool = False,
    ) -> Any:
        """Send one request and return its JSON body.

        `check` tells the agent how to find out whether a create went through when
        the outcome is unknown (timeout or 5xx after the request may have arrived).
        `reads` marks a POST that only reads (see `READ_POSTS`): dry-run mode sends it.
        """
        safe = method in SAFE_METHODS
        if not safe:
            self._may_send(method, path, json, reads=reads)
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
        self._may_send("POST", "<controlUrl>", body)
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

    async def download(self, path: str, *, limit: int = DOWNLOAD_LIMIT) -> str:
        """The text of an artifact Vapi serves by redirect (`GET /call/{id}/call-logs` answers 302).

        The request to Vapi carries the key; the URL it redirects to is presigned, so it is
        followed once, never with the key (a storage host must not see it), and only over https
        (or, in sandbox mode, at the sandbox's own address). At most `limit` bytes are read.
        """
        first = await self._stream(self._http.build_request("GET", path), path)
        try:
            if first.status_code >= 400:
                await first.aread()
                raise self._status_error("GET", path, first, None)
            if first.status_code not in REDIRECTS:
                return await _read_text(first, limit, path)
            location = first.headers.get("location")
        finally:
            await first.aclose()
        if not location:
            raise VapiError(f"Vapi redirected GET {path} without saying where (no Location header).", hint="Try again later.")
        url = str(first.url.join(location))
        if not self._trusted_download_url(url):
            raise VapiError(
                f"Refusing to follow Vapi's redirect for {path}: the target is not https.",
                hint="Open the artifact from the Vapi dashboard instead.",
            )
        request = self._http.build_request("GET", url)
        request.headers.pop("Authorization", None)  # presigned: the key never goes to the storage host
        response = await self._stream(request, path)
        try:
            if response.status_code >= 400:
                await response.aread()
                raise VapiError(
                    f"The download Vapi redirected to for {path} failed with {response.status_code}.",
                    status=response.status_code,
                    hint="The presigned link may have expired; call again for a fresh one.",
                )
            if response.status_code in REDIRECTS:
                raise VapiError(f"The download for {path} redirected again; it is not followed further.", hint="Try again later.")
            return await _read_text(response, limit, path)
        finally:
            await response.aclose()

    async def _stream(self, request: httpx.Request, path: str) -> httpx.Response:
        try:
            with anyio.fail_after(self.timeout):
                return await self._http.send(request, stream=True)
        except (httpx.TransportError, TimeoutError) as exc:
            raise VapiError(f"Could not download {path} ({type(exc).__name__}).", hint="Nothing was changed; try again.") from None

    def _trusted_download_url(self, url: str) -> bool:
        if httpx.URL(url).scheme == "https":
            return True
        return url.startswith(self.base_url + "/") and not self.base_url.startswith("https://api.vapi.ai")
    def _may_send(self, method: str, path: str, body: Any, *, reads: bool = False) -> None:
        """The one gate every request that changes something passes: guarded destinations only, and nothing in dry-run.

        A body that carries a phone destination (a customer to call, a transfer or SMS destination)
        leaves only inside the guard block that checked and confirmed it (`destinations.cleared`).
        In dry-run mode only a POST that the tool marks `reads` and `READ_POSTS` lists as a read leaves.
        """
        stray = uncleared(path, body)
        if stray:
            shown = "; ".join(f"{label(f)} at {f.where}" for f in stray[:5])
            raise Refused(
                "guard",
                f"{method} {path} carries destinations that did not pass the confirmation guard ({shown}); nothing was sent.",
                hint="This is a defect in vapi-mcp (a tool sent a request without ToolContext.send); please report it.",
            )
        if self.dry_run and not (reads and is_read(method, path, body)):
            raise DryRun(method, path, body)

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
        if status == 402:
            reason = _payment_reason(response)
            return VapiError(
                f"Vapi refused {method} {path} for billing (402{': ' + reason if reason else ''}): nothing was started or charged.",
                status=status,
                vapi_messages=messages,
                hint=PAYMENT_HINTS.get(reason or "", PAYMENT_HINTS["insufficient_credits"]),
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


async def _read_text(response: httpx.Response, limit: int, path: str) -> str:
    """Up to `limit` bytes of the body as text; a longer body is cut at a line and marked."""
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    data = b"".join(chunks)
    if size <= limit:
        return data.decode("utf-8", "replace")
    kept = data[:limit].rsplit(b"\n", 1)[0]
    return kept.decode("utf-8", "replace") + f"\n[cut: {path} is larger than {limit // 1024} KiB]\n"


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
