"""Settings: every option comes from a `VAPI_*` environment variable or a CLI flag."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

DEFAULT_BASE_URL = "https://api.vapi.ai"
SANDBOX_BASE_URL = "http://sandbox.vapi.local"


def _state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "vapi-mcp"


def _split(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(part.strip() for part in value.replace(";", ",").split(",") if part.strip())


def _key(value: str | None) -> str | None:
    """An API key, or None when unset, empty or a placeholder a client left unexpanded (`${VAPI_API_KEY}`)."""
    value = (value or "").strip()
    return None if not value or value.startswith("${") else value


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

TOOLSETS = ("calls", "numbers", "assistants", "tools", "testing", "campaigns", "analytics")
"""Every toolset a tool family may declare (`toolset = "calls"` in its module), in catalogue order."""
DEFAULT_TOOLSETS = ("calls", "numbers", "assistants")
DEFAULT_TOOLS = ("chat_with_assistant",)
"""The default selection: three whole toolsets and the smoke test a new user runs first (from `testing`)."""
TOOLSET_WORDS = ("all", "default")


def parse_names(value: str | None) -> tuple[str, ...] | None:
    """A comma list of names; None when unset or empty."""
    names = tuple(part.strip().lower() for part in (value or "").split(",") if part.strip())
    return names or None


def check_toolsets(names: tuple[str, ...] | None, setting: str) -> None:
    """Refuse a toolset name that does not exist, naming the valid ones."""
    unknown = [name for name in names or () if name not in TOOLSETS and name not in TOOLSET_WORDS]
    if unknown:
        raise ConfigError(f"{setting}: unknown toolset {unknown[0]!r}; valid: {', '.join(TOOLSETS + TOOLSET_WORDS)}")


def _number(env: Mapping[str, str], name: str, default: float, kind: type = int) -> Any:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return kind(raw.strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what}, got {raw!r}") from None


def _max_response_bytes(env: Mapping[str, str]) -> int:
    value = _number(env, "VAPI_MCP_MAX_RESPONSE_BYTES", Settings.max_response_bytes)
    if value < 1024:
        raise ConfigError(f"VAPI_MCP_MAX_RESPONSE_BYTES must be at least 1024 (bytes), got {value}")
    return value


_RANGES = {
    "batch_cap": (1, 10_000, "--batch-cap / VAPI_MCP_BATCH_CAP"),
    "campaign_cap": (1, 10_000, "--campaign-cap / VAPI_MCP_CAMPAIGN_CAP"),
    "daily_cap": (0, 1_000_000, "--daily-cap / VAPI_MCP_DAILY_CAP"),
    "quiet_start": (0, 23, "--quiet-start / VAPI_MCP_QUIET_START"),
    "quiet_end": (0, 24, "--quiet-end / VAPI_MCP_QUIET_END"),
    "confirm_ttl": (10, 86_400, "--confirm-ttl / VAPI_MCP_CONFIRM_TTL"),
    # At most the SDK's request-state lifetime (600 s): a 2026-07-28 client's answer must still carry valid state.
    "confirm_wait": (1, 600, "--confirm-wait / VAPI_MCP_CONFIRM_WAIT"),
}

CONSENT_MODES = ("any", "human")
"""`any`: every consent channel, including the confirm token the agent relays; `human`: only a human channel."""


_LISTS = {
    "allow_numbers": ("number", "--allow-numbers / VAPI_MCP_ALLOW_NUMBERS"),
    "deny_numbers": ("number", "--deny-numbers / VAPI_MCP_DENY_NUMBERS"),
    "allow_countries": ("country", "--allow-countries / VAPI_MCP_ALLOW_COUNTRIES"),
    "deny_countries": ("country", "--deny-countries / VAPI_MCP_DENY_COUNTRIES"),
}


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


@dataclass(frozen=True)
class Policy:
    """The guard's rules. Defaults are the safe ones described in the README."""

    allow_numbers: tuple[str, ...] = ()
    """E.164 numbers (normalized at start; an entry that is not a valid number stops the server)."""
    deny_numbers: tuple[str, ...] = ()
    allow_countries: tuple[str, ...] = ()
    """Country calling codes (`1`, `44`) or ISO regions (`US`, `GB`), normalized to `44` / `GB`; empty means any."""
    deny_countries: tuple[str, ...] = ()
    batch_cap: int = 50
    campaign_cap: int = 1000
    """Most contacts in one campaign (Vapi's own limit is 10,000); each contact also counts against `daily_cap`."""
    daily_cap: int = 100
    quiet_hours: bool = True
    quiet_start: int = 8
    """First local hour (0-23) at which calls are allowed."""
    quiet_end: int = 21
    """Local hour (0-24) from which calls are refused again."""
    confirm_ttl: int = 300
    auto_approve_allowlisted: bool = False
    consent: str = "any"
    """One of `CONSENT_MODES`: under `human` no confirm token is issued or accepted."""
    confirm_wait: int = 180
    """Seconds the human has to answer an elicitation; then the action is refused (`timed-out`)."""

    def __post_init__(self) -> None:
        if self.consent not in CONSENT_MODES:
            raise ConfigError(f"--consent / VAPI_MCP_CONSENT must be one of {', '.join(CONSENT_MODES)}, got {self.consent!r}")
        for name, (low, high, setting) in _RANGES.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(f"{setting} must be between {low} and {high}, got {value}")
        for name, (kind, setting) in _LISTS.items():
            entries = getattr(self, name)
            if entries:  # phonenumbers loads only when a list is set (start-up stays fast)
                object.__setattr__(self, name, _normalized_entries(kind, setting, entries))


_HTTP_RANGES = {
    "request_read_timeout": (1, 300, "--request-read-timeout / VAPI_MCP_REQUEST_READ_TIMEOUT"),
    "max_connections": (8, 100_000, "--max-connections / VAPI_MCP_MAX_CONNECTIONS"),
    "session_idle_timeout": (1, 86_400, "--session-idle-timeout / VAPI_MCP_SESSION_IDLE_TIMEOUT"),
    "max_sessions": (1, 100_000, "--max-sessions / VAPI_MCP_MAX_SESSIONS"),
}


@dataclass(frozen=True)
class HttpLimits:
    """What one HTTP/SSE server process holds for its clients, at most (the README's "HTTP limits")."""

    request_read_timeout: float = 10.0
    """Seconds a client has to send a whole request (headers and body) once it connects or its last
    answer ends; then the connection is closed. Half-sent requests cannot pile up."""
    max_connections: int = 1000
    """Open connections at most (clamped below the process's file-descriptor limit). At the limit a
    new connection closes the oldest one still waiting for its request; if none waits, it gets 503."""
    session_idle_timeout: float = 600.0
    """Seconds a streamable HTTP session may go without any request in flight (and no open GET stream)
    before it is closed; its id then answers 404 and the client opens a new session."""
    max_sessions: int = 1000
    """Open streamable HTTP sessions at most; beyond it a new session gets 503 (open ones are unaffected)."""

    def __post_init__(self) -> None:
        for name, (low, high, setting) in _HTTP_RANGES.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(f"{setting} must be between {low} and {high}, got {value}")


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


def _origins(entries: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for entry in entries:
        try:
            origin = origin_entry(entry)
        except ValueError as exc:
            raise ConfigError(f"{ORIGINS_SETTING}: {exc}") from None
        if origin not in out:
            out.append(origin)
    return tuple(out)


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to run; build it with `Settings.load`."""

    api_key: str | None = None
    base_url: str = DEFAULT_BASE_URL
    force_sandbox: bool = False
    read_only: bool = False
    dry_run: bool = False
    log_level: str = "WARNING"
    timeout: float = 30.0
    max_response_bytes: int = 64 * 1024 * 1024
    """The largest Vapi answer read; a bigger one is an error saying so (VAPI_MCP_MAX_RESPONSE_BYTES).
    Far above Vapi's largest answer (a list of 1000 calls of ~12 KB each is ~12 MB)."""
    audit_log: Path = field(default_factory=lambda: _state_dir() / "audit.jsonl")
    sandbox_audit_log: Path | None = None
    """Where sandbox attempts are audited; None means `audit-sandbox.jsonl` beside `audit_log`."""
    state_url: str = field(default_factory=lambda: f"sqlite://{_state_dir() / 'state.sqlite3'}")
    """The guard's state store (`vapi_mcp.state`): an SQLite file shared by the user's sessions, or Redis."""
    sandbox_speed: float = 1.0
    """How many times faster than real time the embedded sandbox's calls progress."""
    confirm_secret: str | None = None
    """HMAC key for confirm tokens; set it on every replica of a multi-replica deployment."""
    policy: Policy = field(default_factory=Policy)
    http: HttpLimits = field(default_factory=HttpLimits)
    toolsets: tuple[str, ...] | None = None
    """Toolsets agents see (`TOOLSETS`, `all`, `default`); None means the default selection."""
    tools: tuple[str, ...] | None = None
    """Single tools agents see, in addition to `toolsets` (alone: only these); None means none named."""
    allowed_origins: tuple[str, ...] = ()
    """Browser origins whose pages may call the HTTP transport (CORS), normalized as browsers send `Origin`; never `*`."""
    fast_start: bool = True
    """Over stdio, answer the handshake from the cache of an earlier run while the SDK loads (stdio.py)."""
    problem: str | None = None
    """Why the configured settings cannot be used. Over stdio the server starts anyway, says so in its
    instructions and refuses every tool call with this text (see `Settings.unusable`)."""

    def __post_init__(self) -> None:
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"--log-level / VAPI_MCP_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}; got {self.log_level!r}")
        check_toolsets(self.toolsets, "--toolsets / VAPI_MCP_TOOLSETS")
        if self.allowed_origins:
            object.__setattr__(self, "allowed_origins", _origins(self.allowed_origins))

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
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read the environment, then apply explicit overrides (CLI flags); `None` means unset.

        An unset variable means the field's default (the dataclasses above are the one place for them).
        """
        env = os.environ if env is None else env
        flag = lambda name: parse_bool(name, env.get(name))  # noqa: E731
        policy = Policy(
            allow_numbers=_split(env.get("VAPI_MCP_ALLOW_NUMBERS")),
            deny_numbers=_split(env.get("VAPI_MCP_DENY_NUMBERS")),
            allow_countries=_split(env.get("VAPI_MCP_ALLOW_COUNTRIES")),
            deny_countries=_split(env.get("VAPI_MCP_DENY_COUNTRIES")),
            batch_cap=_number(env, "VAPI_MCP_BATCH_CAP", Policy.batch_cap),
            campaign_cap=_number(env, "VAPI_MCP_CAMPAIGN_CAP", Policy.campaign_cap),
            daily_cap=_number(env, "VAPI_MCP_DAILY_CAP", Policy.daily_cap),
            quiet_hours=not flag("VAPI_MCP_NO_QUIET_HOURS"),
            quiet_start=_number(env, "VAPI_MCP_QUIET_START", Policy.quiet_start),
            quiet_end=_number(env, "VAPI_MCP_QUIET_END", Policy.quiet_end),
            confirm_ttl=_number(env, "VAPI_MCP_CONFIRM_TTL", Policy.confirm_ttl),
            auto_approve_allowlisted=flag("VAPI_MCP_AUTO_APPROVE_ALLOWLISTED"),
            consent=(env.get("VAPI_MCP_CONSENT") or Policy.consent).strip().lower(),
            confirm_wait=_number(env, "VAPI_MCP_CONFIRM_WAIT", Policy.confirm_wait),
        )
        http = HttpLimits(
            request_read_timeout=_number(env, "VAPI_MCP_REQUEST_READ_TIMEOUT", HttpLimits.request_read_timeout, float),
            max_connections=_number(env, "VAPI_MCP_MAX_CONNECTIONS", HttpLimits.max_connections),
            session_idle_timeout=_number(env, "VAPI_MCP_SESSION_IDLE_TIMEOUT", HttpLimits.session_idle_timeout, float),
            max_sessions=_number(env, "VAPI_MCP_MAX_SESSIONS", HttpLimits.max_sessions),
        )
        values: dict[str, Any] = {
            "api_key": _key(env.get("VAPI_API_KEY")) or _key(env.get("VAPI_TOKEN")),
            "base_url": env.get("VAPI_BASE_URL") or DEFAULT_BASE_URL,
            "force_sandbox": flag("VAPI_MCP_SANDBOX"),
            "read_only": flag("VAPI_MCP_READ_ONLY"),
            "dry_run": flag("VAPI_MCP_DRY_RUN"),
            "log_level": (env.get("VAPI_MCP_LOG_LEVEL") or cls.log_level).strip().upper(),
            "timeout": _number(env, "VAPI_MCP_TIMEOUT", cls.timeout, float),
            "max_response_bytes": _max_response_bytes(env),
            "sandbox_speed": _number(env, "VAPI_MCP_SANDBOX_SPEED", cls.sandbox_speed, float),
            "confirm_secret": env.get("VAPI_MCP_CONFIRM_SECRET") or None,
            "policy": policy,
            "http": http,
            "fast_start": parse_bool("VAPI_MCP_FAST_START", env.get("VAPI_MCP_FAST_START"), default=True),
            "toolsets": parse_names(env.get("VAPI_MCP_TOOLSETS")),
            "tools": parse_names(env.get("VAPI_MCP_TOOLS")),
            "allowed_origins": _split(env.get("VAPI_MCP_ALLOWED_ORIGINS")),
        }
        for name in ("audit_log", "sandbox_audit_log"):
            if env.get(f"VAPI_MCP_{name.upper()}"):
                values[name] = Path(env[f"VAPI_MCP_{name.upper()}"]).expanduser()
        if env.get("VAPI_MCP_STATE_URL", "").strip():
            values["state_url"] = env["VAPI_MCP_STATE_URL"].strip()
        settings = cls(**values)
        # A flag names a field of Settings or of one of its sections (policy, http); `None` means not given.
        given = {k: v for k, v in overrides.items() if v is not None}
        for section in SECTIONS:
            names = {f.name for f in fields(getattr(settings, section))}
            section_values = {k: given.pop(k) for k in list(given) if k in names}
            if section_values:
                given[section] = replace(getattr(settings, section), **section_values)
        for name in ("audit_log", "sandbox_audit_log"):
            if name in given:
                given[name] = Path(given[name]).expanduser()
        settings = replace(settings, **given)
        _check_state_url(settings.state_url)
        return settings


SECTIONS = ("policy", "http")
"""Settings' nested sections; a flag override whose name is one of a section's fields goes there."""


def _check_state_url(url: str) -> None:
    from .state import open_store

    try:
        open_store(url)  # only parses: nothing is opened or connected
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def file_problem(path: Path, info: os.stat_result) -> str | None:
    """Why an existing audit file must not be written, with the fix; None if it is fine."""
    if stat.S_ISLNK(info.st_mode):
        return f"the audit file {path} is a symbolic link; it is never written through one. Remove the link or point the setting at a regular file."
    if not stat.S_ISREG(info.st_mode):
        return f"the audit file {path} is not a regular file."
    if info.st_uid != os.geteuid():
        return f"the audit file {path} belongs to another user (uid {info.st_uid}); use a file of your own."
    if info.st_mode & 0o077:
        return f"the audit file {path} can be read or written by other users (mode {stat.S_IMODE(info.st_mode):04o}); fix it with: chmod 600 {path}"
    return None


def check_audit_files(settings: Settings) -> None:
    """At start: refuse audit files the guard would refuse to write (`ConfigError`: exit 2, the fix named).

    Here, not in the guard, so that the check costs a stat and not the import of the MCP SDK."""
    for path, setting in ((settings.audit_log, "VAPI_MCP_AUDIT_LOG"), (settings.sandbox_audit_path, "VAPI_MCP_SANDBOX_AUDIT_LOG")):
        if path.parent.is_symlink():
            raise ConfigError(f"{setting}: the audit directory {path.parent} is a symbolic link; name the real directory instead.")
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ConfigError(f"{setting}: the audit file {path} cannot be checked ({exc.strerror}).") from None
        problem = file_problem(path, info)
        if problem:
            raise ConfigError(f"{setting}: {problem}")
