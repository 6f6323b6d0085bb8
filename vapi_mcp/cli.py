"""`vapi-mcp`: serve (default), sandbox, demo, policy, tools, audit."""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from typing import TYPE_CHECKING, Any, Sequence

from . import __version__

if TYPE_CHECKING:
    from .config import HttpLimits

MIN_TOKEN_LENGTH = 16
"""Characters an auth token needs off loopback (a guessable token is no lock)."""


class UsageError(Exception):
    """A command line argparse cannot parse; raised instead of exiting so stdio can still start."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(f"{parser.prog}: {message}")
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print and exit 2 here
        raise UsageError(self, message)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, got {value!r}")
    return port


def _add_server_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--transport", choices=("stdio", "sse", "http"), default="stdio", help="MCP transport (default stdio)")
    p.add_argument("--host", default="127.0.0.1", help="bind address for sse/http (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port for sse/http (default 8000)")
    p.add_argument("--stateless", action="store_true", help="streamable HTTP without sessions (for load balancers)")
    p.add_argument("--workers", type=str, default=None, help="processes serving --transport http --stateless (env VAPI_MCP_WORKERS, default 1)")
    p.add_argument("--auth-token", default=None, help=f"bearer token required on every HTTP request (env VAPI_MCP_AUTH_TOKEN); required off loopback, at least {MIN_TOKEN_LENGTH} characters")
    p.add_argument("--allowed-hosts", default=None, help="comma list of host names (name or name:port) clients may use off loopback (env VAPI_MCP_ALLOWED_HOSTS; DNS-rebinding protection)")
    p.add_argument("--allowed-origins", default=None, help="comma list of browser origins (https://app.example.com) whose pages may call the HTTP transport (env VAPI_MCP_ALLOWED_ORIGINS; CORS)")
    p.add_argument("--sandbox", action="store_true", default=None, help="use the embedded sandbox even if VAPI_API_KEY is set")
    p.add_argument("--read-only", action="store_true", default=None, help="register no tool that changes anything")
    p.add_argument("--dry-run", action="store_true", default=None, help="check and confirm guarded actions but never send them")
    p.add_argument("--base-url", default=None, help="Vapi API base URL (env VAPI_BASE_URL, default https://api.vapi.ai)")
    p.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default), ERROR or CRITICAL; logs go to stderr")
    _add_ledger_flags(p)
    _add_toolset_flags(p)
    h = p.add_argument_group("HTTP limits (each also a VAPI_MCP_* environment variable)")
    h.add_argument("--request-read-timeout", type=float, default=None, help="seconds a client has to send a whole request (default 10)")
    h.add_argument("--max-connections", type=int, default=None, help="open connections at most (default 1000)")
    h.add_argument("--session-idle-timeout", type=float, default=None, help="seconds an idle streamable HTTP session lives (default 600)")
    h.add_argument("--max-sessions", type=int, default=None, help="open streamable HTTP sessions at most (default 1000)")
    _add_policy_flags(p)


def _add_toolset_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--toolsets", default=None, help="comma list of toolsets agents see: calls, numbers, assistants, tools, testing, campaigns, analytics, all, default (env VAPI_MCP_TOOLSETS)")
    p.add_argument("--tools", default=None, help="comma list of single tools agents see, added to --toolsets; alone, only these (env VAPI_MCP_TOOLS)")


def _add_ledger_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--audit-log", default=None, help="audit file (env VAPI_MCP_AUDIT_LOG, default ~/.local/state/vapi-mcp/audit.jsonl)")
    p.add_argument(
        "--sandbox-audit-log", default=None, help="audit file of sandbox attempts (env VAPI_MCP_SANDBOX_AUDIT_LOG, default audit-sandbox.jsonl beside the audit file)"
    )
    p.add_argument(
        "--state-url", default=None, help="the guard's shared state: redis://host:6379/0 for replicas (env VAPI_MCP_STATE_URL, default an SQLite file in ~/.local/state/vapi-mcp/)"
    )


def _add_policy_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("guard policy (each also a VAPI_MCP_* environment variable)")
    g.add_argument("--allow-numbers", default=None, help="comma list of E.164 numbers; only these may be called")
    g.add_argument("--deny-numbers", default=None, help="comma list of E.164 numbers never to call")
    g.add_argument("--allow-countries", default=None, help="comma list of calling codes (1, 44) or regions (US, GB)")
    g.add_argument("--deny-countries", default=None, help="comma list of calling codes or regions never to call")
    g.add_argument("--batch-cap", type=int, default=None, help="most customers in one batch call (default 50)")
    g.add_argument("--campaign-cap", type=int, default=None, help="most contacts in one campaign (default 1000; Vapi allows 10000)")
    g.add_argument("--daily-cap", type=int, default=None, help="most guarded dials per Vapi account per UTC day, across sessions (default 100)")
    g.add_argument("--no-quiet-hours", dest="quiet_hours", action="store_false", default=None, help="allow calls at any local hour")
    g.add_argument("--quiet-start", type=int, default=None, help="first allowed local hour (default 8)")
    g.add_argument("--quiet-end", type=int, default=None, help="local hour from which calls are refused (default 21)")
    g.add_argument("--confirm-ttl", type=int, default=None, help="seconds a confirm token stays valid (default 300)")
    g.add_argument("--auto-approve-allowlisted", action="store_true", default=None, help="dial allow-listed numbers without asking (test pipelines)")
    g.add_argument("--consent", choices=("any", "human"), default=None, help="any (default): a confirm token relayed by the agent also confirms; human: only elicitation or the MCP Apps view")
    g.add_argument("--confirm-wait", type=int, default=None, help="seconds the human has to answer a confirmation question (default 180)")


def _split(value: str | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(v.strip() for v in value.split(",") if v.strip())


def settings_from(ns: argparse.Namespace) -> Any:
    from .config import Settings, parse_names

    get = lambda name: getattr(ns, name, None)  # noqa: E731
    return Settings.load(
        force_sandbox=get("sandbox"),
        read_only=get("read_only"),
        dry_run=get("dry_run"),
        base_url=get("base_url"),
        log_level=get("log_level").strip().upper() if get("log_level") else None,
        audit_log=get("audit_log"),
        sandbox_audit_log=get("sandbox_audit_log"),
        state_url=get("state_url"),
        toolsets=parse_names(get("toolsets")),
        tools=parse_names(get("tools")),
        allowed_origins=_split(get("allowed_origins")),
        request_read_timeout=get("request_read_timeout"),
        max_connections=get("max_connections"),
        session_idle_timeout=get("session_idle_timeout"),
        max_sessions=get("max_sessions"),
        allow_numbers=_split(get("allow_numbers")),
        deny_numbers=_split(get("deny_numbers")),
        allow_countries=_split(get("allow_countries")),
        deny_countries=_split(get("deny_countries")),
        batch_cap=get("batch_cap"),
        campaign_cap=get("campaign_cap"),
        daily_cap=get("daily_cap"),
        quiet_hours=get("quiet_hours"),
        quiet_start=get("quiet_start"),
        quiet_end=get("quiet_end"),
        confirm_ttl=get("confirm_ttl"),
        auto_approve_allowlisted=get("auto_approve_allowlisted"),
        consent=get("consent"),
        confirm_wait=get("confirm_wait"),
    )


def configure_logging(level: str) -> None:
    """Logs go to stderr (stdout is the stdio protocol channel), every line scrubbed of secrets."""
    from .redact import ScrubbingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ScrubbingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level, logging.WARNING))


class BearerAuth:
    """ASGI middleware: every HTTP request must carry `Authorization: Bearer <token>`."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            given = headers.get(b"authorization", b"")
            if not (given[:7].lower() == b"bearer " and hmac.compare_digest(given[7:].strip(), self.token)):
                from starlette.responses import JSONResponse

                response = JSONResponse(
                    {"error": "unauthorized", "message": "Missing or wrong bearer token (VAPI_MCP_AUTH_TOKEN)."},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def http_app(server: Any, ns: argparse.Namespace, token: str | None, limits: HttpLimits | None = None, origins: Sequence[str] = ()) -> Any:
    """The Starlette app for `--transport sse|http`: Host check (DNS rebinding), CORS for the allowed browser
    `origins` (`Settings.allowed_origins`), bearer auth, session limits."""
    from mcp.server.transport_security import TransportSecuritySettings

    from .config import HttpLimits
    from .web import Cors, HostCheck

    limits = limits or HttpLimits()  # the defaults, for callers without settings
    security = TransportSecuritySettings(enable_dns_rebinding_protection=False)  # HostCheck does it, for every host
    if ns.transport == "sse":
        app = server.sse_app(transport_security=security, host=ns.host)
    else:
        app = server.streamable_http_app(
            stateless_http=ns.stateless,
            transport_security=security,
            host=ns.host,
            session_idle_timeout=limits.session_idle_timeout,
            max_sessions=limits.max_sessions,
        )
        from .streamable import JsonWhenSilent

        app = JsonWhenSilent(app, server.session_manager, stateless=ns.stateless)  # no SSE stream where it could carry nothing
    allowed = [ns.host, *(_split(ns.allowed_hosts or os.environ.get("VAPI_MCP_ALLOWED_HOSTS")) or ())]
    if token:
        app = BearerAuth(app, token)
    return HostCheck(Cors(app, origins), allowed, origins)  # a preflight carries no token; a refusal of one must still reach the page


def auth_token(ns: argparse.Namespace) -> str | None:
    """The bearer token HTTP clients must send; refuses a missing or short one off loopback."""
    from .config import ConfigError
    from .web import is_loopback

    token = (ns.auth_token or os.environ.get("VAPI_MCP_AUTH_TOKEN") or "").strip() or None
    if ns.transport == "stdio" or is_loopback(ns.host):
        return token
    if token is None:
        raise ConfigError(f"refusing to serve on {ns.host} without an auth token: set VAPI_MCP_AUTH_TOKEN or --auth-token.")
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"refusing to serve on {ns.host}: the auth token (VAPI_MCP_AUTH_TOKEN / --auth-token) has {len(token)} "
            f"characters; use at least {MIN_TOKEN_LENGTH} (python3 -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )
    return token


def cmd_serve(ns: argparse.Namespace) -> int:
    from . import workers
    from .config import ConfigError, check_audit_files

    if workers.worker_count(ns) > 1 and ns.transport != "http":
        print(f"vapi-mcp: {workers.refusal(ns, None, workers.worker_count(ns))}", file=sys.stderr)
        return 2
    if ns.transport == "stdio":
        try:
            settings = settings_from(ns)
            check_audit_files(settings)  # an audit file others can use, or a link: the fix is named
        except ConfigError as exc:
            if _interactive():
                raise
            return serve_unconfigured(str(exc))
        configure_logging(settings.log_level)
        _note_sandbox(settings)
        from . import stdio

        stdio.serve(settings)  # answers the handshake while the SDK loads
        return 0
    token = auth_token(ns)
    settings = settings_from(ns)
    check_audit_files(settings)
    from .toolsets import offered

    if not offered(settings):  # also refuses a --tools name that does not exist
        print("vapi-mcp: warning: these settings offer no tool at all (see `vapi-mcp tools`)", file=sys.stderr)
    configure_logging(settings.log_level)
    from .redact import install_access_log_filter, scrubber

    scrubber.add(token)  # the other configured secrets (API key, confirm secret, URL passwords) are added by App
    _note_sandbox(settings)
    install_access_log_filter()  # request lines carry query strings (`?token=...`)
    from . import web
    from .server import build_server

    count = workers.worker_count(ns)
    if count > 1:
        problem = workers.refusal(ns, settings, count)
        if problem:
            print(f"vapi-mcp: {problem}", file=sys.stderr)
            return 2
        workers.serve(ns, settings, count, log_level=settings.log_level.lower(), lifespan="on")
        return 0
    server, _ = build_server(settings)
    app = http_app(server, ns, token, settings.http, settings.allowed_origins)
    kind, path = ("SSE", "/sse") if ns.transport == "sse" else ("streamable HTTP" + (" (stateless)" if ns.stateless else ""), "/mcp")
    announce = lambda port: f"vapi-mcp: serving {kind} on {web.url(ns.host, port, path)}"  # noqa: E731
    web.serve(app, ns.host, ns.port, settings.http, announce=announce, log_level=settings.log_level.lower(), lifespan="on")
    return 0


def serve_unconfigured(problem: str) -> int:
    """Over stdio a bad setting must reach the agent, not just a log: serve every tool call refusing with it."""
    from .config import Settings

    print(f"vapi-mcp: {problem}\nvapi-mcp: serving over stdio anyway; every tool call answers with this error until it is fixed.", file=sys.stderr)
    configure_logging("WARNING")
    from . import stdio

    stdio.serve(Settings.unusable(problem))
    return 0


def _interactive() -> bool:
    """True when a person typed the command (stdin is a terminal), not an MCP client that spawned it."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, OSError, ValueError):
        return False


def _note_sandbox(settings: Any) -> None:
    if settings.sandbox and settings.problem is None:
        logging.getLogger("vapi_mcp").warning("no VAPI_API_KEY (or --sandbox): serving the embedded sandbox; nothing real is called")


def cmd_sandbox(ns: argparse.Namespace) -> int:
    from .config import LOG_LEVELS, ConfigError, HttpLimits
    from .web import is_loopback

    if not is_loopback(ns.host):
        print("vapi-mcp sandbox: serves on loopback only", file=sys.stderr)
        return 2
    level = (ns.log_level or "WARNING").strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"--log-level must be one of {', '.join(LOG_LEVELS)}; got {ns.log_level!r}")
    configure_logging(level)
    from . import web
    from .sandbox import Sandbox

    sandbox = Sandbox()  # its request log keeps the latest requests only: a long run stays within its memory
    if ns.seed:
        from .sandbox.seed import seed

        seed(sandbox, ns.seed)
    from .redact import install_access_log_filter

    install_access_log_filter()
    announce = lambda port: f"vapi-mcp sandbox: Vapi API stand-in on {web.url(ns.host, port, '')} (any bearer key works)"  # noqa: E731
    web.serve(sandbox.app, ns.host, ns.port, HttpLimits(), announce=announce)
    return 0


def cmd_demo(ns: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo()


def cmd_policy(ns: argparse.Namespace) -> int:
    from .guard import describe_policy

    print(describe_policy(settings_from(ns)))
    return 0


def cmd_audit(ns: argparse.Namespace) -> int:
    import json

    from .guard.audit import parse_since, review, table

    settings = settings_from(ns)
    files = {"real": settings.audit_log, "sandbox": settings.sandbox_audit_path}
    if ns.only:
        files = {ns.only: files[ns.only]}
    try:
        since = parse_since(ns.since) if ns.since else None
    except ValueError as exc:
        print(f"vapi-mcp audit: {exc}", file=sys.stderr)
        return 2
    rows = review(dict.fromkeys(files.values()), since, None if ns.since and not ns.limit else ns.limit or 50)
    shown = ", ".join(f"{path} ({kind}{'' if path.exists() else ', absent'})" for kind, path in files.items())
    print(f"vapi-mcp audit: {len(rows)} attempt(s) from {shown}", file=sys.stderr)
    if ns.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    elif rows:
        print(table(rows))
    return 0


def cmd_tools(ns: argparse.Namespace) -> int:
    """Print the tools these settings offer, by toolset, and the size of their tools/list."""
    from .toolsets import offered, tools_list_bytes

    settings = settings_from(ns)
    entries = offered(settings)
    by_toolset: dict[str, list[str]] = {}
    for toolset, spec in entries:
        by_toolset.setdefault(toolset, []).append(spec.name)
    for toolset, names in by_toolset.items():
        print(f"{toolset + ':':<12}{', '.join(names)}")
    size = tools_list_bytes(settings)
    print(f"{len(entries)} tools; tools/list is {size:,} bytes of compact JSON (~{size // 4:,} tokens)")
    return 0


def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="vapi-mcp", description="A guarded MCP server for Vapi.")
    root.add_argument("--version", action="version", version=f"vapi-mcp {__version__}")
    sub = root.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the MCP server (the default)")
    _add_server_flags(serve)
    serve.set_defaults(func=cmd_serve)
    sandbox = sub.add_parser("sandbox", help="serve the sandbox Vapi API alone on loopback")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=_port, default=8787)
    sandbox.add_argument("--seed", choices=("demo", "bench"), default=None, help="preload data")
    sandbox.add_argument("--log-level", default=None)
    sandbox.set_defaults(func=cmd_sandbox)
    demo = sub.add_parser("demo", help="a scripted agent session against the sandbox, over a real MCP connection")
    demo.set_defaults(func=cmd_demo)
    policy = sub.add_parser("policy", help="print the guard policy in force")
    _add_policy_flags(policy)
    policy.add_argument("--sandbox", action="store_true", default=None)
    policy.add_argument("--dry-run", action="store_true", default=None)
    policy.add_argument("--audit-log", default=None)
    policy.add_argument("--state-url", default=None)
    policy.set_defaults(func=cmd_policy)
    audit = sub.add_parser(
        "audit", help="review guarded attempts: one row per attempt (time, tool, who, target, decision, channel, ids)"
    )
    audit.add_argument("--since", default=None, help="only attempts since a time (2026-12-01T09:00Z, 2026-12-01) or a span ago (30m, 2h, 1d, 1w)")
    audit.add_argument("--limit", type=int, default=None, help="the last N attempts (default 50 without --since; all with it)")
    audit.add_argument("--json", action="store_true", help="one JSON object per attempt (its lines merged) instead of the table")
    audit.add_argument("--only", choices=("real", "sandbox"), default=None, help="read only the real or only the sandbox audit file (default both)")
    audit.add_argument("--audit-log", default=None, help="the audit file (env VAPI_MCP_AUDIT_LOG)")
    audit.add_argument("--sandbox-audit-log", default=None, help="the sandbox audit file (env VAPI_MCP_SANDBOX_AUDIT_LOG)")
    audit.set_defaults(func=cmd_audit)
    tools = sub.add_parser("tools", help="print the tools agents see with these settings")
    _add_toolset_flags(tools)
    tools.add_argument("--read-only", action="store_true", default=None)
    tools.set_defaults(func=cmd_tools)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["serve", *argv]
    try:
        ns = parser().parse_args(argv)
    except UsageError as exc:
        if _stdio_serve(argv) and not _interactive():
            return serve_unconfigured(str(exc))
        exc.parser.print_usage(sys.stderr)
        print(f"{exc.parser.prog}: error: {exc.message}", file=sys.stderr)
        return 2
    from .config import ConfigError

    try:
        return ns.func(ns)
    except ConfigError as exc:
        print(f"vapi-mcp: {exc}", file=sys.stderr)
        return 2


def _stdio_serve(argv: list[str]) -> bool:
    """Whether a command line argparse refused asked for the stdio server (the default transport)."""
    if not argv or argv[0] != "serve":
        return False
    for i, arg in enumerate(argv):
        if arg.startswith("--transport="):
            return arg.split("=", 1)[1] == "stdio"
        if arg == "--transport":
            return i + 1 < len(argv) and argv[i + 1] == "stdio"
    return True
