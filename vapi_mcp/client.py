"""The one HTTP client to Vapi: auth, timeouts, retries of safe requests, error mapping.

It judges no request, but refuses what no tool may send: a path segment that could steer the path
(`segment`), a destination the guard did not clear, anything that changes something in dry-run mode,
and, while a tool runs (`declared`), any request that tool does not declare in its `sends` (`Routes`).
"""

from __future__ import annotations

import email.utils
import hashlib
import importlib
import json as json_module
import logging
import math
import random
import re
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import anyio
import httpx2 as httpx
import orjson

from .config import Settings
from .destinations import label, uncleared
from .errors import EarlyResult, InputError, Refused, VapiError
from .redact import redact

logger = logging.getLogger("vapi_mcp.client")

SAFE_METHODS = frozenset({"GET", "HEAD"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
SANDBOX_KEY = "sandbox-key"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
DOWNLOAD_LIMIT = 5 * 1024 * 1024
"""Bytes read of a downloaded artifact (a call log); the rest is cut off, and the result says so."""
DEFAULT_MAX_RESPONSE_BYTES = Settings.max_response_bytes
MAX_QUERY_VALUE = 1024
"""Characters in one query parameter: Vapi's filters are ids, timestamps and numbers."""
MAX_RETRY_AFTER = 86_400.0

_ANY: Any = object()
"""`expect` left to the default for the method and path."""

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


def preload_wire() -> None:
    """Import the wire to Vapi (`vapi_mcp.transport`, aiohttp: ~130 ms) on a thread, once; requests go
    through httpx2's own transport until it is loaded, so no request waits for it. `VapiClient` starts
    it after its first answer: an import holds the GIL, and would slow a request (or the stdio
    start) it ran beside."""
    global _preloading
    if _preloading is None:
        # Not a daemon: the interpreter waits for the import to end before it exits, rather than freezing the
        # thread inside the import lock, where any import made while exiting (a warning's) would wait forever.
        _preloading = threading.Thread(target=_import_wire, name="vapi-mcp-preload", daemon=False)
        _preloading.start()


def _import_wire() -> None:
    try:
        importlib.import_module("vapi_mcp.transport")
    except ImportError:  # without aiohttp, httpx2's transport serves every request
        logger.warning("aiohttp is not importable; requests to Vapi use httpx2's own transport")


_preloading: threading.Thread | None = None


def loaded_wire() -> Any:
    """`vapi_mcp.transport.AiohttpWire` once that module is imported whole; None while it loads (or never)."""
    module = sys.modules.get("vapi_mcp.transport")
    return module.AiohttpWire if module is not None and getattr(module, "LOADED", False) else None


def _proxied(base_url: str) -> bool:
    """Whether HTTP(S)_PROXY / ALL_PROXY may apply to `base_url`: then httpx2 (which honours them and NO_PROXY) sends everything."""
    proxies = urllib.request.getproxies_environment()
    return bool(proxies.get(base_url.split(":", 1)[0].lower()) or proxies.get("all"))
def _key_identity(api_key: str | None) -> str:
    """The key as an account identity: Vapi's keys are UUIDs, and `ABC...`, `abc...` and `{abc...}` are one UUID
    (one account, so one daily cap); any other key as it is."""
    try:
        return str(uuid.UUID(api_key or ""))
    except ValueError:
        return api_key or ""


SEGMENT_RULE = "a path segment must be one whole segment: not empty, '.' or '..', and without %, ?, # or /"


def segment_problem(value: str) -> bool:
    """True when `value` cannot be one segment of a request path: it is empty, `.` or `..`, or holds `%`, `?`,
    `#` or `/` (each would let it reach another path, a query or a fragment)."""
    return value in ("", ".", "..") or any(ch in value for ch in "%?#/")


def segment(value: str, name: str = "id") -> str:
    """`value` to be put in a request path as one segment (`f"/call/{segment(x)}"`), or `Refused` naming `name`.

    For a value that is not a `VapiId` argument (those are checked when the arguments are validated)."""
    if not isinstance(value, str) or segment_problem(value):
        raise Refused("path", f"`{name}` ({str(value)[:60]!r}) cannot be put in a request path: {SEGMENT_RULE}; nothing was sent.")
    return value


def _check_path(method: str, path: str) -> None:
    """Refuse a request path with a segment that could steer it (see `segment_problem`); nothing is sent."""
    if not path.startswith("/") or any(segment_problem(part) for part in path[1:].split("/")):
        raise Refused("path", f"{method} {path[:120]!r}: {SEGMENT_RULE}; nothing was sent.", hint="Ids in a path are Vapi ids (UUIDs).")


METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
CONTROL_URL = "<controlUrl>"
"""The template of a live call's control URL (`monitor.controlUrl`, from Vapi's answer): `POST <controlUrl>`."""
_PLACEHOLDER = re.compile(r"\{[^{}/]+\}")


@dataclass(frozen=True)
class Route:
    """A request a tool sends: a method and a path template as Vapi's document writes it (`GET /call/{id}`)."""

    method: str
    template: str

    @classmethod
    def parse(cls, text: str) -> Route:
        """`"GET /call/{id}"` as a Route; `ValueError` for anything else."""
        method, _, template = text.partition(" ")
        if method not in METHODS or not (template == CONTROL_URL or template.startswith("/") and " " not in template):
            raise ValueError(f"a request is declared as 'METHOD /path/{{placeholder}}' (or 'POST {CONTROL_URL}'), got {text!r}")
        return cls(method, template)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def reads(self) -> bool:
        """True when every request to this route only reads: a GET, or a POST that Vapi's document says reads
        whatever its body says (`READ_POSTS`; `/structured-output/run` reads only with `previewEnabled`)."""
        keeps_it_a_read = READ_POSTS.get(self.template) if self.method == "POST" else None
        return self.method in SAFE_METHODS or keeps_it_a_read is not None and keeps_it_a_read({})

    def pattern(self) -> str:
        """A regular expression for `"METHOD /path"`: each `{placeholder}` stands for one path segment."""
        parts = _PLACEHOLDER.split(self.template)
        return re.escape(self.method + " ") + "[^/]+".join(re.escape(part) for part in parts)


class Routes:
    """The requests one tool declares it sends (its `sends`); while it runs, the client sends no other."""

    def __init__(self, tool: str, routes: Iterable[Route]) -> None:
        self.tool = tool
        self.routes = tuple(routes)
        self._match = re.compile("|".join(route.pattern() for route in self.routes) or "(?!)").fullmatch

    def __iter__(self) -> Iterator[Route]:
        return iter(self.routes)

    def allows(self, method: str, path: str) -> bool:
        return self._match(f"{method} {path}") is not None


DECLARED: ContextVar[Routes | None] = ContextVar("vapi_mcp_declared", default=None)
"""The requests the running tool declares (`declared`); None outside a tool call (resources, the CLI)."""


@contextmanager
def declared(routes: Routes) -> Iterator[None]:
    """Within it, a request that `routes` does not declare is refused and not sent."""
    token = DECLARED.set(routes)
    try:
        yield
    finally:
        DECLARED.reset(token)


CONVERSATION_NOTE = "sandboxNote"
"""Where a tool result says, once, the embedded sandbox's note that its conversation is drawn by rule."""
NOTE_HEADER = "x-sandbox-note"
"""The response header by which the sandbox says that note (its `conversation.NOTE_HEADER`)."""
NOTES: ContextVar[list[str] | None] = ContextVar("vapi_mcp_sandbox_notes", default=None)
"""The sandbox's notes met by the running tool (`sandbox_notes`); None elsewhere."""


@contextmanager
def sandbox_notes() -> Iterator[list[str]]:
    """Within it, the sandbox note of every answer read is collected, once each, so a tool result
    can say it once however many answers carried it."""
    notes: list[str] = []
    token = NOTES.set(notes)
    try:
        yield notes
    finally:
        NOTES.reset(token)


def _check_declared(method: str, path: str) -> None:
    routes = DECLARED.get()
    if routes is not None and not routes.allows(method, path):
        raise Refused(
            "sends",
            f"{routes.tool} tried to send {method} {path[:120]}, a request it does not declare; nothing was sent.",
            hint="This is a defect in vapi-mcp (the tool's `sends` misses a request); please report it.",
        )


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


class DryRun(EarlyResult):
    """Dry-run mode stopped a request that would change something: `result` shows what would have been sent."""

    def __init__(self, method: str, path: str, body: Any) -> None:
        result = {
            "dryRun": True,
            "decision": "dry-run",
            "wouldSend": {"method": method, "path": path, "body": redact(body)},
            "message": "Dry-run mode: nothing was sent to Vapi (no request that changes anything leaves this server).",
        }
        super().__init__(f"dry run: {method} {path} not sent", result)


def is_read(method: str, path: str, body: Any) -> bool:
    """True for a POST that Vapi's document says only reads (`READ_POSTS`), with a body that keeps it one."""
    keeps_it_a_read = READ_POSTS.get(path)
    return method == "POST" and keeps_it_a_read is not None and keeps_it_a_read(body)


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date); None when absent or unreadable."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:  # "-0000": a UTC time with no known zone
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def _vapi_messages(content: bytes) -> list[str]:
    try:
        body = orjson.loads(content) if content else None
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


def _payment_reason(content: bytes) -> str | None:
    try:
        reason = orjson.loads(content).get("reason")
    except (ValueError, AttributeError):
        return None
    return reason if isinstance(reason, str) and reason.isidentifier() else None


@dataclass
class Answer:
    """Vapi's answer, read whole (up to the size cap)."""

    status: int
    headers: httpx.Headers
    content: bytes


class TooLarge(Exception):
    """The answer passed the size cap; it was not read to the end."""


async def read_capped(chunks: AsyncIterable[bytes], declared: str | None, limit: int) -> bytes:
    """A body, read as it arrives, unless it is (or says it is) larger than `limit` bytes: then `TooLarge`."""
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise TooLarge
        parts.append(chunk)
    return b"".join(parts)


_PLAIN_PATH = re.compile(r"/[A-Za-z0-9/_.~-]*")
"""A path httpx2 would send as it is (nothing to percent-encode): such a request may skip httpx2's request object."""


def _json_bytes(value: Any) -> bytes:
    """A JSON body exactly as httpx2 encodes one."""
    return json_module.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


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
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "vapi-mcp"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.base_url = base_url.rstrip("/")
        self.account = hashlib.sha256(f"{self.base_url} {_key_identity(api_key)}".encode()).hexdigest()[:16]
        """Which Vapi account this client acts on, without the key: confirm tokens and the daily cap are bound to it."""
        self.timeout = timeout
        self.dry_run = dry_run
        """No request other than GET/HEAD leaves in dry-run mode: it raises `DryRun` instead."""
        self.retry = retry or RetryPolicy()
        self.max_response_bytes = max_response_bytes
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=False,
        )
        self._wire: Any = None
        """The aiohttp wire (`vapi_mcp.transport`): the tools' requests to a real Vapi, at a third of httpx2's CPU each."""
        self._wants_wire = transport is None and self.base_url.isascii() and not _proxied(self.base_url)
        self._headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._http.headers.raw]
        self._json_headers = [*self._headers, ("Content-Type", "application/json")]

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._wire is not None:
            await self._wire.aclose()

    async def get(self, path: str, params: Mapping[str, Any] | None = None, *, expect: Any = _ANY) -> Any:
        """GET `path`: an object for one item (`/call/{id}`), a list or a page object for a collection, unless `expect` narrows it."""
        return await self.request("GET", path, params=params, expect=expect)

    async def post(self, path: str, json: Any, *, check: str | None = None, expect: Any = _ANY, reads: bool = False) -> Any:
        """`reads=True`: this POST only reads (one of `READ_POSTS`), so dry-run mode sends it."""
        return await self.request("POST", path, json=json, check=check, expect=expect, reads=reads)

    async def patch(self, path: str, json: Any, *, check: str | None = None, expect: Any = _ANY) -> Any:
        return await self.request("PATCH", path, json=json, check=check, expect=expect)

    async def delete(self, path: str, json: Any = None, *, check: str | None = None, expect: Any = _ANY) -> Any:
        return await self.request("DELETE", path, json=json, check=check, expect=expect)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        check: str | None = None,
        expect: Any = _ANY,
        reads: bool = False,
    ) -> Any:
        """Send one request and return its JSON body.

        Only a clean answer is a result: 2xx with JSON of the `expect`ed type (by default an
        object for a GET of one item, a POST or a PATCH; a list or an object for a GET of a
        collection; an object or nothing for a DELETE). Anything else after a request that changes
        something may have reached Vapi, so it is "outcome unknown", with `check` telling the
        agent how to find out (e.g. "list_calls createdAtGe=..."); it is never retried.
        `reads` marks a POST that only reads (see `READ_POSTS`): dry-run mode sends it.
        """
        _check_path(method, path)
        _check_declared(method, path)
        safe = method in SAFE_METHODS
        if not safe:
            self._may_send(method, path, json, reads=reads)
        query = _query(params)
        shape = _expected_shape(method, path) if expect is _ANY else expect
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                # httpx's timeouts bound each phase; this bounds the whole exchange (and holds in-process too).
                with anyio.fail_after(self.timeout):
                    answer = await self._exchange(method, path, query, json)
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
            except TooLarge:
                raise self._too_large(method, path, check) from None
            except httpx.DecodingError:
                raise self._odd_answer(method, path, "Vapi's answer could not be decoded (its content-encoding is broken)", check) from None
            except httpx.InvalidURL as exc:
                raise VapiError(f"Could not build the URL for {method} {path} ({exc}).", hint="Nothing was sent.") from None
            except httpx.TransportError as exc:
                if safe and self._may_retry(attempt, started, None):
                    await self._sleep(attempt, None)
                    attempt += 1
                    continue
                raise self._unknown_outcome(method, path, f"The connection to Vapi failed ({type(exc).__name__})", check) from None

            status = answer.status
            logger.debug("%s %s -> %s (%.0f ms)", method, path, status, (time.monotonic() - started) * 1000)
            if status in RETRY_STATUSES and safe:
                retry_after = _retry_after(answer.headers)
                if self._may_retry(attempt, started, retry_after):
                    await self._sleep(attempt, retry_after)
                    attempt += 1
                    continue
            if status >= 400:
                raise self._status_error(method, path, answer, check)
            if not 200 <= status < 300:
                what = f"Vapi answered {status} instead of a result"
                if 300 <= status < 400:
                    what += f" (a redirect{' to ' + _host_of(answer.headers['location']) if answer.headers.get('location') else ''})"
                raise self._odd_answer(method, path, what, check, hint="Check VAPI_BASE_URL (https://api.vapi.ai).")
            return self._body(method, path, answer, shape, check)

    async def upload(self, path: str, *, file: tuple[str, bytes, str], fields: Mapping[str, str], check: str | None = None) -> Any:
        """POST a `multipart/form-data` body (Vapi's POST /file): `file` is (filename, content, MIME type), `fields`
        the form's other fields. Like every create it is never retried once it may have reached Vapi; errors map as
        `request`'s do. Dry-run mode sends nothing (the result shows the file's name and size, not its content)."""
        _check_path("POST", path)
        _check_declared("POST", path)
        name, content, mime = file
        self._may_send("POST", path, {"file": {"filename": name, "bytes": len(content), "mimetype": mime}, **fields})
        request = self._http.build_request("POST", path, files={"file": (name, content, mime)}, data=dict(fields))
        started = time.monotonic()
        try:
            with anyio.fail_after(self.timeout):
                answer = await self._send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise VapiError(
                f"Could not connect to Vapi at {self.base_url} ({type(exc).__name__}).",
                hint="Nothing was sent. Check the network or VAPI_BASE_URL, then try again.",
                sent=False,
            ) from None
        except (httpx.TimeoutException, TimeoutError):
            raise self._unknown_outcome("POST", path, "Vapi did not answer in time", check) from None
        except TooLarge:
            raise self._too_large("POST", path, check) from None
        except httpx.TransportError as exc:
            raise self._unknown_outcome("POST", path, f"The connection to Vapi failed ({type(exc).__name__})", check) from None
        logger.debug("POST %s (multipart) -> %s (%.0f ms)", path, answer.status, (time.monotonic() - started) * 1000)
        if answer.status >= 400:
            raise self._status_error("POST", path, answer, check)
        if not 200 <= answer.status < 300:
            raise self._odd_answer("POST", path, f"Vapi answered {answer.status} instead of a result", check, hint="Check VAPI_BASE_URL (https://api.vapi.ai).")
        return self._body("POST", path, answer, dict, check)

    def _body(self, method: str, path: str, answer: Answer, shape: Any, check: str | None) -> Any:
        """The JSON of a 2xx answer, if it is what the request expects."""
        if not answer.content.strip():
            data = None
        else:
            try:
                data = orjson.loads(answer.content)
            except ValueError:
                what = (
                    f"Vapi answered {answer.status} but the body is not JSON "
                    f"(content-type {answer.headers.get('content-type', 'none')!r})"
                )
                raise self._odd_answer(method, path, what, check, hint="If it persists, check VAPI_BASE_URL.") from None
        notes = NOTES.get()
        note = answer.headers.get(NOTE_HEADER) if notes is not None else None
        if notes is not None and note and note not in notes:
            notes.append(note)
        if shape is None or isinstance(data, shape):
            asked = path.rstrip("/").rsplit("/", 1)[-1]
            if method in SAFE_METHODS and isinstance(data, dict) and _is_id(asked) and data.get("id") not in (None, asked):
                # What the guard shows the human (names, numbers) must be the object the request acts on.
                raise self._odd_answer(method, path, f"Vapi answered with another object (id {str(data['id'])[:40]!r})", check)
            return data
        got = "nothing" if data is None else f"a JSON {_json_kind(data)}"
        wanted = " or ".join(f"a JSON {_json_kind(t())}" for t in (shape if isinstance(shape, tuple) else (shape,)) if t is not type(None))
        raise self._odd_answer(method, path, f"Vapi answered {answer.status} with {got} where {wanted} was expected", check)

    async def _exchange(self, method: str, path: str, query: dict[str, Any], json: Any) -> Answer:
        """Send, and read the answer up to `max_response_bytes` (streamed: a huge body is never held whole)."""
        wire = self._wire
        if wire is None and self._wants_wire and (made := loaded_wire()) is not None:
            wire = self._wire = made()
        if wire is not None and _PLAIN_PATH.fullmatch(path):  # the hot path to a real Vapi: no httpx2 request object
            url = self.base_url + path + (f"?{httpx.QueryParams(query)}" if query else "")
            body = None if json is None else _json_bytes(json)
            return await wire.exchange(method, url, self._json_headers if body is not None else self._headers, body, self._http.timeout, self.max_response_bytes)
        request = self._http.build_request(method, path, params=query or None, json=json)
        answer = await self._send(request)
        if self._wants_wire and wire is None:  # load the wire after this answer, while the agent reads it (not during a request)
            preload_wire()
        return answer

    async def _send(self, request: httpx.Request) -> Answer:
        response = await self._http.send(request, stream=True)
        try:
            content = await read_capped(response.aiter_bytes(), response.headers.get("content-length"), self.max_response_bytes)
        finally:
            await response.aclose()
        return Answer(response.status_code, response.headers, content)

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
        _check_declared("POST", CONTROL_URL)
        self._may_send("POST", CONTROL_URL, body)
        request = self._http.build_request("POST", url, json=body)
        request.headers.pop("Authorization", None)
        try:
            with anyio.fail_after(self.timeout):
                answer = await self._send(request)
        except TooLarge:
            raise self._too_large("POST", CONTROL_URL, None) from None
        except (httpx.TransportError, TimeoutError) as exc:
            raise VapiError(f"Could not reach the call's control URL ({type(exc).__name__}).", hint="Try again.") from None
        if answer.status >= 400:
            raise self._status_error("POST", CONTROL_URL, answer, None)
        try:
            return orjson.loads(answer.content) if answer.content else None
        except ValueError:
            return None

    async def download(self, path: str, *, limit: int = DOWNLOAD_LIMIT) -> str:
        """The text of an artifact Vapi serves by redirect (`GET /call/{id}/call-logs` answers 302).

        The request to Vapi carries the key; the URL it redirects to is presigned, so it is
        followed once, never with the key (a storage host must not see it), and only over https
        (or, in sandbox mode, at the sandbox's own address). At most `limit` bytes are read.
        """
        _check_path("GET", path)
        _check_declared("GET", path)
        first = await self._stream(self._http.build_request("GET", path), path)
        try:
            if first.status_code >= 400:
                answer = Answer(first.status_code, first.headers, await first.aread())
                raise self._status_error("GET", path, answer, None)
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

    async def redirect(self, path: str) -> str:
        """Where Vapi redirects `GET path` to (a presigned download, such as `/call/{id}/pcap`'s), without following it:
        the link is handed on, never fetched. Only an https target (or, in sandbox mode, the sandbox's own) is accepted."""
        _check_path("GET", path)
        _check_declared("GET", path)
        response = await self._stream(self._http.build_request("GET", path), path)
        try:
            if response.status_code >= 400:
                answer = Answer(response.status_code, response.headers, await response.aread())
                raise self._status_error("GET", path, answer, None)
            location = response.headers.get("location") if response.status_code in REDIRECTS else None
        finally:
            await response.aclose()
        if not location:
            raise VapiError(f"Vapi answered GET {path} with {response.status_code}, not a redirect to the download.", hint="Try again later.")
        url = str(response.url.join(location))
        if not self._trusted_download_url(url):
            raise VapiError(f"Refusing Vapi's redirect for {path}: the target is not https.", hint="Open the artifact from the Vapi dashboard instead.")
        return url

    async def _stream(self, request: httpx.Request, path: str) -> httpx.Response:
        try:
            with anyio.fail_after(self.timeout):
                return await self._http.send(request, stream=True)
        except (httpx.TransportError, TimeoutError) as exc:
            raise VapiError(f"Could not download {path} ({type(exc).__name__}).", hint="Nothing was changed; try again.") from None

    def _trusted_download_url(self, url: str) -> bool:
        """https anywhere; plain http only beside a sandbox (never with Vapi's own base URL): its own address, or
        the storage host it serves beside it on the same port (`storage.<host>`, or the other loopback name)."""
        target = httpx.URL(url)
        if target.scheme == "https":
            return True
        if self.base_url.startswith("https://api.vapi.ai"):
            return False
        if url.startswith(self.base_url + "/"):
            return True
        base = httpx.URL(self.base_url)
        if (target.scheme, target.port) != (base.scheme, base.port):
            return False
        return target.host == "storage." + base.host or (target.host in _LOOPBACK and base.host in _LOOPBACK)
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

    def _odd_answer(self, method: str, path: str, what: str, check: str | None, *, hint: str = "") -> VapiError:
        """A 2xx/3xx answer that is not a clean result: harmless for a GET, outcome unknown for anything else."""
        if method in SAFE_METHODS:
            return VapiError(f"{what} for {method} {path}.", hint=f"Nothing was changed. Try again in a moment. {hint}".strip())
        return self._unknown_outcome(method, path, what, check)

    def _too_large(self, method: str, path: str, check: str | None) -> VapiError:
        cap = f"{self.max_response_bytes / 1048576:g} MiB" if self.max_response_bytes >= 1048576 else f"{self.max_response_bytes} bytes"
        what = f"Vapi's answer is larger than the {cap} limit (VAPI_MCP_MAX_RESPONSE_BYTES) and was not read"
        if method in SAFE_METHODS:
            return VapiError(
                f"{what} for {method} {path}.",
                hint="Nothing was changed. Ask for less (a smaller limit, a narrower createdAt range), or raise VAPI_MCP_MAX_RESPONSE_BYTES.",
            )
        return self._unknown_outcome(method, path, what, check)

    def _status_error(self, method: str, path: str, answer: Answer, check: str | None) -> VapiError:
        status = answer.status
        messages = _vapi_messages(answer.content)
        if status in (401, 403):
            return VapiError(
                f"Vapi refused the API key ({status}): it is missing, wrong or lacks permission.",
                status=status,
                hint="Set VAPI_API_KEY (or VAPI_TOKEN) to your private API key from the Vapi dashboard and restart the server.",
            )
        if status == 402:
            reason = _payment_reason(answer.content)
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
            after = _retry_after(answer.headers)
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


def _expected_shape(method: str, path: str) -> Any:
    """What a clean answer holds: an object for one item, a create or an update; a list or a page
    object for a collection (a caller that iterates rows says `expect=list`); a DELETE may answer nothing."""
    if method in SAFE_METHODS:
        return dict if _is_id(path.rstrip("/").rsplit("/", 1)[-1]) else (list, dict)
    if method == "DELETE":
        return (dict, type(None))
    return dict


def _is_id(part: str) -> bool:
    try:
        uuid.UUID(part)
    except ValueError:
        return False
    return True


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", int: "number", float: "number"}.get(type(value), "value")


def _host_of(url: str) -> str:
    try:
        return httpx.URL(url).host or "another path"
    except Exception:
        return "an unreadable location"


def _query(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The query string's values, each short enough for a URL; a long one is the caller's InputError, naming it."""
    query = {}
    for name, value in (params or {}).items():
        if value is None:
            continue
        value = _query_value(value)
        if len(str(value)) > MAX_QUERY_VALUE:
            raise InputError(name, f"is too long for a filter ({len(str(value))} characters; at most {MAX_QUERY_VALUE})")
        query[name] = value
    return query


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
