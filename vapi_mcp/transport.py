"""The wire to a real Vapi: aiohttp's connection pool and C HTTP parser, behind `VapiClient`.

aiohttp costs about a third of httpx2's pure-Python stack (httpcore2, h11, anyio) per
request: ~0.25 against ~0.85 ms of CPU for a GET of a 12 KB call (bench/STARTUP.md). So
`VapiClient.request` hands each plain request (a path with nothing to percent-encode) to
`AiohttpWire.exchange`, with what httpx2 would have sent: the same URL, headers, JSON body
and per-phase timeouts; it gets the same exceptions back (httpx2's, which `client.py` maps
to results) and the same size cap. Everything else stays on httpx2: downloads, live
control, the sandbox's ASGI transport, a client behind an environment proxy, and every
request made while this module loads (it is imported on a thread: `client.preload_wire`).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import weakref
from collections.abc import AsyncIterator
from typing import Any, Literal

import aiohttp
import httpx2 as httpx
from yarl import URL

from .client import Answer, read_capped

_DERIVED = frozenset({b"host", b"content-length", b"transfer-encoding"})
"""Headers aiohttp writes itself, from the URL and the body."""


class AiohttpWire:
    """One aiohttp session per event loop, sending each request once.

    aiohttp's own resend of an idempotent request (DELETE, PUT) on a dropped kept-alive
    connection is off: whether to try again is `VapiClient`'s decision alone, as with httpx2.
    Redirects come back as they are, and an encoded body is decoded by httpx2, so a broken
    encoding is `httpx2.DecodingError` here too.
    """

    def __init__(self, *, max_connections: int = 100, ssl_context: ssl.SSLContext | None = None) -> None:
        self._max_connections = max_connections
        self._ssl = ssl_context if ssl_context is not None else httpx.create_ssl_context()  # the same trust as httpx2
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finalizer: weakref.finalize | None = None

    def _session_here(self) -> aiohttp.ClientSession:
        """The session of the running event loop (aiohttp binds a session to the loop that made it)."""
        loop = asyncio.get_running_loop()
        if self._session is not None and self._loop is loop and not self._session.closed:
            return self._session
        self._forget()
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0, ssl=self._ssl),
            trust_env=False,  # a proxied client stays on httpx2 (client.py); aiohttp would look proxies up per request
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            timeout=aiohttp.ClientTimeout(total=None),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        session._retry_connection = False  # send each request once (see the class docstring)
        self._session, self._loop = session, loop
        # A client dropped without `aclose` (an evicted per-key client, the process ending) closes its sockets quietly.
        self._finalizer = weakref.finalize(self, _close_quietly, session)
        return session

    def _forget(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._session = self._loop = self._finalizer = None

    async def exchange(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes | None, timeout: httpx.Timeout, limit: int) -> Answer:
        """One request from its parts; the answer read up to `limit` bytes (else `TooLarge`).

        An encoded answer is read through an httpx2 response, which decodes it as on httpx2's path.
        """
        session = self._session_here()
        with _Mapped(None):
            response = await session.request(
                method,
                URL(url, encoded=True),
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=_timeouts(timeout.connect, timeout.read, timeout.pool),
            )
        try:
            declared = response.headers.get("Content-Length")
            if response.headers.get("Content-Encoding", "identity").strip().lower() in ("", "identity"):
                with _Mapped(None):
                    content = await read_capped(response.content.iter_any(), declared, limit)
            else:
                decoded = httpx.Response(status_code=response.status, headers=response.raw_headers, stream=_Body(response, None))
                content = await read_capped(decoded.aiter_bytes(), declared, limit)
        finally:
            response.release()  # back to the pool when read to the end; otherwise the connection is dropped
        return Answer(response.status, httpx.Headers(response.raw_headers), content)

    async def aclose(self) -> None:
        session = self._session
        if self._finalizer is not None:
            self._finalizer.detach()
        self._session = self._loop = self._finalizer = None
        if session is not None:
            await session.close()


@functools.lru_cache(maxsize=64)
def _timeouts(connect: float | None, read: float | None, pool: float | None) -> aiohttp.ClientTimeout:
    """httpx2's per-phase timeouts as aiohttp's: the pool wait and the connect, the connect alone, each read."""
    return aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)


def _close_quietly(session: aiohttp.ClientSession) -> None:
    """Close a session's sockets without awaiting anything (its loop may be gone), and without aiohttp's
    'unclosed session' complaints on stderr at exit. aiohttp's public `close()` is a coroutine; its
    synchronous core, `_close()`, closes every socket at once (or nothing, once the loop is closed)."""
    connector = session.connector
    session.detach()
    if connector is not None and not connector.closed:
        connector._close()


class _Body(httpx.AsyncByteStream):
    """A response body as it arrives; closing it before the end drops the connection instead of pooling it."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request | None) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _Mapped(self._request):
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        self._response.release()


class _Mapped:
    """aiohttp's and the socket's exceptions as the httpx2 exceptions `client.py` acts on."""

    def __init__(self, request: httpx.Request | None) -> None:
        self.request = request

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        if exc is None or not isinstance(exc, aiohttp.ClientError | OSError | asyncio.TimeoutError):
            return False
        raise _httpx_error(exc)(f"{type(exc).__name__}: {exc}", request=self.request) from exc


def _httpx_error(exc: BaseException) -> type[httpx.TransportError]:
    """Only a failed connect means nothing reached the server: that alone is a ConnectError (which may be retried)."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError
    if isinstance(exc, aiohttp.SocketTimeoutError | asyncio.TimeoutError):
        return httpx.ReadTimeout
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol
    return httpx.NetworkError


LOADED = True
"""Set last: `client.loaded_wire` uses this module only once all of it is defined (it is imported on a thread)."""
