"""Settings: every option comes from a `VAPI_*` environment variable or a CLI flag."""

from __future__ import annotations

import os
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


_RANGES = {
    "batch_cap": (1, 10_000, "--batch-cap / VAPI_MCP_BATCH_CAP"),
    "daily_cap": (0, 1_000_000, "--daily-cap / VAPI_MCP_DAILY_CAP"),
    "quiet_start": (0, 23, "--quiet-start / VAPI_MCP_QUIET_START"),
    "quiet_end": (0, 24, "--quiet-end / VAPI_MCP_QUIET_END"),
    "confirm_ttl": (10, 86_400, "--confirm-ttl / VAPI_MCP_CONFIRM_TTL"),
}


@dataclass(frozen=True)
class Policy:
    """The guard's rules. Defaults are the safe ones described in the README."""

    allow_numbers: tuple[str, ...] = ()
    deny_numbers: tuple[str, ...] = ()
    allow_countries: tuple[str, ...] = ()
    """Country calling codes (`1`, `44`) or region codes (`US`, `GB`); empty means any."""
    deny_countries: tuple[str, ...] = ()
    batch_cap: int = 50
    daily_cap: int = 100
    quiet_hours: bool = True
    quiet_start: int = 8
    """First local hour (0-23) at which calls are allowed."""
    quiet_end: int = 21
    """Local hour (0-24) from which calls are refused again."""
    confirm_ttl: int = 300
    auto_approve_allowlisted: bool = False

    def __post_init__(self) -> None:
        for name, (low, high, setting) in _RANGES.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(f"{setting} must be between {low} and {high}, got {value}")


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
    audit_log: Path = field(default_factory=lambda: _state_dir() / "audit.jsonl")
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
    fast_start: bool = True
    """Over stdio, answer the handshake from the cache of an earlier run while the SDK loads (stdio.py)."""
    problem: str | None = None
    """Why the configured settings cannot be used. Over stdio the server starts anyway, says so in its
    instructions and refuses every tool call with this text (see `Settings.unusable`)."""

    def __post_init__(self) -> None:
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"--log-level / VAPI_MCP_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}; got {self.log_level!r}")
        check_toolsets(self.toolsets, "--toolsets / VAPI_MCP_TOOLSETS")

    @classmethod
    def unusable(cls, problem: str) -> Settings:
        """Settings for a server that only reports `problem`: it lists the default tools and refuses every
        call with `problem` (and, should anything slip through, it is sandboxed and a dry run)."""
        return cls(force_sandbox=True, dry_run=True, problem=problem)

    def handshake_key(self) -> str:
        """Everything the answers to `initialize` and `tools/list` depend on (the stdio handshake cache key)."""
        return repr((self.sandbox, self.read_only, self.dry_run, self.toolsets, self.tools, self.problem))

    @property
    def sandbox(self) -> bool:
        """True when requests go to the embedded sandbox instead of Vapi."""
        return self.force_sandbox or not self.api_key

    @property
    def effective_base_url(self) -> str:
        return SANDBOX_BASE_URL if self.sandbox else self.base_url.rstrip("/")

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read the environment, then apply explicit overrides (CLI flags); `None` means unset."""
        env = os.environ if env is None else env
        flag = lambda name: parse_bool(name, env.get(name))  # noqa: E731
        policy = Policy(
            allow_numbers=_split(env.get("VAPI_MCP_ALLOW_NUMBERS")),
            deny_numbers=_split(env.get("VAPI_MCP_DENY_NUMBERS")),
            allow_countries=_split(env.get("VAPI_MCP_ALLOW_COUNTRIES")),
            deny_countries=_split(env.get("VAPI_MCP_DENY_COUNTRIES")),
            batch_cap=_number(env, "VAPI_MCP_BATCH_CAP", 50),
            daily_cap=_number(env, "VAPI_MCP_DAILY_CAP", 100),
            quiet_hours=not flag("VAPI_MCP_NO_QUIET_HOURS"),
            quiet_start=_number(env, "VAPI_MCP_QUIET_START", 8),
            quiet_end=_number(env, "VAPI_MCP_QUIET_END", 21),
            confirm_ttl=_number(env, "VAPI_MCP_CONFIRM_TTL", 300),
            auto_approve_allowlisted=flag("VAPI_MCP_AUTO_APPROVE_ALLOWLISTED"),
        )
        http = HttpLimits(
            request_read_timeout=_number(env, "VAPI_MCP_REQUEST_READ_TIMEOUT", 10.0, float),
            max_connections=_number(env, "VAPI_MCP_MAX_CONNECTIONS", 1000),
            session_idle_timeout=_number(env, "VAPI_MCP_SESSION_IDLE_TIMEOUT", 600.0, float),
            max_sessions=_number(env, "VAPI_MCP_MAX_SESSIONS", 1000),
        )
        values: dict[str, Any] = {
            "api_key": _key(env.get("VAPI_API_KEY")) or _key(env.get("VAPI_TOKEN")),
            "base_url": env.get("VAPI_BASE_URL") or DEFAULT_BASE_URL,
            "force_sandbox": flag("VAPI_MCP_SANDBOX"),
            "read_only": flag("VAPI_MCP_READ_ONLY"),
            "dry_run": flag("VAPI_MCP_DRY_RUN"),
            "log_level": (env.get("VAPI_MCP_LOG_LEVEL") or "WARNING").strip().upper(),
            "timeout": _number(env, "VAPI_MCP_TIMEOUT", 30.0, float),
            "sandbox_speed": _number(env, "VAPI_MCP_SANDBOX_SPEED", 1.0, float),
            "confirm_secret": env.get("VAPI_MCP_CONFIRM_SECRET") or None,
            "policy": policy,
            "http": http,
            "fast_start": parse_bool("VAPI_MCP_FAST_START", env.get("VAPI_MCP_FAST_START"), default=True),
            "toolsets": parse_names(env.get("VAPI_MCP_TOOLSETS")),
            "tools": parse_names(env.get("VAPI_MCP_TOOLS")),
        }
        if env.get("VAPI_MCP_AUDIT_LOG"):
            values["audit_log"] = Path(env["VAPI_MCP_AUDIT_LOG"]).expanduser()
        settings = cls(**values)
        # A flag names a field of Settings or of one of its sections (policy, http); `None` means not given.
        given = {k: v for k, v in overrides.items() if v is not None}
        for section in SECTIONS:
            names = {f.name for f in fields(getattr(settings, section))}
            section_values = {k: given.pop(k) for k in list(given) if k in names}
            if section_values:
                given[section] = replace(getattr(settings, section), **section_values)
        if "audit_log" in given:
            given["audit_log"] = Path(given["audit_log"]).expanduser()
        return replace(settings, **given)


SECTIONS = ("policy", "http")
"""Settings' nested sections; a flag override whose name is one of a section's fields goes there."""
