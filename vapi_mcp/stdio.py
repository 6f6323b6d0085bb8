"""The stdio transport: a wire that holds under bad input, and a fast start.

An agent launches this server at every session and waits for the first answers (today's
clients open with `server/discover`, older ones with `initialize`, then `tools/list`),
but importing the MCP SDK takes most of a second. So the SDK loads on a thread while the
front answers those requests from a cache of the answers the SDK itself gave to the same
request in an earlier run of the same code, SDK and settings. Every line the client sent
is then replayed to the SDK, which serves everything from there (its duplicate answers
are dropped, and checked against what the cache served). With no cache entry, a request
waits for the SDK. `VAPI_MCP_FAST_START=0` turns the cache off.

The wire, in both phases: a line longer than `MAX_MESSAGE_BYTES` is discarded, a line
that is not JSON, or nests deeper than `MAX_DEPTH` (on every Python alike), gets -32700, one
that is not a JSON-RPC message (a batch, a bad id) gets -32600, with the request's id when it
can be read and null otherwise; blank lines are ignored. At the end of input every request received is answered before the process
exits (a question the server asked the departed client is answered "connection closed").
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import select
import stat
import sys
import threading
import time
from collections.abc import AsyncIterator
from io import BufferedWriter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Settings

logger = logging.getLogger("vapi_mcp.stdio")

PACKAGE_DIR = Path(__file__).resolve().parent
MAX_MESSAGE_BYTES = 8 << 20
"""The longest line accepted (8 MiB, far above any request a client sends); longer ones are discarded."""
MAX_DEPTH = 201
"""Levels of arrays and objects a line may nest: as deep as the SDK's JSON-RPC parser (pydantic-core) reads.
Python's own `json` reads 1000 levels on 3.11, 1000 more on 3.12 and 5000 more on 3.13, so the rule is ours,
not the interpreter's: a deeper line is a parse error, with the request's id when its top level carries one."""
DRAIN_SECONDS = 120.0
"""At the end of input, how long requests still running may take before they are cancelled."""
CHUNK = 1 << 16
PARSE_ERROR, INVALID_REQUEST, CONNECTION_CLOSED = -32700, -32600, -32000
ENVELOPE = "io.modelcontextprotocol/"
PROTOCOL_VERSION = ENVELOPE + "protocolVersion"
"""The 2026-07-28 per-request envelope: its presence makes a request self-describing."""
CACHEABLE = frozenset({"initialize", "server/discover", "ping", "tools/list", "prompts/list", "resources/list", "resources/templates/list"})
"""Requests whose answer the SDK derives from the code, the settings and the request alone (what is
registered at build time), never from Vapi or from state: only these are answered from the cache."""
LONG_LIVED = frozenset({"subscriptions/listen"})
"""Requests that stay open for the whole session; the end of input closes them instead of waiting.
A client waits for a listen request's acknowledgement (a notification the SDK derives from the
request alone), so the cache holds that too."""
KEYED = CACHEABLE | LONG_LIVED
ACKNOWLEDGED = "notifications/subscriptions/acknowledged"
SUBSCRIPTION_ID = ENVELOPE + "subscriptionId"
TOO_LONG = object()
"""What the line splitter yields in place of a line over the limit."""


def serve(settings: Settings) -> None:
    """Serve MCP over stdin/stdout until the client closes stdin; every request received is answered."""
    wire_in, wire_out = _claim_stdio()
    cache = AnswerCache.for_settings(settings)
    loader = _Loader(settings)
    loader.start()
    front = Front(wire_in, wire_out, cache)
    if sys.platform != "win32":  # the front waits on the pipe with select(), which Windows offers for sockets only
        front.run(loader)
    if front.eof and not front.waiting:
        logger.debug("input ended before anything needed the SDK")
        return
    server = loader.result()
    logger.debug("the SDK takes over after %.0f ms", (time.monotonic() - loader.began) * 1000)

    import anyio

    anyio.run(Session(front, cache).run, server)


class _Loader(threading.Thread):
    """Imports the SDK and builds the server off the main thread; `wake` turns readable when done."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(name="vapi-mcp-loader", daemon=True)
        self.settings = settings
        self.began = time.monotonic()
        self.done = threading.Event()
        self.wake, self._wake_write = os.pipe()
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
            os.write(self._wake_write, b".")

    def result(self) -> Any:
        self.done.wait()
        if self._error is not None:
            raise self._error
        return self._server


def _claim_stdio() -> tuple[LineReader, WireOut]:
    """Private descriptors for the wire; fd 0 reads EOF and fd 1 goes to stderr, so stray output misses the wire."""
    wire_in = LineReader(os.dup(0))
    wire_out = WireOut(os.fdopen(os.dup(1), "wb"))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return wire_in, wire_out


class WireOut:
    """Whole lines to the client, flushed; once the client stops reading, the rest goes nowhere (no traceback)."""

    def __init__(self, out: BufferedWriter) -> None:
        self.out = out
        self.closed = False

    def send(self, data: bytes | None) -> None:
        if data is None or self.closed:
            return
        try:
            self.out.write(data)
            self.out.flush()
        except OSError as exc:
            self.closed = True
            logger.info("stdout closed: %s", exc)


# ---- lines ------------------------------------------------------------------------------


class LineSplitter:
    """Bytes in, lines out (without the newline); a line over `limit` bytes becomes `TOO_LONG`, and
    the rest of it is skipped without being kept, so memory stays bounded whatever is sent."""

    def __init__(self, limit: int = MAX_MESSAGE_BYTES) -> None:
        self.limit = limit
        self.partial = bytearray()
        self.skipping = False

    def feed(self, chunk: bytes) -> list[Any]:
        lines: list[Any] = []
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            if self.skipping:
                self.skipping = False
            elif len(self.partial) + end - start > self.limit:
                lines.append(TOO_LONG)
            else:
                lines.append(bytes(self.partial + chunk[start:end]) if self.partial else chunk[start:end])
            self.partial.clear()
            start = end + 1
        if start < len(chunk) and not self.skipping:
            if len(self.partial) + len(chunk) - start > self.limit:
                lines.append(TOO_LONG)
                self.partial.clear()
                self.skipping = True
            else:
                self.partial += chunk[start:]
        return lines

    def finish(self) -> list[Any]:
        """The last line, when the input ends without a newline."""
        tail, self.partial = bytes(self.partial), bytearray()
        return [] if self.skipping or not tail.strip() else [tail]


class LineReader:
    """The client's lines from a file descriptor: first read blocking by the front, then by the event loop."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.splitter = LineSplitter()
        self.ended = False

    def read(self) -> list[Any]:
        """The lines completed by one blocking read; at the end of input, the last one, and `ended` is set."""
        chunk = os.read(self.fd, CHUNK)
        if chunk:
            return self.splitter.feed(chunk)
        self.ended = True
        return self.splitter.finish()

    async def lines(self) -> AsyncIterator[Any]:
        """The remaining lines: a pipe or socket is read by the event loop (no thread hop per read),
        anything else (a file, /dev/null, a terminal) on a worker thread."""
        if self.ended:
            return
        import anyio

        mode = os.fstat(self.fd).st_mode
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            import asyncio

            loop = asyncio.get_running_loop()
            stream = asyncio.StreamReader(limit=4 * CHUNK, loop=loop)
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream, loop=loop), os.fdopen(self.fd, "rb", 0))

            async def read() -> bytes:
                return await stream.read(CHUNK)

        else:

            async def read() -> bytes:
                return await anyio.to_thread.run_sync(os.read, self.fd, CHUNK, abandon_on_cancel=True)

        while chunk := await read():
            for line in self.splitter.feed(chunk):
                yield line
        self.ended = True
        for line in self.splitter.finish():
            yield line


# ---- what a line is -----------------------------------------------------------------------


def check(line: bytes) -> tuple[dict[str, Any] | None, bytes | None]:
    """A line's JSON-RPC message, or the error that answers it; (None, None) for a blank line.

    Structural only: the SDK validates a message further when it takes it, and a line it
    cannot take is answered through `refusal`."""
    if line is TOO_LONG:
        return None, error_line(None, INVALID_REQUEST, f"Invalid Request: a message longer than {MAX_MESSAGE_BYTES >> 20} MiB was discarded")
    if not line.strip():
        return None, None
    try:
        text = line.decode("utf-8")
        value = json.loads(text)
    except RecursionError:
        return None, error_line(_top_level_id(text), PARSE_ERROR, f"Parse error: the JSON nests deeper than {MAX_DEPTH} levels")
    except ValueError as exc:  # not UTF-8, or not JSON
        return None, error_line(None, PARSE_ERROR, f"Parse error: {str(exc)[:200]}")
    if line.count(b"[") + line.count(b"{") > MAX_DEPTH and _nesting(value) > MAX_DEPTH:
        return None, error_line(_usable_id(value), PARSE_ERROR, f"Parse error: the JSON nests deeper than {MAX_DEPTH} levels")
    if b"\\u" in line and not _is_unicode(value):
        return None, error_line(_usable_id(value), PARSE_ERROR, "Parse error: a lone surrogate escape (\\ud800-\\udfff) is not Unicode text")
    if isinstance(value, list):
        return None, _batch_refusal(value)
    if not isinstance(value, dict):
        return None, error_line(None, INVALID_REQUEST, "Invalid Request: a message is a JSON object")
    problem = _envelope_problem(value)
    if problem:
        return None, error_line(_usable_id(value), INVALID_REQUEST, f"Invalid Request: {problem}")
    return value, None


def refusal(line: bytes, exc: Exception) -> bytes | None:
    """The answer to a line the SDK's message model refused (None for a blank line)."""
    message, error = check(line)
    if error is not None or message is None:
        return error
    errors = exc.errors() if hasattr(exc, "errors") else []  # pydantic's ValidationError
    if errors and errors[0]["type"] == "json_invalid":  # the SDK's parser: nested too deeply, a lone surrogate, ...
        return error_line(_usable_id(message), PARSE_ERROR, f"Parse error: {errors[0]['msg'].removeprefix('Invalid JSON: ')[:200]}")
    kind = ("JSONRPCRequest" if "id" in message else "JSONRPCNotification") if "method" in message else ("JSONRPCResponse" if "result" in message else "JSONRPCError")
    first = next((e for e in errors if e["loc"][:1] == (kind,)), errors[0] if errors else {"loc": (), "msg": str(exc)})
    where = ".".join(str(part) for part in first["loc"][1:])
    return error_line(_usable_id(message), INVALID_REQUEST, f"Invalid Request: {where + ': ' if where else ''}{first['msg'][:200]}")


def _nesting(value: Any) -> int:
    """How many levels of arrays and objects `value` nests (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[][{}:]')
"""The strings and brackets of a JSON text, and the colons after keys."""


def _top_level_id(text: str) -> Any:
    """The usable id of a JSON object too deep for `json` to parse, read from its top level alone (the last
    `"id"` key wins, as in `json.loads`); None when there is none, or it is not a scalar."""
    depth, key, found = 0, None, None
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in ("{", "["):
            if depth == 0 and token == "[":
                return None
            depth += 1
        elif token in ("}", "]"):
            depth -= 1
        elif token == ":":
            if depth == 1 and key == "id":
                start = len(text) - len(text[match.end() :].lstrip())
                try:
                    found = _SCALAR.raw_decode(text, start)[0] if text[start : start + 1] not in ("[", "{") else None
                except ValueError:
                    found = None
        elif depth == 1:
            try:
                key = json.loads(token) if len(token) < 64 else None  # a key named "id" is short
            except ValueError:
                key = None
    return _usable_id({"id": found})


_SCALAR = json.JSONDecoder()


def _is_unicode(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _envelope_problem(message: dict[str, Any]) -> str | None:
    if message.get("jsonrpc") != "2.0":
        return 'jsonrpc must be "2.0"'
    if "id" in message and _usable_id(message) is None:
        return "id must be a string or an integer"
    if "method" in message:
        if not isinstance(message["method"], str):
            return "method must be a string"
        if message.get("params") is not None and not isinstance(message["params"], dict):
            return "params must be an object"
        return None
    if "id" not in message or ("result" in message) == ("error" in message):
        return "neither a request, a notification nor a response"
    return None


def _usable_id(message: Any) -> Any:
    """The message's id when it is one JSON-RPC allows (a string of Unicode text, or an integer), else None."""
    request_id = message.get("id") if isinstance(message, dict) else None
    if isinstance(request_id, str):
        return request_id if _is_unicode(request_id) else None
    return request_id if isinstance(request_id, int) and not isinstance(request_id, bool) else None


def _batch_refusal(batch: list[Any]) -> bytes:
    text = "Invalid Request: JSON-RPC batches are not supported (MCP removed them in 2025-06-18); send one message per line"
    if not batch:
        return error_line(None, INVALID_REQUEST, text)
    errors = [_error(_usable_id(item), INVALID_REQUEST, text) for item in batch]
    return json.dumps(errors, separators=(",", ":")).encode() + b"\n"


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def error_line(request_id: Any, code: int, message: str) -> bytes:
    return json.dumps(_error(request_id, code, message), separators=(",", ":")).encode() + b"\n"


def result_line(request_id: Any, result: bytes) -> bytes:
    return b'{"jsonrpc":"2.0","id":' + json.dumps(request_id).encode() + b',"result":' + result + b"}\n"


def acknowledgement_line(subscription_id: Any, params: dict[str, Any]) -> bytes:
    """The SDK's acknowledgement of a listen request, for this request's id."""
    params = {**params, "_meta": {**(params.get("_meta") or {}), SUBSCRIPTION_ID: subscription_id}}
    return json.dumps({"jsonrpc": "2.0", "method": ACKNOWLEDGED, "params": params}, separators=(",", ":")).encode() + b"\n"


def _without_subscription_id(params: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in (params.get("_meta") or {}).items() if k != SUBSCRIPTION_ID}
    return {**{k: v for k, v in params.items() if k != "_meta"}, **({"_meta": meta} if meta else {})}


# ---- the cache ----------------------------------------------------------------------------


def cache_key(method: Any, params: Any, handshake: dict[str, Any] | None) -> str | None:
    """Everything the SDK's answer to this request depends on, hashed; None when it is not cacheable.

    A 2026-07-28 request carries its protocol version, client info and capabilities in its
    own `_meta`; an older one depends on the session's `initialize`. `_meta` entries outside
    the protocol's namespace (a progress token, a trace id) change no answer and are left out."""
    if method not in KEYED or not isinstance(params or {}, dict):
        return None

    def essentials(p: dict[str, Any]) -> list[Any]:
        meta = p.get("_meta") if isinstance(p.get("_meta"), dict) else {}
        return [{k: v for k, v in p.items() if k != "_meta"}, {k: v for k, v in meta.items() if k.startswith(ENVELOPE)}]  # type: ignore[union-attr]

    own = essentials(params or {})
    if method != "initialize" and PROTOCOL_VERSION not in own[1]:
        if handshake is None:
            return None
        own.append(essentials(handshake))
    text = json.dumps([method, *own], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class AnswerCache:
    """The SDK's own answers, one file per request key, in a folder per code + SDK + settings."""

    KEEP_FOLDERS = 8

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.known: dict[str, Any] = {}

    @classmethod
    def for_settings(cls, settings: Settings) -> AnswerCache:
        if not settings.fast_start:
            return cls(None)
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vapi-mcp"
        return cls(base / f"stdio-{fingerprint(settings)}")

    def get(self, key: str) -> tuple[bytes, Any] | None:
        """The cached answer (its bytes and its value), if there is a sound one."""
        if self.folder is None:
            return None
        path = self.folder / f"{key}.json"
        try:
            if path.stat().st_uid != os.getuid():
                return None
            data = path.read_bytes()
            value = json.loads(data)
        except (OSError, ValueError):
            return None
        if not isinstance(value, dict):
            return None
        self.known[key] = value
        return data, value

    def put(self, key: str, result: Any) -> None:
        if self.folder is None or self.known.get(key) == result:
            return
        self.known[key] = result
        try:
            if not self.folder.is_dir():
                self.folder.mkdir(mode=0o700, parents=True)
                self._prune()
            partial = self.folder / f".{key}.{os.getpid()}.tmp"
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode())
            os.replace(partial, self.folder / f"{key}.json")
        except (OSError, ValueError) as exc:
            logger.info("could not write the start-up cache %s: %s", self.folder, exc)

    def drop(self, key: str) -> None:
        self.known.pop(key, None)
        if self.folder is not None:
            (self.folder / f"{key}.json").unlink(missing_ok=True)

    def _prune(self) -> None:
        """Keep the folders of the few most recent code/settings combinations, and no older-format files."""
        import shutil

        parent = self.folder.parent  # type: ignore[union-attr]
        for old in parent.glob("handshake-*.json"):
            old.unlink(missing_ok=True)
        folders = sorted(parent.glob("stdio-*"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in folders[self.KEEP_FOLDERS :]:
            shutil.rmtree(old, ignore_errors=True)


_SECRET_NAME = re.compile(r"key|secret|token|password|credential", re.IGNORECASE)
_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def fingerprint(settings: Settings) -> str:
    """What every cached answer depends on: this package's code, the SDK and pydantic, Python, and
    every setting (all of them, so a new one is covered without a change here; secrets only as set
    or unset, URLs without credentials)."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.read_bytes())
    for package in ("mcp", "mcp_types", "pydantic", "pydantic_core"):
        init = PACKAGE_DIR.parent / package / "__init__.py"
        if not init.exists():
            import importlib.util

            spec = importlib.util.find_spec(package)
            init = Path(spec.origin) if spec and spec.origin else init
        found = init.stat() if init.exists() else None
        digest.update(f"{package}:{init}:{found and found.st_mtime_ns}:{found and found.st_size}".encode())
    digest.update(repr(_identity(settings)).encode())
    return digest.hexdigest()[:24]


def _identity(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: bool(getattr(value, f.name)) if _SECRET_NAME.search(f.name) or f.metadata.get("secret") else _identity(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, str):
        return _USERINFO.sub("", value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_identity(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _identity(v) for k, v in value.items()}
    return repr(value)


# ---- the fast start -----------------------------------------------------------------------


class Front:
    """Reads the wire while the SDK loads: answers bad lines and what the cache holds, keeps every line for the SDK."""

    def __init__(self, wire_in: LineReader, wire_out: WireOut, cache: AnswerCache) -> None:
        self.wire_in = wire_in
        self.wire_out = wire_out
        self.cache = cache
        self.replay: list[bytes] = []
        """Every well-formed line, in order: the SDK sees the session exactly as the client sent it."""
        self.answered: dict[Any, tuple[str, Any]] = {}
        """Request id → (cache key, the answer given): the SDK's own answers to these are checked and dropped."""
        self.acknowledged: dict[Any, tuple[str, Any]] = {}
        """The same for listen requests acknowledged here."""
        self.handshake: dict[str, Any] | None = None
        self.handshake_answered = False
        self.waiting = False
        """A request only the SDK can answer has been read."""
        self.eof = False

    def run(self, loader: _Loader) -> None:
        """Until the SDK is ready or the input ends."""
        while not loader.done.is_set():
            readable, _, _ = select.select([self.wire_in.fd, loader.wake], [], [])
            if self.wire_in.fd not in readable:
                continue
            for line in self.wire_in.read():
                self.take(line)
            if self.wire_in.ended:
                self.eof = True
                return

    def take(self, line: Any) -> None:
        message, error = check(line)
        if error is not None:
            self.wire_out.send(error)
            logger.debug("answered a bad line while the SDK loads")
            return
        if message is None:
            return
        self.replay.append(line)
        method = message.get("method")
        if not isinstance(method, str) or "id" not in message:
            return
        params = message.get("params") or {}
        if method == "initialize":
            self.handshake, self.handshake_answered = params, False
        key = cache_key(method, params, self.handshake)
        meta = params.get("_meta")
        legacy = method != "initialize" and not (isinstance(meta, dict) and PROTOCOL_VERSION in meta)
        cached = self.cache.get(key) if key is not None and not (legacy and not self.handshake_answered) else None
        if cached is None:
            self.waiting = self.waiting or method not in LONG_LIVED  # at the end of input, a listen request just ends
            return
        if method in LONG_LIVED:
            self.wire_out.send(acknowledgement_line(message["id"], cached[1]))
            self.acknowledged[message["id"]] = (key, cached[1])  # type: ignore[assignment]
        else:
            self.wire_out.send(result_line(message["id"], cached[0]))
            self.answered[message["id"]] = (key, cached[1])  # type: ignore[assignment]
        self.handshake_answered |= method == "initialize"
        logger.debug("answered %s from the start-up cache while the SDK loads", method)


# ---- the SDK's session --------------------------------------------------------------------


class Session:
    """Feeds the SDK the replayed and then the live lines, writes its answers, and drains at the end of input."""

    def __init__(self, front: Front, cache: AnswerCache) -> None:
        import mcp_types
        from mcp.shared.message import SessionMessage

        self.front = front
        self.cache = cache
        self.types = mcp_types
        self.SessionMessage = SessionMessage
        self.handshake = front.handshake
        self.running: dict[Any, str] = {}
        """Requests the SDK is answering: id → method."""
        self.asked: dict[Any, str] = {}
        """Requests the server sent the client that are not answered yet."""
        self.watch: dict[Any, str] = {}
        """Request id → cache key, for the SDK's answers that fill the cache."""
        self.watch_listen: dict[Any, str] = {}
        """The same for the acknowledgements of listen requests."""
        self._changed: Any = None

    async def run(self, server: Any) -> None:
        import anyio

        to_sdk, from_wire = anyio.create_memory_object_stream[Any](0)
        to_wire, from_sdk = anyio.create_memory_object_stream[Any](0)
        self._changed = anyio.Event()
        lowlevel = server._lowlevel_server
        async with anyio.create_task_group() as tasks:
            reading = anyio.CancelScope()
            tasks.start_soon(self._read, to_sdk, reading)
            tasks.start_soon(self._write, from_sdk)
            await lowlevel.run(from_wire, to_wire, lowlevel.create_initialization_options())
            reading.cancel()  # the SDK stopped on its own

    async def _read(self, to_sdk: Any, scope: Any) -> None:
        with scope:
            async with to_sdk:
                for line in self.front.replay:
                    await self._take(line, to_sdk)
                async for line in self.front.wire_in.lines():
                    await self._take(line, to_sdk)
                await self._drain(to_sdk)

    async def _take(self, line: Any, to_sdk: Any) -> None:
        types = self.types
        if line is TOO_LONG:
            self.front.wire_out.send(check(line)[1])  # type: ignore[arg-type]  # the sentinel, which check answers
            return
        try:
            message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
        except ValueError as exc:  # pydantic's ValidationError
            self.front.wire_out.send(refusal(line, exc))
            return
        if isinstance(message, types.JSONRPCRequest):
            if message.method == "initialize":
                self.handshake = message.params or {}
            if message.id not in self.front.answered:
                self.running[message.id] = message.method
                key = cache_key(message.method, message.params, self.handshake)
                if key is not None:
                    (self.watch_listen if message.method in LONG_LIVED else self.watch)[message.id] = key
        elif isinstance(message, types.JSONRPCNotification):
            if b'"id"' in line and (error := check(line)[1]) is not None:
                self.front.wire_out.send(error)  # the SDK would take a request with an unusable id for a notification
                return
            if message.method == "notifications/cancelled":  # a cancelled request gets no answer
                self.running.pop((message.params or {}).get("requestId"), None)
                self._changed.set()
        else:
            self.asked.pop(message.id, None)
        await to_sdk.send(self.SessionMessage(message))

    async def _write(self, from_sdk: Any) -> None:
        types = self.types
        async with from_sdk:
            async for item in from_sdk:
                message = item.message
                data = message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n"
                if isinstance(message, types.JSONRPCResponse | types.JSONRPCError):
                    served = self.front.answered.pop(message.id, None)
                    if served is not None:
                        self._check_served(served, json.loads(data).get("result"))
                        continue  # the client has its answer already
                    self.running.pop(message.id, None)
                    key = self.watch.pop(message.id, None)
                    if key is not None and isinstance(message, types.JSONRPCResponse):
                        self.cache.put(key, json.loads(data)["result"])
                    self._changed.set()
                elif isinstance(message, types.JSONRPCRequest):
                    self.asked[message.id] = message.method
                    self._changed.set()
                elif message.method == ACKNOWLEDGED and self._acknowledgement(data):
                    continue
                self.front.wire_out.send(data)

    def _acknowledgement(self, data: bytes) -> bool:
        """Fill the cache from the SDK's acknowledgement of a listen request; True if the client had it already."""
        params = json.loads(data).get("params") or {}
        subscription = (params.get("_meta") or {}).get(SUBSCRIPTION_ID)
        served = self.front.acknowledged.pop(subscription, None)
        if served is not None:
            self._check_served(served, _without_subscription_id(params))
            return True
        key = self.watch_listen.pop(subscription, None)
        if key is not None:
            self.cache.put(key, _without_subscription_id(params))
        return False

    def _check_served(self, served: tuple[str, Any], actual: Any) -> None:
        """The SDK's answer to a request the cache answered: the same, or the cache is corrected."""
        key, given = served
        if actual != given:
            logger.warning("the start-up cache answered a request differently from the SDK; corrected for the next start")
            if actual is None:
                self.cache.drop(key)
            else:
                self.cache.put(key, actual)

    async def _drain(self, to_sdk: Any) -> None:
        """The input ended: let every request still running finish (bounded), then close the SDK's input."""
        import anyio

        types = self.types
        gone = types.ErrorData(code=CONNECTION_CLOSED, message="the client closed the connection")
        with anyio.move_on_after(DRAIN_SECONDS) as bound:
            while True:
                for request_id in list(self.asked):  # nobody is left to answer the server's questions
                    del self.asked[request_id]
                    await to_sdk.send(self.SessionMessage(types.JSONRPCError(jsonrpc="2.0", id=request_id, error=gone)))
                if not self.asked and all(method in LONG_LIVED for method in self.running.values()):
                    break
                self._changed = anyio.Event()
                await self._changed.wait()
        if bound.cancelled_caught:
            logger.warning("input ended; cancelling requests still running after %.0f s: %s", DRAIN_SECONDS, sorted(set(self.running.values())))
