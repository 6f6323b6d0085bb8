"""The audit files: write-ahead JSON lines, each fsynced, and the review that `vapi-mcp audit` prints.

Every guarded attempt has an `attempt` id. An attempt that sends nothing (previewed,
declined, cancelled, refused, dry-run, or failed before sending) is one line. An attempt
that sends is two: `sending`, fsynced before the request leaves, then its outcome
(`sent` with Vapi's ids, `failed` when Vapi certainly did not act, `unknown` when it may
have: the connection dropped after sending, a 5xx, a cancellation in flight). A crash
between the two leaves the `sending` line: the request may have reached Vapi.

Attempts on the sandbox go to their own file (`audit-sandbox.jsonl` by default), so they
never mix with real dials. The files are created 0600 and never written through a
symbolic link; an existing file that others can read or write is refused.
"""

from __future__ import annotations

import errno
import json
import os
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..config import file_problem
from ..errors import VapiMCPError
from ..redact import redact


class AuditUnwritable(Exception):
    """The audit file cannot (or must not) be written; the message says which file and why."""


class Unaudited(VapiMCPError):
    """The request was sent and answered, but its outcome line could not be written."""

    kind = "unaudited"


class AuditLog:
    """Appends lines to the real or the sandbox audit file, each write followed by fsync."""

    def __init__(self, path: Path, sandbox_path: Path | None = None) -> None:
        self.path = Path(path)
        self.sandbox_path = Path(sandbox_path) if sandbox_path is not None else self.path

    def path_for(self, entry: dict[str, Any]) -> Path:
        return self.sandbox_path if entry.get("target") == "sandbox" else self.path

    def open(self, path: Path | None = None) -> int:
        """A private descriptor to append to (and read its last byte); `AuditUnwritable` when the file cannot or must not be written.

        The directory is opened without following a link, then the file inside it, never
        through a link (O_NOFOLLOW), and it must be a regular file of ours that only we can use."""
        path = self.path if path is None else path
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                fd = os.open(path.name, flags, 0o600, dir_fd=directory)
            finally:
                os.close(directory)
        except OSError as exc:
            why = "it or its directory is a symbolic link" if exc.errno in (errno.ELOOP, errno.ENOTDIR) else exc.strerror
            raise AuditUnwritable(f"the audit log {path} cannot be written ({why}).") from None
        problem = file_problem(path, os.fstat(fd))
        if problem:
            os.close(fd)
            raise AuditUnwritable(problem)
        return fd

    def append(self, entry: dict[str, Any]) -> None:
        """Write one line and fsync it; `AuditUnwritable` (naming the file) when that fails."""
        path = self.path_for(entry)
        # Masked in the objects, then encoded: a secret can never break the line's JSON.
        line = json.dumps(redact(entry), separators=(",", ":"), ensure_ascii=False, default=str) + "\n"
        data = line.encode()
        fd = self.open(path)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":  # a line cut short (a crash, a full disk): never join it
                data = b"\n" + data
            written = os.write(fd, data)  # one write: O_APPEND keeps concurrent sessions' lines whole
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        except OSError as exc:
            raise AuditUnwritable(f"the audit log {path} cannot be written ({exc.strerror}).") from None
        finally:
            os.close(fd)


# Reading it back: `vapi-mcp audit`


def read_lines(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Every line of the files that exist, each tagged with the file it came from; unreadable lines skipped."""
    lines = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
        for raw in text.splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue  # a line cut short by a crash mid-write
            if isinstance(line, dict):
                lines.append({**line, "file": str(path)})
    return lines


def attempts(lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per attempt: its lines merged in order (the last decision wins), oldest first.

    A `sending` line with no outcome after it becomes `may-have-been-sent`."""
    merged: dict[str, dict[str, Any]] = {}
    for index, line in enumerate(lines):
        key = str(line.get("attempt") or f"line-{index}")
        entry = merged.setdefault(key, {"decisions": []})
        for name, value in line.items():
            if name == "time" and "time" in entry:
                continue  # an attempt's time is when it began
            if value is not None or name not in entry:
                entry[name] = value
        entry["decisions"].append(line.get("decision"))
    out = []
    for entry in merged.values():
        if entry.get("decision") == "sending":
            entry["decision"] = "may-have-been-sent"
            entry["error"] = entry.get("error") or "no outcome recorded (still in flight, or the server stopped): the request may have reached Vapi"
        out.append(entry)
    out.sort(key=lambda e: _time_of(e) or _EPOCH)
    return out


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`2h`, `30m`, `1d`, `1w` ago, or an ISO date/time (UTC when it has no offset)."""
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--since must be a time like 2026-12-01T09:00Z or 2026-12-01, or a span like 30m, 2h, 1d, 1w; got {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _time_of(entry: dict[str, Any]) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(entry.get("time")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def review(paths: Iterable[Path], since: datetime | None = None, limit: int | None = None, who: str | None = None) -> list[dict[str, Any]]:
    """The attempts in `paths` since `since` (all if None), of `who` (all if None), oldest first, at most the last `limit`."""
    rows = attempts(read_lines(paths))
    if since is not None:
        rows = [row for row in rows if (_time_of(row) or since) >= since]
    if who:
        rows = [row for row in rows if is_by(row, who)]
    return rows[-limit:] if limit else rows


TENANT_FORMS = ("local", "http:", "x-vapi-key:", "oauth:")
"""How a tenant is written (`guard.CallContext.tenant`): `--who` with one of these names that tenant exactly."""


def is_by(entry: dict[str, Any], who: str) -> bool:
    """Whether `who` asked for the attempt or approved it: a tenant as the table shows it (`oauth:alice`, `local`),
    or a signed-in subject alone (`alice`). A tenant's own form matches only that tenant: `local` is the user of the
    machine, never a person who signed in as `local` (`oauth:local`)."""
    names = {str(entry.get("tenant") or ""), str(entry.get("approvedBy") or "")}
    if who == "local" or who.startswith(TENANT_FORMS[1:]):
        return who in names
    return f"oauth:{who}" in names


COLUMNS = ("time", "tool", "who", "target", "decision", "rule", "channel", "ids")
_RULE = re.compile(r"Refused by rule `([^`]+)`")


def who(entry: dict[str, Any]) -> str:
    """The tenant who asked, and the Vapi account (fingerprint) it acted on."""
    tenant = str(entry.get("tenant") or "?")
    account = str(entry.get("account") or "")[:8]
    return f"{tenant} @{account}" if account else tenant


def row_of(entry: dict[str, Any]) -> dict[str, str]:
    target = str(entry.get("target") or "")
    return {
        "time": str(entry.get("time") or "")[:19].replace("T", " "),
        "tool": str(entry.get("tool") or ""),
        "who": who(entry),
        "target": "sandbox" if target == "sandbox" else re.sub(r"^https?://", "", target),
        "decision": str(entry.get("decision") or ""),
        "rule": rule_of(entry),
        "channel": str(entry.get("channel") or "-"),
        "ids": ",".join(str(i) for i in entry.get("ids") or []) or "-",
    }


def rule_of(entry: dict[str, Any]) -> str:
    """The rule that refused an attempt (its `rule`, or the one its error names, for lines written before there was one); `-` otherwise."""
    if entry.get("decision") != "refused":
        return "-"
    if entry.get("rule"):
        return str(entry["rule"])
    found = _RULE.search(str(entry.get("error") or ""))
    return found.group(1) if found else "-"


def shown(text: str) -> str:
    """A cell as plain text: control and formatting characters (a newline, a terminal escape, a bidi override) written
    as escapes, so no field (a subject, an id Vapi answered with) can forge a row or drive the reader's terminal."""
    return "".join(ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp") else ch for ch in text)


def table(entries: list[dict[str, Any]]) -> str:
    """A plain-text table a human can read without jq."""
    rows = [{column: shown(value) for column, value in row_of(entry).items()} for entry in entries]
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in COLUMNS}
    widths["ids"] = len("ids")  # the last column is not padded
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in COLUMNS).rstrip()]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in COLUMNS).rstrip() for r in rows]
    return "\n".join(lines)
