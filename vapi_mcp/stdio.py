"""The stdio transport with a fast start.

An agent launches this server at every session and waits for `initialize` and `tools/list`
before it can do anything, but importing the MCP SDK takes most of a second. So the SDK
loads on a thread while this module answers those two requests from a cache of the
answers the SDK itself gave in an earlier run of the same code, settings and SDK version.
Then the SDK takes over the wire: it is replayed the client's `initialize` (its duplicate
answer is dropped) and serves everything else. With no cache entry yet, nothing is
answered early: the run behaves like the SDK's own stdio transport and fills the cache.
`VAPI_MCP_FAST_START=0` turns the fast start off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import threading
from io import BufferedWriter
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator

if TYPE_CHECKING:
    from .config import Settings

logger = logging.getLogger("vapi_mcp.stdio")

PACKAGE_DIR = Path(__file__).resolve().parent


def serve(settings: Settings) -> None:
    """Serve MCP over stdin/stdout until the client closes stdin."""
    wire_in, wire_out = _claim_stdio()
    cache = HandshakeCache.for_settings(settings)
    loader = _Loader(settings)
    loader.start()
    front = Front(wire_in, wire_out, cache)
    front.answer_until(loader.done)
    server = loader.result()

    import anyio

    anyio.run(_serve_sdk, server, front, cache)


class _Loader(threading.Thread):
    """Imports the SDK and builds the server off the main thread."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(name="vapi-mcp-loader", daemon=True)
        self.settings = settings
        self.done = threading.Event()
        self._server: Any = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            from .server import build_server

            self._server, _ = build_server(self.settings)
        except BaseException as exc:  # re-raised on the main thread
            self._error = exc
        finally:
            self.done.set()

    def result(self) -> Any:
        self.done.wait()
        if self._error is not None:
            raise self._error
        return self._server


def _claim_stdio() -> tuple[LineReader, BufferedWriter]:
    """Private descriptors for the wire; fd 0 reads EOF and fd 1 goes to stderr, so stray output misses the wire."""
    wire_in = LineReader(os.dup(0))
    wire_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return wire_in, wire_out


class LineReader:
    """Lines from a file descriptor; the bytes read past the last line wait for the next reader."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = bytearray()

    def readline(self) -> bytes:
        """The next line, blocking; empty at end of input."""
        while b"\n" not in self.pending:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                line, self.pending = bytes(self.pending), bytearray()
                return line
            self.pending += chunk
        end = self.pending.index(b"\n") + 1
        line = bytes(self.pending[:end])
        del self.pending[:end]
        return line

    async def lines(self) -> AsyncIterator[bytes]:
        """The remaining lines: a pipe is read by the event loop (no thread hop per line), anything else on a thread."""
        mode = os.fstat(self.fd).st_mode
        if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)):
            import anyio

            while line := await anyio.to_thread.run_sync(self.readline):
                yield line
            return
        import asyncio

        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 25, loop=loop)
        reader.feed_data(bytes(self.pending))  # first what the front read past its last line
        self.pending.clear()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop), os.fdopen(self.fd, "rb", 0))
        while line := await reader.readline():
            yield line


class HandshakeCache:
    """The SDK's own answers to `initialize` (per requested protocol version) and `tools/list`."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.data: dict[str, Any] = {"initialize": {}, "tools/list": None}
        if path is not None and path.is_file():
            try:
                self.data = json.loads(path.read_text())
            except (OSError, ValueError):
                logger.info("ignoring an unreadable handshake cache %s", path)

    @classmethod
    def for_settings(cls, settings: Settings) -> HandshakeCache:
        if not settings.fast_start:
            return cls(None)
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vapi-mcp"
        return cls(base / f"handshake-{_fingerprint(settings)}.json")

    def initialize(self, version: Any) -> Any:
        return self.data["initialize"].get(str(version))

    @property
    def tools(self) -> Any:
        return self.data["tools/list"]

    @property
    def complete(self) -> bool:
        return self.path is None or (bool(self.data["initialize"]) and self.data["tools/list"] is not None)

    def remember(self, kind: str, result: Any, version: Any = None) -> None:
        if self.path is None:
            return
        if kind == "initialize":
            self.data["initialize"][str(version)] = result
        else:
            self.data["tools/list"] = result
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(self.data, separators=(",", ":")))
            os.replace(partial, self.path)
        except OSError as exc:
            logger.info("could not write the handshake cache %s: %s", self.path, exc)


def _fingerprint(settings: Settings) -> str:
    """Everything the two answers depend on: this package's code, the SDK's, and the settings that change them."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.read_bytes())
    for package in ("mcp", "mcp_types"):
        init = PACKAGE_DIR.parent / package / "__init__.py"
        if not init.exists():
            import importlib.util

            spec = importlib.util.find_spec(package)
            init = Path(spec.origin) if spec and spec.origin else init
        stat = init.stat() if init.exists() else None
        digest.update(f"{package}:{init}:{stat and stat.st_mtime_ns}:{stat and stat.st_size}".encode())
    digest.update(settings.handshake_key().encode())
    return digest.hexdigest()[:24]


class Front:
    """Answers the handshake from the cache until the SDK is ready, and keeps what the SDK must see."""

    def __init__(self, wire_in: LineReader, wire_out: BufferedWriter, cache: HandshakeCache) -> None:
        self.wire_in = wire_in
        self.wire_out = wire_out
        self.cache = cache
        self.replay: list[bytes] = []
        self.answered_initialize: Any = None
        self.requested_version: Any = None
        self.plain = True
        """The client declared no extension: the cached tools/list (a plain client's) is its answer too."""

    def answer_until(self, ready: threading.Event) -> None:
        """Read and answer what the cache can answer; stop at the first message that needs the SDK."""
        while not ready.is_set():
            line = self.wire_in.readline()
            if not line:
                return
            if not self._answer(line):
                self.replay.append(line)
                return

    def _answer(self, line: bytes) -> bool:
        try:
            message = json.loads(line)
        except ValueError:
            return False
        if not isinstance(message, dict) or "id" not in message and message.get("method") != "notifications/initialized":
            return False
        method, params = message.get("method"), message.get("params") or {}
        if method == "initialize" and self.answered_initialize is None:
            result = self.cache.initialize(params.get("protocolVersion"))
            if result is None:
                return False
            self._send(message["id"], result)
            self.replay.append(line)  # the SDK must see it too, to know the client
            self.answered_initialize, self.requested_version = message["id"], params.get("protocolVersion")
            self.plain = _plain(params)
            logger.debug("answered initialize from the handshake cache")
            return True
        if self.answered_initialize is None:
            return False
        if method == "notifications/initialized":
            self.replay.append(line)
            return True
        if method == "tools/list" and not set(params) - {"_meta"} and self.cache.tools is not None and self.plain:
            self._send(message["id"], self.cache.tools)
            logger.debug("answered tools/list from the handshake cache")
            return True
        return False

    def _send(self, request_id: Any, result: Any) -> None:
        response = {"jsonrpc": "2.0", "id": request_id, "result": result}
        self.wire_out.write(json.dumps(response, separators=(",", ":"), ensure_ascii=False).encode() + b"\n")
        self.wire_out.flush()


def _plain(initialize: dict[str, Any]) -> bool:
    """True when the client declares no extension: an MCP Apps host is offered more tools (`vapi_mcp.apps`)."""
    capabilities = initialize.get("capabilities")
    return not (isinstance(capabilities, dict) and capabilities.get("extensions"))


class _Lines:
    """The client's lines for the SDK: the replayed ones, then the wire; notes tools/list ids for the cache."""

    def __init__(self, front: Front, watch: dict[Any, str]) -> None:
        self.replay = front.replay
        self.wire = front.wire_in
        self.watch = watch
        self.cache = front.cache
        self.plain_handshake = False

    async def __aiter__(self) -> AsyncIterator[str]:
        for raw in self.replay:
            line = raw.decode("utf-8", "replace")
            self._note(line)
            yield line
        async for raw in self.wire.lines():
            line = raw.decode("utf-8", "replace")
            self._note(line)
            yield line

    def _note(self, line: str) -> None:
        if self.cache.complete or '"method"' not in line:
            return
        try:
            message = json.loads(line)
        except ValueError:
            return
        if not isinstance(message, dict) or "id" not in message:
            return
        if message.get("method") == "initialize":
            # the cache only holds answers of handshake-era (initialize) sessions, and tools/list only a plain client's
            self.plain_handshake = _plain(message.get("params") or {})
            self.watch[message["id"]] = "initialize:" + str((message.get("params") or {}).get("protocolVersion"))
        elif self.plain_handshake and message.get("method") == "tools/list" and not set(message.get("params") or {}) - {"_meta"}:
            self.watch[message["id"]] = "tools/list"


class _Wire:
    """The SDK's output: drops its answer to a replayed `initialize` and fills the cache from its answers."""

    def __init__(self, front: Front, watch: dict[Any, str]) -> None:
        self.out = front.wire_out
        self.drop = front.answered_initialize
        self.dropping = front.answered_initialize is not None
        self.watch = watch
        self.cache = front.cache

    async def write(self, text: str) -> None:
        if self.dropping or self.watch:
            try:
                message = json.loads(text)
            except ValueError:
                message = None
            if isinstance(message, dict) and "result" in message:
                request_id = message.get("id")
                kind = self.watch.pop(request_id, None)
                if kind == "tools/list":
                    self.cache.remember("tools/list", message["result"])
                elif kind is not None:
                    self.cache.remember("initialize", message["result"], kind.split(":", 1)[1])
                if self.dropping and request_id == self.drop:
                    self.dropping = False
                    return
        # Written in place, not on a worker thread: a message is small next to a pipe's buffer,
        # and a thread hop per write would cost more than the write.
        self.out.write(text.encode())

    async def flush(self) -> None:
        self.out.flush()


async def _serve_sdk(server: Any, front: Front, cache: HandshakeCache) -> None:
    from mcp.server.stdio import stdio_server

    watch: dict[Any, str] = {}
    lowlevel = server._lowlevel_server
    async with stdio_server(stdin=_Lines(front, watch), stdout=_Wire(front, watch)) as (read, write):  # type: ignore[arg-type]
        await lowlevel.run(read, write, lowlevel.create_initialization_options())
