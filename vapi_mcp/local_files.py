"""Local files a tool may read (`upload_file`): only what the user put in reach, and only as much as allowed.

**Reach.** The folders (or files) the client shares as its MCP roots (`roots/list`), when it declares the roots
capability: asked mid-call before protocol 2026-07-28, and in an `InputRequiredResult` from then on (the
client answers, and calls again). A client without roots: the directory the server was started in (the
server never changes its working directory, so that is its working directory). Over HTTP nothing is read: the
server's disk is not the user's, and a remote client's roots name folders of another machine.

**A path** (absolute, or relative to a root) is resolved: `..` collapsed and every symbolic link followed. The
result must be a root or lie inside one, so neither `..` nor a link can lead out; it must be a regular file (not a
directory, device, FIFO or socket), of a type Vapi takes, and no larger than the cap. It is then opened without
following a link and without blocking, checked again through the open descriptor (a regular file, the same file,
still inside a root: a swap between the check and the open is caught), and read to at most the cap.

**Never secrets.** Below a root, no name on the way may be hidden (start with `.`): that is where configuration,
credentials and repositories' internals live (`.env.json`, `.aws/`, `.git/`, `.config/`), never a knowledge
document. A file holding a private key block (`-----BEGIN ... PRIVATE KEY-----`) is refused after reading, before
anything is sent.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from .errors import InputError, VapiMCPError

ROOTS_KEY = "roots"
"""The `input_requests` key of the roots question (protocol 2026-07-28 and later)."""
ROOTS_VERSION = "2026-07-28"
"""The first protocol that asks for roots in an `InputRequiredResult` rather than mid-call."""
FILE_TYPES = {
    ".txt": "text/plain",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
    ".csv": "text/csv",
    ".md": "text/markdown",
    ".tsv": "text/tab-separated-values",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".json": "application/json",
    ".xml": "application/xml",
    ".log": "text/plain",
}
"""The types Vapi's knowledge bases take, by extension (https://docs.vapi.ai/knowledge-base), and the MIME type sent."""
ADVISED_BYTES = 300 * 1024
"""Vapi's guide advises knowledge-base files smaller than 300 KB (quick processing and answers)."""


@dataclass(frozen=True)
class Reach:
    """Where a tool may read: resolved roots, and where they come from."""

    roots: tuple[Path, ...]
    source: Literal["roots", "start-directory"]

    def described(self) -> str:
        shown = ", ".join(str(root) for root in self.roots[:5]) + (f" and {len(self.roots) - 5} more" if len(self.roots) > 5 else "")
        return f"the client's roots ({shown})" if self.source == "roots" else f"the directory the server was started in ({shown})"


@dataclass(frozen=True)
class LocalFile:
    """A file read within reach: the name it is uploaded under, its content and MIME type."""

    name: str
    content: bytes
    mime_type: str


class NotInReach(VapiMCPError):
    """The transport or the client leaves no folder this server may read."""

    kind = "not_in_reach"


async def reach(context: Any) -> Reach:
    """Where this request may read local files (see the module docstring).

    Raises `NotInReach` over HTTP or when the client's roots name no local folder, and the guard's `InputRequired`
    when a 2026-07-28 client must be asked for its roots first (the client answers and calls again)."""
    if _over_http(context):
        raise NotInReach(
            "upload_file reads files only where the server runs beside the user (stdio): over HTTP the server's disk is "
            "not the user's, so nothing was read or sent.",
            hint="Upload the file in the Vapi dashboard (Files), or run vapi-mcp over stdio on the user's own machine.",
        )
    if not _declares_roots(context):
        return Reach((Path.cwd().resolve(),), "start-directory")
    uris = await _root_uris(context)
    roots: list[Path] = []
    for uri in uris:
        path = _file_path(uri)
        if path is not None and path not in roots:
            roots.append(path)
    if not roots:
        raise NotInReach(
            "The client shares no local folder as an MCP root, so upload_file may read nothing; nothing was read or sent.",
            hint="Ask the user to add the file's folder to the client's roots (its workspace or project folders).",
        )
    return Reach(tuple(roots), "roots")


def _over_http(context: Any) -> bool:
    try:
        return context is not None and context.headers is not None
    except (ValueError, LookupError, AttributeError):  # no active request: a direct, in-process call
        return False


def _declares_roots(context: Any) -> bool:
    try:
        capabilities = context.client_capabilities if context is not None else None
    except (ValueError, LookupError, AttributeError):
        return False
    return capabilities is not None and capabilities.roots is not None


async def _root_uris(context: Any) -> list[str]:
    """The URIs of the client's roots: asked mid-call, or (2026-07-28+) in an `InputRequiredResult`."""
    from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
    from mcp_types import InputRequiredResult, ListRootsRequest, ListRootsResult
    from mcp_types.version import is_version_at_least

    from .guard import InputRequired

    version = context.protocol_version
    if version is not None and is_version_at_least(version, ROOTS_VERSION):
        answer = (context.input_responses or {}).get(ROOTS_KEY)
        if answer is None:
            raise InputRequired(InputRequiredResult(input_requests={ROOTS_KEY: ListRootsRequest()}))
        if not isinstance(answer, ListRootsResult):
            raise NotInReach("The client's answer to the roots question is not a list of roots; nothing was read or sent.")
        return [str(root.uri) for root in answer.roots]
    try:
        with warnings.catch_warnings():  # the SDK marks roots deprecated from 2026-07-28; this is the older protocols' way
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            result = await context.session.list_roots()
    except MCPError as exc:
        raise NotInReach(
            f"The client declares MCP roots but could not list them ({exc}); nothing was read or sent.",
            hint="Try again; if it persists, the user can check the client's workspace folders.",
        ) from None
    return [str(root.uri) for root in result.roots]


def _file_path(uri: str) -> Path | None:
    """The local folder a `file://` root names, resolved; None for any other URI or another host."""
    parts = urlsplit(uri)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    raw = unquote(parts.path)
    if not raw.startswith("/"):
        return None
    try:
        return Path(os.path.realpath(raw))
    except (OSError, ValueError):
        return None


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def resolve(reach: Reach, given: str) -> Path:
    """The real path `given` names (absolute, or relative to the first root it exists under), which must be within reach."""
    if not given or "\x00" in given:
        raise InputError("path", "must name a file (an absolute path, or one relative to a root)")
    candidate = Path(os.path.expanduser(given))
    if candidate.is_absolute():
        place = candidate
    else:
        places = [root / candidate for root in reach.roots]
        place = next((p for p in places if os.path.lexists(p)), places[0])
    real = Path(os.path.realpath(place))
    if not _inside(real, reach.roots):
        raise InputError(
            "path",
            f"{given!r} leads outside {reach.described()} (after `..` and symbolic links); upload_file reads nothing else, "
            "so nothing was read or sent",
            hint="Ask the user to put the file in one of those folders, or to add its folder to the client's roots.",
        )
    _not_hidden(real, reach.roots, given)
    return real


def _not_hidden(path: Path, roots: tuple[Path, ...], given: str) -> None:
    """InputError when a name between the root that holds `path` and the file itself starts with a dot."""
    root = max((r for r in roots if path == r or r in path.parents), key=lambda r: len(r.parts))
    hidden = [part for part in path.parts[len(root.parts) :] if part.startswith(".")]
    if hidden:
        raise InputError(
            "path",
            f"{given!r} is hidden ({hidden[0]!r} starts with a dot): upload_file reads no hidden file or folder, where configuration "
            "and credentials live, so nothing was read or sent",
            hint="Ask the user to copy the document to a visible folder within reach, if it is meant to be uploaded.",
        )


PRIVATE_KEY = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
"""A PEM (or PGP) private key block: never a knowledge document."""


def mime_type(name: str) -> str:
    """The MIME type sent for a file of a type Vapi takes; InputError naming the types otherwise."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in FILE_TYPES:
        kinds = ", ".join(sorted(set(FILE_TYPES) - {".yml"}))
        raise InputError("path", f"{name!r} is not a type Vapi's knowledge bases take ({kinds}); nothing was read or sent")
    return FILE_TYPES[suffix]


def read_within(reach: Reach, given: str, limit: int) -> LocalFile:
    """The file `given` names, read whole if it is within reach, a regular file of a type Vapi takes, and at most `limit` bytes."""
    path = resolve(reach, given)
    name = PurePosixPath(given).name
    name = name if PurePosixPath(name).suffix else path.name
    mime = mime_type(name)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError("path", f"{given!r}: no such file") from None
    except OSError as exc:
        raise InputError("path", f"{given!r} cannot be read ({exc.strerror})") from None
    _regular(info, given)
    _small(info.st_size, given, limit)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError("path", f"{given!r} changed into a symbolic link while it was checked; nothing was read or sent") from None
        raise InputError("path", f"{given!r} cannot be opened ({exc.strerror})") from None
    try:
        opened = os.fstat(fd)
        _regular(opened, given)
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            raise InputError("path", f"{given!r} changed while it was checked; nothing was read or sent")
        where = _opened_path(fd)
        if where is not None and not _inside(where, reach.roots):
            raise InputError("path", f"{given!r} leads outside {reach.described()}; nothing was read or sent")
        _small(opened.st_size, given, limit)
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                _small(size, given, limit)
    finally:
        os.close(fd)
    content = b"".join(chunks)
    if PRIVATE_KEY.search(content):
        raise InputError("path", f"{given!r} holds a private key block: upload_file never sends a key, so nothing was sent")
    return LocalFile(name, content, mime)


def _regular(info: os.stat_result, given: str) -> None:
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return
    what = (
        "a directory" if stat.S_ISDIR(mode)
        else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
        else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "not a regular file"
    )  # fmt: skip
    raise InputError("path", f"{given!r} is {what}; upload_file sends regular files only, so nothing was read or sent")


def _small(size: int, given: str, limit: int) -> None:
    if size > limit:
        raise InputError(
            "path",
            f"{given!r} is {size:,} bytes; upload_file sends at most {limit:,} (VAPI_MCP_UPLOAD_MAX_BYTES), so nothing was read or sent",
            hint="Vapi advises knowledge-base files under 300 KB: split it into smaller files by topic. Only the user can raise the limit.",
        )


def _opened_path(fd: int) -> Path | None:
    """Where an open descriptor's file is, as the kernel sees it (Linux: /proc; macOS: F_GETPATH); None if unknown."""
    if sys.platform.startswith("linux"):
        try:
            return Path(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            return None
    if sys.platform == "darwin":
        import fcntl

        try:
            raw = fcntl.fcntl(fd, getattr(fcntl, "F_GETPATH", 50), b"\0" * 1024)
        except OSError:
            return None
        return Path(raw.split(b"\0", 1)[0].decode(errors="surrogateescape"))
    return None
