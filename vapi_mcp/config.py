"""Settings: every option of the server is declared once, here, on the field it sets.

    batch_cap: int = setting(50, env="VAPI_MCP_BATCH_CAP", flag="--batch-cap", low=1, high=10_000,
                             help="most customers in one batch call")

A declaration (`setting(...)`) names the default, the environment variable, the flag (if any), the
range or rule the value keeps, and the help. Everything else is derived from it (`declared()`):

- reading the environment (`Settings.load`): the field's type says how (`bool`: 1/0, true/false,
  yes/no, on/off; `int` / `float`; `str`; `Path`; `tuple[str, ...]`: a comma list; `tuple[str, ...] | None`:
  a comma list of names), a blank value means the default, anything else that does not parse is a
  `ConfigError` naming the variable;
- the flags of every command (`cli`), with "(env NAME; default N)" in their help; a flag's string
  is read as the variable's is, and a flag wins over its variable;
- the checks every value passes, however it was given (from the environment, a flag, or code):
  `low` / `high`, and `check` for any other rule; each refusal names the setting (`--flag / ENV`);
- the README's configuration table lists every variable (tests/test_readme.py).

A new setting is one field with a `setting(...)` default on `Settings`, one of its sections (`Policy`,
`HttpLimits`), or `Serving` (what only `vapi-mcp serve` over HTTP reads), then a row in the README's table.
This module stays light: it is read before the MCP SDK loads.
"""

from __future__ import annotations

import os
import re
import stat
import types
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from .catalogue import toolsets_help, unknown_toolset, valid_names

DEFAULT_BASE_URL = "https://api.vapi.ai"
SANDBOX_BASE_URL = "http://sandbox.vapi.local"


def _state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "vapi-mcp"


SANDBOX_MEMORY = "memory"
"""`VAPI_MCP_SANDBOX_WORLD=memory`: the embedded sandbox's world lives in the server's process only."""


def _world(raw: str, label: str) -> str:
    """`memory`, or an absolute SQLite file path (`~` allowed): a relative path would name another file in every
    working directory."""
    raw = raw.strip()
    if raw.lower() == SANDBOX_MEMORY:
        return SANDBOX_MEMORY
    path = Path(raw).expanduser()
    if not path.is_absolute() or path.name in ("", ".", ".."):
        raise ConfigError(f"{label} must be `memory` or an absolute file path (~ allowed), got {raw!r}")
    return str(path)


def sandbox_world(env: Mapping[str, str], flag: str | None = None) -> str:
    """Where the sandbox keeps its world (`--sandbox-world` / `VAPI_MCP_SANDBOX_WORLD`): `memory`, or an
    absolute SQLite file path; default `sandbox.sqlite3` in the state directory, shared by every process of the user."""
    raw = (flag if flag is not None else env.get("VAPI_MCP_SANDBOX_WORLD") or "").strip()
    return _world(raw, "VAPI_MCP_SANDBOX_WORLD / --sandbox-world") if raw else str(_state_dir() / "sandbox.sqlite3")


def _split(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(part.strip() for part in value.replace(";", ",").split(",") if part.strip())


PLACEHOLDER = re.compile(r"^(?:\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{\{.*\}\}|%[A-Za-z_][A-Za-z0-9_]*%)$")
"""A value an MCP client left unexpanded: `${env:VAPI_API_KEY}`, `${VAPI_API_KEY}`, `$VAPI_API_KEY`, `{{...}}`, `%VAPI_API_KEY%`."""


def _key(value: str | None, label: str = "") -> str | None:
    """An API key, or None when unset, empty or a placeholder a client left unexpanded (`PLACEHOLDER`)."""
    value = (value or "").strip()
    return None if not value or PLACEHOLDER.match(value) else value


def unexpanded(env: Mapping[str, str]) -> str | None:
    """`NAME=value` of the first key variable whose value is an unexpanded placeholder, when no key is set."""
    for name in ("VAPI_API_KEY", "VAPI_TOKEN"):
        value = (env.get(name) or "").strip()
        if PLACEHOLDER.match(value):
            return f"{name}={value}"
    return None


class ConfigError(ValueError):
    """A setting has a value the server cannot use; the message names it and the rule."""


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def parse_bool(name: str, raw: str | None, default: bool = False) -> bool:
    """A yes/no setting: 1/0, true/false, yes/no, on/off (any case, spaces trimmed); unset or empty is `default`.

    Anything else is refused: a typo must never quietly mean "off" (for a guard, off is open).
    """
    value = (raw or "").strip().lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CONSENT_MODES = ("any", "human")
AUTH_MODES = ("token", "oauth")
"""`token`: one shared bearer token (`--auth-token`); `oauth`: each person signs in with the team's issuer."""
"""`any`: every consent channel, including the confirm token the agent relays; `human`: only a human channel."""


def parse_names(value: str | None) -> tuple[str, ...] | None:
    """A comma list of names; None when unset or empty."""
    names = tuple(part.strip().lower() for part in (value or "").split(",") if part.strip())
    return names or None


def check_toolsets(names: tuple[str, ...] | None, setting: str) -> None:
    """Refuse a toolset name that does not exist (`catalogue.TOOLSETS`), naming the valid ones."""
    unknown = unknown_toolset(names)
    if unknown is not None:
        raise ConfigError(f"{setting}: unknown toolset {unknown!r}; valid: {valid_names()}")


# ---- declaring a setting ------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One setting as its field declares it (`setting(...)`); `declared()` fills in the rest from the field."""

    env: tuple[str, ...]
    """Its environment variables; the first one set wins (VAPI_API_KEY, then VAPI_TOKEN)."""
    help: str
    flag: str | None = None
    low: float | None = None
    high: float | None = None
    unit: str = ""
    """Shown after a lower bound with no upper one: "at least 1024 (bytes)"."""
    negated: bool = False
    """The variable and flag say the opposite of the field (VAPI_MCP_NO_QUIET_HOURS=1 / --no-quiet-hours: quiet_hours off)."""
    case: str | None = None
    """"upper" or "lower": how a text value is normalized before it is checked."""
    choices: tuple[str, ...] = ()
    """The only values its flag takes (argparse refuses others)."""
    parse: Callable[[str, str], Any] | None = None
    """(raw text, label) -> value, for a text the field's type does not say how to read."""
    check: Callable[[Any, str], Any] | None = None
    """(value, label) -> the value to keep (normalized), or `ConfigError` naming the label and the rule."""
    shown: str | None = None
    """The default as the help shows it, when the field's own default is not it."""
    # filled in by `declared()`
    name: str = ""
    section: str | None = None
    kind: str = ""
    default: Any = None

    @property
    def label(self) -> str:
        """How messages name it: `--flag / VARIABLE`, or the variable alone."""
        return f"{self.flag} / {self.env[0]}" if self.flag else self.env[0]

    @property
    def shown_default(self) -> str | None:
        if self.shown is not None:
            return self.shown
        if self.kind == "bool" or self.default in (None, (), ""):
            return None
        return _shown(self.default) if isinstance(self.default, float) else str(self.default)

    def flag_help(self) -> str:
        """The flag's help: what it does, then "(env NAME; default N; LOW-HIGH)" derived from the declaration."""
        facts = [f"env {self.env[0]}"]
        if self.shown_default is not None:
            facts.append(f"default {self.shown_default}")
        if self.low is not None and self.high is not None:
            facts.append(f"{_shown(self.low)} to {_shown(self.high)}")
        elif self.low is not None:
            facts.append(f"at least {_shown(self.low)}")
        return f"{self.help} ({'; '.join(facts)})"

    def text(self, raw: str, name: str) -> Any:
        """A value read from text (a variable called `name`, or a flag); None when blank (not given)."""
        if self.parse is not None:
            return self.parse(raw, self.label) if raw.strip() else None
        if self.kind == "list":
            return _split(raw)
        if not raw.strip():
            return None
        if self.kind == "bool":
            return parse_bool(name, raw) is not self.negated
        if self.kind in ("int", "float"):
            try:
                return (int if self.kind == "int" else float)(raw.strip())
            except ValueError:
                raise ConfigError(f"{name} must be {'a whole number' if self.kind == 'int' else 'a number'}, got {raw!r}") from None
        if self.kind == "names":
            return parse_names(raw)
        if self.kind == "path":
            return Path(raw.strip()).expanduser()
        value = raw.strip()
        return value.upper() if self.case == "upper" else value.lower() if self.case == "lower" else value

    def checked(self, value: Any) -> Any:
        """`value` if it keeps this setting's rules (normalized by `check`), else `ConfigError` naming the setting."""
        if self.low is not None and isinstance(value, int | float) and not isinstance(value, bool):
            if self.high is None and value < self.low:
                unit = f" ({self.unit})" if self.unit else ""
                raise ConfigError(f"{self.label} must be at least {_shown(self.low)}{unit}, got {value}")
            if self.high is not None and not self.low <= value <= self.high:
                raise ConfigError(f"{self.label} must be between {_shown(self.low)} and {_shown(self.high)}, got {value}")
        return self.check(value, self.label) if self.check is not None else value


def _shown(number: float) -> str:
    """A number as a person writes it: 1000000, 10, 0.5."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def setting(default: Any = MISSING, *, env: str | tuple[str, ...], help: str, default_factory: Any = MISSING, **rules: Any) -> Any:
    """Declare a settings field: its default (or `default_factory`), environment variable(s), help, and
    `flag`, `low` / `high` (`unit`), `negated`, `case`, `choices`, `parse`, `check`, `shown` (see `Setting`)."""
    declaration = Setting(env=(env,) if isinstance(env, str) else env, help=help, **rules)
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata={"setting": declaration})
    return field(default=default, metadata={"setting": declaration})


def section(factory: Callable[[], Any]) -> Any:
    """A nested group of settings (`Settings.policy`, `Settings.http`)."""
    return field(default_factory=factory, metadata={"section": True})


def _check_all(instance: Any) -> None:
    """Every declared field of a settings dataclass keeps its rules (normalized values are kept)."""
    for f in fields(instance):
        declaration = f.metadata.get("setting")
        if declaration is not None:
            value = getattr(instance, f.name)
            kept = _declared_by_name()[f.name].checked(value)
            if kept is not value:
                object.__setattr__(instance, f.name, kept)


# ---- the rules that are more than a range -------------------------------------------------------


def _log_level(value: str, label: str) -> str:
    if value not in LOG_LEVELS:
        raise ConfigError(f"{label} must be one of {', '.join(LOG_LEVELS)}; got {value!r}")
    return value


def _one_of(choices: tuple[str, ...]) -> Callable[[str, str], str]:
    """A `check` that keeps a value only when it is one of `choices`."""

    def check(value: str, label: str) -> str:
        if value not in choices:
            raise ConfigError(f"{label} must be one of {', '.join(choices)}, got {value!r}")
        return value

    return check


_consent = _one_of(CONSENT_MODES)


def _toolsets(value: tuple[str, ...] | None, label: str) -> tuple[str, ...] | None:
    check_toolsets(value, label)
    return value


def _state_url(value: str, label: str) -> str:
    from .state import open_store

    try:
        open_store(value)  # only parses: nothing is opened or connected
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return value


def _numbers(entries: tuple[str, ...], label: str) -> tuple[str, ...]:
    return _normalized_entries("number", label, entries) if entries else ()  # phonenumbers loads only when set


def _countries(entries: tuple[str, ...], label: str) -> tuple[str, ...]:
    return _normalized_entries("country", label, entries) if entries else ()


def _normalized_entries(kind: str, setting: str, entries: tuple[str, ...]) -> tuple[str, ...]:
    """Numbers as E.164, countries as a calling code ('44') or an ISO region ('GB'); a malformed entry stops the start."""
    from .numbers import ASK_THE_USER, country_entry, resolve

    out: list[str] = []
    for entry in entries:
        if kind == "number":
            reading = resolve(entry)
            if reading.problem or reading.e164 is None:
                why = (reading.problem or "").replace(ASK_THE_USER, "").strip()
                raise ConfigError(f"{setting}: the entry {entry!r} must be a valid phone number in E.164 form (+ country code, like +14155550123). {why}")
            value = reading.e164
        else:
            try:
                value = country_entry(entry)
            except ValueError as exc:
                raise ConfigError(f"{setting}: {exc}") from None
        if value not in out:
            out.append(value)
    return tuple(out)


def _processes(raw: str, label: str) -> int:
    try:
        count = int(raw.strip())
    except ValueError:
        count = 0
    if count < 1:
        raise ConfigError(f"{label} must be a whole number of processes, 1 or more; got {raw!r}")
    return count


def _secret(raw: str, label: str) -> str:
    return raw  # as given: a secret is never trimmed or changed


# ---- the settings -------------------------------------------------------------------------------


ORIGINS_SETTING = "--allowed-origins / VAPI_MCP_ALLOWED_ORIGINS"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_entry(value: str) -> str:
    """A browser origin as browsers send it in `Origin`: scheme, host and a port other than the scheme's default,
    in lower case (`https://app.example.com`, `http://127.0.0.1:5173`); ValueError naming the rule otherwise."""
    from urllib.parse import urlsplit

    text = value.strip()
    if text in ("*", "null"):
        raise ValueError(f"{text!r} is not an origin: name each page's origin (https://app.example.com); "
                         f"{'a wildcard would let any web page' if text == '*' else 'null is the origin of any sandboxed or local page, and would let any of them'} call this server")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r} is not an origin (scheme://host[:port])") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{text!r} is not an origin: scheme://host[:port] with http or https, no path (like https://app.example.com)")
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def _origins(entries: tuple[str, ...], label: str = ORIGINS_SETTING) -> tuple[str, ...]:
    out: list[str] = []
    for entry in entries:
        try:
            origin = origin_entry(entry)
        except ValueError as exc:
            raise ConfigError(f"{label}: {exc}") from None
        if origin not in out:
            out.append(origin)
    return tuple(out)


@dataclass(frozen=True)
class Policy:
    """The guard's rules. Defaults are the safe ones described in the README."""

    allow_numbers: tuple[str, ...] = setting(
        (), env="VAPI_MCP_ALLOW_NUMBERS", flag="--allow-numbers", check=_numbers, help="comma list of E.164 numbers; only these may be called"
    )
    """E.164 numbers (normalized at start; an entry that is not a valid number stops the server)."""
    deny_numbers: tuple[str, ...] = setting(
        (), env="VAPI_MCP_DENY_NUMBERS", flag="--deny-numbers", check=_numbers, help="comma list of E.164 numbers never to call"
    )
    allow_countries: tuple[str, ...] = setting(
        (), env="VAPI_MCP_ALLOW_COUNTRIES", flag="--allow-countries", check=_countries, help="comma list of calling codes (1, 44) or regions (US, GB)"
    )
    """Country calling codes (`1`, `44`) or ISO regions (`US`, `GB`), normalized to `44` / `GB`; empty means any."""
    deny_countries: tuple[str, ...] = setting(
        (), env="VAPI_MCP_DENY_COUNTRIES", flag="--deny-countries", check=_countries, help="comma list of calling codes or regions never to call"
    )
    batch_cap: int = setting(50, env="VAPI_MCP_BATCH_CAP", flag="--batch-cap", low=1, high=10_000, help="most customers in one batch call")
    campaign_cap: int = setting(
        1000, env="VAPI_MCP_CAMPAIGN_CAP", flag="--campaign-cap", low=1, high=10_000, help="most contacts in one campaign (Vapi allows 10000)"
    )
    """Most contacts in one campaign (Vapi's own limit is 10,000); each contact also counts against `daily_cap`."""
    daily_cap: int = setting(
        100, env="VAPI_MCP_DAILY_CAP", flag="--daily-cap", low=0, high=1_000_000, help="most guarded dials and texts per Vapi account per UTC day, across sessions"
    )
    daily_cap_per_person: int | None = setting(
        None,
        env="VAPI_MCP_DAILY_CAP_PER_PERSON",
        flag="--daily-cap-per-person",
        low=0,
        high=1_000_000,
        shown="no such cap",
        help="most guarded dials and texts per person (the audit's who) per UTC day, across accounts",
    )
    """Most guarded dials and texts per person (the audit's `tenant`: a signed-in subject, `local`...) per UTC day, across
    every account; None means no such cap (the account's `daily_cap` still holds)."""
    per_number_cap: int = setting(
        3, env="VAPI_MCP_PER_NUMBER_CAP", flag="--per-number-cap", low=1, high=1000, help="most guarded dials and texts to one number per UTC day, across sessions and accounts"
    )
    """Most guarded dials to one number (as resolved) per UTC day, whatever the account or person, across every session and
    replica sharing the state store."""
    quiet_hours: bool = setting(True, env="VAPI_MCP_NO_QUIET_HOURS", flag="--no-quiet-hours", negated=True, help="allow calls at any local hour")
    quiet_start: int = setting(8, env="VAPI_MCP_QUIET_START", flag="--quiet-start", low=0, high=23, help="first allowed local hour")
    """First local hour (0-23) at which calls are allowed."""
    quiet_end: int = setting(21, env="VAPI_MCP_QUIET_END", flag="--quiet-end", low=0, high=24, help="local hour from which calls are refused")
    """Local hour (0-24) from which calls are refused again."""
    confirm_ttl: int = setting(300, env="VAPI_MCP_CONFIRM_TTL", flag="--confirm-ttl", low=10, high=86_400, help="seconds a confirm token stays valid")
    auto_approve_allowlisted: bool = setting(
        False, env="VAPI_MCP_AUTO_APPROVE_ALLOWLISTED", flag="--auto-approve-allowlisted", help="dial allow-listed numbers without asking (test pipelines)"
    )
    consent: str = setting(
        "any",
        env="VAPI_MCP_CONSENT",
        flag="--consent",
        case="lower",
        choices=CONSENT_MODES,
        check=_consent,
        help="any: a confirm token relayed by the agent also confirms; human: only elicitation or the MCP Apps view",
    )
    """One of `CONSENT_MODES`: under `human` no confirm token is issued or accepted."""
    # At most the SDK's request-state lifetime (600 s): a 2026-07-28 client's answer must still carry valid state.
    confirm_wait: int = setting(
        180, env="VAPI_MCP_CONFIRM_WAIT", flag="--confirm-wait", low=1, high=600, help="seconds the human has to answer a confirmation question"
    )
    """Seconds the human has to answer an elicitation; then the action is refused (`timed-out`)."""

    def __post_init__(self) -> None:
        _check_all(self)


@dataclass(frozen=True)
class HttpLimits:
    """What one HTTP/SSE server process holds for its clients, at most (the README's "HTTP limits")."""

    request_read_timeout: float = setting(
        10.0, env="VAPI_MCP_REQUEST_READ_TIMEOUT", flag="--request-read-timeout", low=1, high=300, help="seconds a client has to send a whole request"
    )
    """Seconds a client has to send a whole request (headers and body) once it connects or its last
    answer ends; then the connection is closed. Half-sent requests cannot pile up."""
    max_connections: int = setting(1000, env="VAPI_MCP_MAX_CONNECTIONS", flag="--max-connections", low=8, high=100_000, help="open connections at most")
    """Open connections at most (clamped below the process's file-descriptor limit). At the limit a
    new connection closes the oldest one still waiting for its request; if none waits, it gets 503."""
    session_idle_timeout: float = setting(
        600.0, env="VAPI_MCP_SESSION_IDLE_TIMEOUT", flag="--session-idle-timeout", low=1, high=86_400, help="seconds an idle streamable HTTP session lives"
    )
    """Seconds a streamable HTTP session may go without any request in flight (and no open GET stream)
    before it is closed; its id then answers 404 and the client opens a new session."""
    max_sessions: int = setting(1000, env="VAPI_MCP_MAX_SESSIONS", flag="--max-sessions", low=1, high=100_000, help="open streamable HTTP sessions at most")
    """Open streamable HTTP sessions at most; beyond it a new session gets 503 (open ones are unaffected)."""

    def __post_init__(self) -> None:
        _check_all(self)


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to run; build it with `Settings.load`."""

    api_key: str | None = setting(None, env=("VAPI_API_KEY", "VAPI_TOKEN"), parse=_key, help="the Vapi private API key; none means the sandbox")
    base_url: str = setting(DEFAULT_BASE_URL, env="VAPI_BASE_URL", flag="--base-url", help="Vapi API base URL")
    force_sandbox: bool = setting(False, env="VAPI_MCP_SANDBOX", flag="--sandbox", help="use the embedded sandbox even if VAPI_API_KEY is set")
    read_only: bool = setting(False, env="VAPI_MCP_READ_ONLY", flag="--read-only", help="register no tool that changes anything")
    dry_run: bool = setting(False, env="VAPI_MCP_DRY_RUN", flag="--dry-run", help="check and confirm guarded actions but never send them")
    log_level: str = setting(
        "WARNING",
        env="VAPI_MCP_LOG_LEVEL",
        flag="--log-level",
        case="upper",
        check=_log_level,
        help="DEBUG, INFO, WARNING, ERROR or CRITICAL; logs go to stderr",
    )
    timeout: float = setting(30.0, env="VAPI_MCP_TIMEOUT", help="seconds per Vapi request")
    max_response_bytes: int = setting(
        64 * 1024 * 1024, env="VAPI_MCP_MAX_RESPONSE_BYTES", low=1024, unit="bytes", help="the largest Vapi answer read; a bigger one is an error saying so"
    )
    """The largest Vapi answer read; a bigger one is an error saying so (VAPI_MCP_MAX_RESPONSE_BYTES).
    Far above Vapi's largest answer (a list of 1000 calls of ~12 KB each is ~12 MB)."""
    upload_max_bytes: int = setting(
        10 * 1024 * 1024,
        env="VAPI_MCP_UPLOAD_MAX_BYTES",
        flag="--upload-max-bytes",
        low=1,
        high=100 * 1024 * 1024,
        unit="bytes",
        help="the largest local file upload_file reads and sends (Vapi advises knowledge-base files under 300 KB)",
    )
    """The largest local file `upload_file` reads and sends; a bigger one is refused before it is read."""
    audit_log: Path = setting(
        env="VAPI_MCP_AUDIT_LOG",
        flag="--audit-log",
        default_factory=lambda: _state_dir() / "audit.jsonl",
        shown="~/.local/state/vapi-mcp/audit.jsonl",
        help="audit file",
    )
    sandbox_audit_log: Path | None = setting(
        None,
        env="VAPI_MCP_SANDBOX_AUDIT_LOG",
        flag="--sandbox-audit-log",
        shown="audit-sandbox.jsonl beside the audit file",
        help="audit file of sandbox attempts",
    )
    """Where sandbox attempts are audited; None means `audit-sandbox.jsonl` beside `audit_log`."""
    state_url: str = setting(
        env="VAPI_MCP_STATE_URL",
        flag="--state-url",
        default_factory=lambda: f"sqlite://{_state_dir() / 'state.sqlite3'}",
        shown="an SQLite file in ~/.local/state/vapi-mcp/",
        check=_state_url,
        help="the guard's shared state: redis://host:6379/0 for replicas",
    )
    """The guard's state store (`vapi_mcp.state`): an SQLite file shared by the user's sessions, or Redis."""
    sandbox_speed: float = setting(1.0, env="VAPI_MCP_SANDBOX_SPEED", help="how many times faster than real time sandbox calls progress")
    """How many times faster than real time the embedded sandbox's calls progress."""
    sandbox_world: str = setting(
        env="VAPI_MCP_SANDBOX_WORLD",
        flag="--sandbox-world",
        default_factory=lambda: str(_state_dir() / "sandbox.sqlite3"),
        check=_world,
        shown="sandbox.sqlite3 in the state directory",
        help="where the embedded sandbox keeps its world: an SQLite file every process of the user shares, or memory",
    )
    """Where the embedded sandbox keeps its world: an absolute SQLite file path, or `memory`."""
    confirm_secret: str | None = setting(None, env="VAPI_MCP_CONFIRM_SECRET", parse=_secret, help="HMAC key of confirm tokens; the same on every replica")
    """HMAC key for confirm tokens; set it on every replica of a multi-replica deployment."""
    policy: Policy = section(Policy)
    http: HttpLimits = section(HttpLimits)
    toolsets: tuple[str, ...] | None = setting(None, env="VAPI_MCP_TOOLSETS", flag="--toolsets", check=_toolsets, help=toolsets_help())
    """Toolsets agents see (`catalogue.TOOLSETS`, `all`, `default`); None means the default selection."""
    tools: tuple[str, ...] | None = setting(
        None, env="VAPI_MCP_TOOLS", flag="--tools", help="comma list of single tools agents see, added to --toolsets; alone, only these"
    )
    """Single tools agents see, in addition to `toolsets` (alone: only these); None means none named."""
    allowed_origins: tuple[str, ...] = setting(
        (),
        env="VAPI_MCP_ALLOWED_ORIGINS",
        flag="--allowed-origins",
        check=_origins,
        help="comma list of browser origins (https://app.example.com) whose pages may call the HTTP transport (CORS)",
    )
    """Browser origins whose pages may call the HTTP transport (CORS), normalized as browsers send `Origin`; never `*`."""
    fast_start: bool = setting(True, env="VAPI_MCP_FAST_START", help="over stdio, answer a client's opening from an earlier run's cache")
    """Over stdio, answer the handshake from the cache of an earlier run while the SDK loads (stdio.py)."""
    unexpanded_key: str | None = None
    """`VAPI_API_KEY=${env:VAPI_API_KEY}` when the key variable holds a placeholder the MCP client did not expand
    (so the server runs on the sandbox, and says why, in its warning and its instructions); set by `load`."""
    problem: str | None = None
    """Why the configured settings cannot be used. Over stdio the server starts anyway, says so in its
    instructions and refuses every tool call with this text (see `Settings.unusable`)."""

    def __post_init__(self) -> None:
        _check_all(self)

    @classmethod
    def unusable(cls, problem: str) -> Settings:
        """Settings for a server that only reports `problem`: it lists the default tools and refuses every
        call with `problem` (and, should anything slip through, it is sandboxed and a dry run)."""
        return cls(force_sandbox=True, dry_run=True, problem=problem)

    @property
    def sandbox(self) -> bool:
        """True when requests go to the embedded sandbox instead of Vapi."""
        return self.force_sandbox or not self.api_key

    @property
    def sandbox_audit_path(self) -> Path:
        """The audit file of sandbox attempts: its own file unless set, so they never mix with real dials."""
        if self.sandbox_audit_log is not None:
            return self.sandbox_audit_log
        return self.audit_log.with_name(f"{self.audit_log.stem}-sandbox{self.audit_log.suffix}")

    @property
    def effective_base_url(self) -> str:
        return SANDBOX_BASE_URL if self.sandbox else self.base_url.rstrip("/")

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, *, flags: Mapping[str, Any] | None = None, **overrides: Any) -> Settings:
        """The environment's settings, then the flags of a command line (`vars()` of its parsed namespace, as
        `cli` builds it from `declared()`), then explicit overrides by field name (values, as code has them);
        `None` means not given, and anything not given keeps its default.
        """
        env = os.environ if env is None else env
        settings = _load(cls, env, flags or {}, overrides)
        placeholder = unexpanded(env) if settings.api_key is None else None
        return replace(settings, unexpanded_key=placeholder) if placeholder else settings


@dataclass(frozen=True)
class Serving:
    """What only `vapi-mcp serve` over HTTP/SSE reads (`Serving.load`): the bearer token, the host names
    clients may use, and the worker processes."""

    auth_token: str | None = setting(
        None,
        env="VAPI_MCP_AUTH_TOKEN",
        flag="--auth-token",
        help="bearer token required on every HTTP request; required off loopback, at least 16 characters",
    )
    allowed_hosts: tuple[str, ...] = setting(
        (),
        env="VAPI_MCP_ALLOWED_HOSTS",
        flag="--allowed-hosts",
        help="comma list of host names (name or name:port) clients may use off loopback (DNS-rebinding protection)",
    )
    workers: int = setting(1, env="VAPI_MCP_WORKERS", flag="--workers", parse=_processes, help="processes serving --transport http --stateless")
    auth: str = setting(
        "token",
        env="VAPI_MCP_AUTH",
        flag="--auth",
        case="lower",
        choices=AUTH_MODES,
        check=_one_of(AUTH_MODES),
        help="token: one shared bearer token (--auth-token); oauth: each person signs in with the team's issuer",
    )
    oauth_issuer: str | None = setting(None, env="VAPI_MCP_OAUTH_ISSUER", flag="--oauth-issuer", help="the OAuth/OpenID issuer whose access tokens are accepted")
    oauth_audience: str | None = setting(
        None, env="VAPI_MCP_OAUTH_AUDIENCE", flag="--oauth-audience", help="what a token's aud must name, when the issuer does not use --public-url"
    )
    public_url: str | None = setting(
        None, env="VAPI_MCP_PUBLIC_URL", flag="--public-url", help="this server's /mcp URL as clients reach it, e.g. https://mcp.example.com/mcp"
    )

    def __post_init__(self) -> None:
        _check_all(self)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, *, flags: Mapping[str, Any] | None = None) -> Serving:
        return _load(cls, os.environ if env is None else env, flags or {}, {})


# ---- reading the declarations -------------------------------------------------------------------

SETTINGS_CLASSES = (Settings, Serving)


@cache
def declared(cls: type = Settings) -> tuple[Setting, ...]:
    """Every setting `cls` declares, its sections' too, in declaration order, each completed from its field."""
    found: list[Setting] = []
    hints = get_type_hints(cls)
    for f in fields(cls):
        if f.metadata.get("section"):
            found += [replace(s, section=f.name) for s in declared(hints[f.name])]
            continue
        declaration = f.metadata.get("setting")
        if declaration is None:
            continue
        default = f.default if f.default is not MISSING else None
        found.append(replace(declaration, name=f.name, kind=_kind(hints[f.name]), default=default))
    return tuple(found)


@cache
def _declared_by_name() -> dict[str, Setting]:
    every = [s for cls in SETTINGS_CLASSES for s in declared(cls)]
    by_name = {s.name: s for s in every}
    assert len(by_name) == len(every), "two settings share a field name (flags use it as their dest)"
    return by_name


def _kind(hint: Any) -> str:
    """How text becomes the field's value, from its type."""
    if get_origin(hint) in (Union, types.UnionType):
        inner = [arg for arg in get_args(hint) if arg is not type(None)]
        return "names" if get_origin(inner[0]) is tuple else _kind(inner[0])
    if get_origin(hint) is tuple:
        return "list"
    return {bool: "bool", int: "int", float: "float", str: "str", Path: "path"}[hint]


def _load(cls: type, env: Mapping[str, str], flags: Mapping[str, Any], overrides: Mapping[str, Any]) -> Any:
    """Build `cls` from the environment, then the flags, then the overrides (values), by its declarations."""
    settings = declared(cls)
    unknown = set(overrides) - {s.name for s in settings}
    if unknown:
        raise TypeError(f"{cls.__name__} has no setting {sorted(unknown)[0]!r}")
    top: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    for s in settings:
        value = _given(s, env, flags, overrides)
        if value is not None:
            (sections.setdefault(s.section, {}) if s.section else top)[s.name] = value
    hints = get_type_hints(cls)
    for name, section_values in sections.items():
        top[name] = hints[name](**section_values)
    return cls(**top)


def _given(s: Setting, env: Mapping[str, str], flags: Mapping[str, Any], overrides: Mapping[str, Any]) -> Any:
    """The value given for `s`, or None: an override wins over a flag, a flag over the environment. Every
    variable given is read (a malformed one is refused even where a flag overrides it)."""
    value = None
    for name in s.env:
        raw = env.get(name)
        value = None if raw is None else s.text(raw, name)
        if value is not None:
            break
    flagged = flags.get(s.name) if s.flag else None
    if isinstance(flagged, str):
        flagged = s.text(flagged, s.flag or s.env[0])
    if flagged is not None:
        value = flagged
    if overrides.get(s.name) is not None:
        value = overrides[s.name]
        if s.kind == "path" and not isinstance(value, Path):
            value = Path(value).expanduser()
    return value


def file_problem(path: Path, info: os.stat_result, what: str = "audit file") -> str | None:
    """Why an existing audit (or state) file must not be used, with the fix; None if it is fine."""
    if stat.S_ISLNK(info.st_mode):
        return f"the {what} {path} is a symbolic link; it is never written through one. Remove the link or point the setting at a regular file."
    if not stat.S_ISREG(info.st_mode):
        return f"the {what} {path} is not a regular file."
    if info.st_uid != os.geteuid():
        return f"the {what} {path} belongs to another user (uid {info.st_uid}); use a file of your own."
    if info.st_mode & 0o077:
        return f"the {what} {path} can be read or written by other users (mode {stat.S_IMODE(info.st_mode):04o}); fix it with: chmod 600 {path}"
    return None


def check_audit_files(settings: Settings) -> None:
    """At start: refuse audit files (and the SQLite state file) the guard would refuse to write (`ConfigError`: exit 2,
    the fix named).

    Here, not in the guard, so that the check costs a stat and not the import of the MCP SDK."""
    files = [(settings.audit_log, "VAPI_MCP_AUDIT_LOG", "audit"), (settings.sandbox_audit_path, "VAPI_MCP_SANDBOX_AUDIT_LOG", "audit")]
    if settings.state_url.split(":", 1)[0].lower() == "sqlite":
        from .state import sqlite_path

        state = sqlite_path(settings.state_url)
        files += [(Path(f"{state}{suffix}"), "VAPI_MCP_STATE_URL", "state") for suffix in ("", "-wal", "-shm")]
    for path, setting, kind in files:
        if path.parent.is_symlink():
            raise ConfigError(f"{setting}: the {kind} directory {path.parent} is a symbolic link; name the real directory instead.")
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ConfigError(f"{setting}: the {kind} file {path} cannot be checked ({exc.strerror}).") from None
        problem = file_problem(path, info, f"{kind} file")
        if problem:
            raise ConfigError(f"{setting}: {problem}")
