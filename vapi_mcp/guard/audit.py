"""The audit file: JSON lines, each fsynced, one per guarded attempt."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import Refused
from ..redact import redact


class AuditLog:
    """Append-only JSON lines, each fsynced before the tool returns.

    One line per guarded attempt: time, tool, kind, summary, redacted request, rule results,
    decision (previewed, declined, cancelled, refused, dry-run, sent, failed), how it was
    confirmed (token, elicitation, allowlist), Vapi ids and error text.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def open(self) -> int:
        """A descriptor to append to; `Refused` when the file cannot be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise Refused("audit", f"the audit log {self.path} cannot be written ({exc.strerror}); nothing was sent.") from None

    def append(self, entry: dict[str, Any], fd: int | None = None) -> None:
        # Masked in the objects, then encoded: a secret can never break the line's JSON.
        line = json.dumps(redact(entry), separators=(",", ":"), ensure_ascii=False, default=str) + "\n"
        own = fd is None
        fd = self.open() if fd is None else fd
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        except OSError as exc:
            raise Refused("audit", f"the audit log {self.path} cannot be written ({exc.strerror}).") from None
        finally:
            if own:
                os.close(fd)
