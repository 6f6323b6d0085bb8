"""Keep secrets out of results, logs and the audit file."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

MASK = "***"

# Write-only fields of Vapi request bodies (provider credentials) and anything named like a secret.
SECRET_FIELDS = frozenset(
    {
        "twilioAuthToken",
        "twilioApiSecret",
        "twilioApiKey",
        "authToken",
        "apiKey",
        "apiSecret",
        "secret",
        "password",
        "token",
        "credential",
        "credentials",
        "privateKey",
        "authorization",
        "slackWebhookUrl",  # a simulation suite's: the URL itself lets anyone post to the channel
    }
)
_SECRET_NAME = re.compile(r"(secret|password|authtoken|accesstoken|apikey|authorization|privatekey)$", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def is_secret_field(name: str) -> bool:
    return name in SECRET_FIELDS or bool(_SECRET_NAME.search(name))


def redact_body(value: Any) -> Any:
    """A copy of a JSON-like value with every secret-named field masked."""
    if isinstance(value, dict):
        return {k: (MASK if is_secret_field(k) and v not in (None, "") else redact_body(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_body(v) for v in value]
    return value


class SecretScrubber:
    """Remembers secret values seen by this process and removes them from any text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str | None) -> None:
        if value and len(value) >= 6:
            with self._lock:
                self._values.add(value)

    def add_from_body(self, value: Any) -> None:
        """Remember the values of every secret-named field of a request body."""
        if isinstance(value, dict):
            for k, v in value.items():
                if is_secret_field(k) and isinstance(v, str):
                    self.add(v)
                else:
                    self.add_from_body(v)
        elif isinstance(value, list):
            for v in value:
                self.add_from_body(v)

    def scrub(self, text: str) -> str:
        text = _BEARER.sub(r"\1" + MASK, text)
        for secret in sorted(self._values, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        return text


scrubber = SecretScrubber()
"""The process-wide scrubber: every result, log line and audit line passes through it."""


class ScrubbingFilter(logging.Filter):
    """A logging filter that renders the message once and scrubs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not break logging
            return True
        record.msg = scrubber.scrub(message)
        record.args = None
        if record.exc_text:
            record.exc_text = scrubber.scrub(record.exc_text)
        return True
