"""Keep secrets out of results, logs and the audit file.

Two mechanisms, both applied before anything is encoded:

- **by field**: any value under a secret-named key (`twilioAuthToken`, `apiKey`, `X-Api-Key`,
  `Cookie`, `Proxy-Authorization`, `Authentication`, `X-Auth`, `X-Hub-Signature-256`...) is masked in
  the objects themselves (`redact`);
- **in URLs**: wherever a string holds a URL, a password in it (`https://user:pass@host`) and the values
  of secret-named query parameters (`?token=`, `?api_key=`, `?sig=`...) are masked;
- **known secrets**: values that must never show up even inside free text (an error
  message, a log line) are replaced inside each string value, never inside encoded JSON.
  They come from the configuration (`scrubber.add`: the API key, the HTTP auth token, the
  confirm secret...) and, for the length of one request, from that request alone
  (`request_secrets`: its `X-Vapi-Key`, the validated secret fields of its arguments).
  Nothing a caller sends can add to the process-wide set.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import fields, is_dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:  # pydantic loads with the server, not with the logging set up at start (stdio.py's fast start)
    from pydantic import BaseModel

MASK = "***"
MIN_SECRET_LENGTH = 6
"""Shorter values are masked by field only: replacing them in free text would mangle ordinary words."""

_SECRET_SUFFIXES = (
    "secret",
    "auth",
    "authentication",
    "signature",
    "password",
    "passwd",
    "passphrase",
    "token",
    "key",
    "authorization",
    "cookie",
    "credential",
    "credentials",
)
_NOT_SECRET = frozenset(
    {
        "confirmtoken",  # this server's own confirmation, handed to the agent on purpose
        "pagetoken",
        "nextpagetoken",
        "key",  # a filter's or a variable's key (`{"key": "number"}`), not a credential
        "publickey",
        "systemkey",
        "promptcachekey",
        "providerconfigkey",
    }
)
_SECRET_NAMES = frozenset({"slackwebhookurl"})
"""Secrets whose names end like ordinary fields: a Slack webhook URL lets anyone post to the channel."""
_QUERY_ONLY = frozenset({"key", "sig", "signature", "auth", "code", "pwd", "pass"})
"""Query parameters that carry credentials in URLs (`?key=...`) though the same names are ordinary fields in bodies."""

_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@\"']*):([^/\s@\"']+)@")
"""A URL's `user:password@`: the password is masked, the user and host kept."""
_QUERY_PARAM = re.compile(r"([?&;])([^=&;#\s\"'?]+)=([^&;#\s\"']*)")


def _normalized(name: str) -> str:
    """`X-Api-Key`, `x_api_key` and `xApiKey` all become `xapikey`; a version after the name goes (`X-Hub-Signature-256`)."""
    return "".join(ch for ch in name.lower() if ch.isalnum()).rstrip("0123456789")


@functools.lru_cache(maxsize=4096)
def is_secret_field(name: str) -> bool:
    """True for a field or header name that holds a credential, in any spelling (hyphen, underscore, camel)."""
    normal = _normalized(name)
    return normal in _SECRET_NAMES or (normal not in _NOT_SECRET and normal.endswith(_SECRET_SUFFIXES))


def is_secret_param(name: str) -> bool:
    """True for a URL query parameter that holds a credential (`token`, `api_key`, `key`, `sig`...)."""
    normal = _normalized(unquote(name))
    return normal in _QUERY_ONLY or is_secret_field(normal)


class SecretScrubber:
    """The known secret values: the configured ones for the process, plus the current request's own."""

    def __init__(self) -> None:
        self._configured: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, value: str | None) -> None:
        """Remember a secret from the configuration (API key, auth token, confirm secret...).

        For configuration only: a value a caller sends belongs in `request_secrets`.
        """
        if value and len(value) >= MIN_SECRET_LENGTH:
            with self._lock:
                self._configured = self._configured | {value}

    @property
    def configured(self) -> frozenset[str]:
        return self._configured

    def known(self) -> tuple[str, ...]:
        """Every secret to scrub right now, longest first (a secret containing another goes first)."""
        current = _REQUEST_SECRETS.get()
        values = self._configured.union(current) if current else self._configured
        return tuple(sorted(values, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        """Free text (an error message, a log line) without bearer tokens, secret query values or known secrets."""
        return _mask_text(text, self.known(), urls=True)


scrubber = SecretScrubber()
"""The process-wide scrubber: every result, log line and audit line passes through it."""

_REQUEST_SECRETS: ContextVar[frozenset[str]] = ContextVar("vapi_mcp_request_secrets", default=frozenset())


@contextmanager
def request_secrets(values: Iterable[str | None]) -> Iterator[None]:
    """Scrub these values too, for the code (and the log lines) of the current request only."""
    added = frozenset(v for v in values if v and len(v) >= MIN_SECRET_LENGTH)
    token = _REQUEST_SECRETS.set(_REQUEST_SECRETS.get() | added)
    try:
        yield
    finally:
        _REQUEST_SECRETS.reset(token)


def secret_values(model: BaseModel) -> list[str]:
    """The values of the secret fields a validated input model declares (e.g. `twilioAuthToken`).

    Only declared fields count: objects passed through as they are (metadata, overrides)
    are masked by field name in output but never teach the scrubber anything.
    """
    from pydantic import BaseModel, RootModel

    if isinstance(model, RootModel):
        root = model.root
        return secret_values(root) if isinstance(root, BaseModel) else []
    found: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name, None)
        if isinstance(value, str) and is_secret_field(name):
            found.append(value)
        elif isinstance(value, BaseModel):
            found.extend(secret_values(value))
        elif isinstance(value, list):
            found.extend(s for item in value if isinstance(item, BaseModel) for s in secret_values(item))
    return found


def settings_secrets(settings: Any) -> list[str]:
    """The secrets in a settings object: secret-named fields, and the password of any URL."""
    if not is_dataclass(settings):
        return []
    found = []
    for f in fields(settings):
        value = getattr(settings, f.name, None)
        if not isinstance(value, str) or not value:
            continue
        if is_secret_field(f.name):
            found.append(value)
        elif "://" in value:
            try:
                parts = urlsplit(value)
                password = parts.password
            except ValueError:
                continue
            if password:
                found.extend({password, unquote(password)})
            for name, given in parse_qsl(parts.query, keep_blank_values=True):  # redis://host/0?password=...
                if given and is_secret_param(name):
                    found.append(given)
    return found


def redact(value: Any) -> Any:
    """A copy of a JSON-like value: secret-named fields masked, known secrets masked inside every string."""
    return _redact(value, scrubber.known())


def _redact(value: Any, known: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str):
                masked = is_secret_field(key) and item not in (None, "")
                key = _mask_text(key, known)
            else:
                masked = False
            out[key] = MASK if masked else _redact(item, known)
        return out
    if isinstance(value, list | tuple):
        return [_redact(item, known) for item in value]
    if isinstance(value, str):
        return _mask_text(value, known, urls=True)
    return value


def _mask_text(text: str, known: tuple[str, ...], *, urls: bool = False) -> str:
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(r"\1" + MASK, text)
    if urls and "=" in text:
        text = scrub_query(text)
    if urls and "@" in text and "://" in text:
        text = _USERINFO.sub(r"\1:" + MASK + "@", text)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def scrub_query(text: str) -> str:
    """Mask the values of secret-named query parameters in every URL of `text` (`?token=...` -> `?token=***`)."""

    def mask(match: re.Match[str]) -> str:
        sep, name, value = match.groups()
        return f"{sep}{name}={MASK}" if value and is_secret_param(name) else match.group(0)

    return _QUERY_PARAM.sub(mask, text)


class ScrubbingFilter(logging.Filter):
    """A logging filter that scrubs each record before any handler formats it.

    By default the message is rendered once and scrubbed. With `keep_args` (uvicorn's
    access log, whose formatter unpacks `record.args`) each argument is scrubbed in place.
    """

    def __init__(self, name: str = "", *, keep_args: bool = False) -> None:
        super().__init__(name)
        self.keep_args = keep_args

    def filter(self, record: logging.LogRecord) -> bool:
        if self.keep_args and isinstance(record.args, tuple):
            record.args = tuple(scrubber.scrub(a) if isinstance(a, str) else a for a in record.args)
            if isinstance(record.msg, str):
                record.msg = scrubber.scrub(record.msg)
        else:
            try:
                message = record.getMessage()
            except Exception:  # a broken format string must not break logging
                return True
            record.msg = scrubber.scrub(message)
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrubber.scrub(record.exc_text)
        return True


ACCESS_LOGGER = "uvicorn.access"


def install_access_log_filter() -> None:
    """Scrub uvicorn's access log (request lines carry query strings: `?token=...`). Idempotent."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, ScrubbingFilter) for f in logger.filters):
        logger.addFilter(ScrubbingFilter(keep_args=True))
