"""`vapi-mcp`: serve (default), sandbox, demo, policy."""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from typing import Any, Sequence

from . import __version__

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _add_server_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--transport", choices=("stdio", "sse", "http"), default="stdio", help="MCP transport (default stdio)")
    p.add_argument("--host", default="127.0.0.1", help="bind address for sse/http (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port for sse/http (default 8000)")
    p.add_argument("--stateless", action="store_true", help="streamable HTTP without sessions (for load balancers)")
    p.add_argument("--workers", type=str, default=None, help="processes serving --transport http --stateless (env VAPI_MCP_WORKERS, default 1)")
    p.add_argument("--auth-token", default=None, help="bearer token required on every HTTP request (env VAPI_MCP_AUTH_TOKEN); required off loopback")
    p.add_argument("--allowed-hosts", default=None, help="comma list of Host headers accepted off loopback (DNS-rebinding protection)")
    p.add_argument("--sandbox", action="store_true", default=None, help="use the embedded sandbox even if VAPI_API_KEY is set")
    p.add_argument("--read-only", action="store_true", default=None, help="register no tool that changes anything")
    p.add_argument("--dry-run", action="store_true", default=None, help="check and confirm guarded actions but never send them")
    p.add_argument("--base-url", default=None, help="Vapi API base URL (env VAPI_BASE_URL, default https://api.vapi.ai)")
    p.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default) or ERROR; logs go to stderr")
    p.add_argument("--audit-log", default=None, help="audit file (env VAPI_MCP_AUDIT_LOG, default ~/.local/state/vapi-mcp/audit.jsonl)")
    _add_policy_flags(p)


def _add_policy_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("guard policy (each also a VAPI_MCP_* environment variable)")
    g.add_argument("--allow-numbers", default=None, help="comma list of E.164 numbers; only these may be called")
    g.add_argument("--deny-numbers", default=None, help="comma list of E.164 numbers never to call")
    g.add_argument("--allow-countries", default=None, help="comma list of calling codes (1, 44) or regions (US, GB)")
    g.add_argument("--deny-countries", default=None, help="comma list of calling codes or regions never to call")
    g.add_argument("--batch-cap", type=int, default=None, help="most customers in one batch call (default 50)")
    g.add_argument("--campaign-cap", type=int, default=None, help="most contacts in one campaign (default 1000; Vapi allows 10000)")
    g.add_argument("--daily-cap", type=int, default=None, help="most guarded dials per server per day (default 100)")
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
    from .config import Settings

    get = lambda name: getattr(ns, name, None)  # noqa: E731
    return Settings.load(
        force_sandbox=get("sandbox"),
        read_only=get("read_only"),
        dry_run=get("dry_run"),
        base_url=get("base_url"),
        log_level=get("log_level").upper() if get("log_level") else None,
        audit_log=get("audit_log"),
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


def http_app(server: Any, ns: argparse.Namespace, token: str | None) -> Any:
    """The Starlette app for `--transport sse|http`, with DNS-rebinding protection and bearer auth."""
    from mcp.server.transport_security import TransportSecuritySettings

    security = None
    if ns.host not in LOOPBACK:
        # A Host header carries a port only when it is not the scheme's default one.
        hosts = [p for h in _split(ns.allowed_hosts) or (ns.host,) for p in ((h,) if ":" in h else (h, f"{h}:*"))]
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=hosts,
            allowed_origins=[f"{scheme}://{h}" for scheme in ("https", "http") for h in hosts],
        )
    if ns.transport == "sse":
        app = server.sse_app(transport_security=security, host=ns.host)
    else:
        app = server.streamable_http_app(stateless_http=ns.stateless, transport_security=security, host=ns.host)
        from .streamable import JsonWhenSilent

        app = JsonWhenSilent(app, server.session_manager, stateless=ns.stateless)  # no SSE stream where it could carry nothing
    return BearerAuth(app, token) if token else app


def cmd_serve(ns: argparse.Namespace) -> int:
    token = ns.auth_token or os.environ.get("VAPI_MCP_AUTH_TOKEN")
    if ns.transport != "stdio" and ns.host not in LOOPBACK and not token:
        print(
            f"vapi-mcp: refusing to serve on {ns.host} without an auth token: set VAPI_MCP_AUTH_TOKEN or --auth-token.",
            file=sys.stderr,
        )
        return 2
    settings = settings_from(ns)
    configure_logging(settings.log_level)
    from .redact import install_access_log_filter, scrubber

    scrubber.add(token)
    log = logging.getLogger("vapi_mcp")
    if settings.sandbox:
        log.warning("no VAPI_API_KEY (or --sandbox): serving the embedded sandbox; nothing real is called")
    from . import workers

    count = workers.worker_count(ns)
    if count > 1:
        problem = workers.refusal(ns, settings, count)
        if problem:
            print(f"vapi-mcp: {problem}", file=sys.stderr)
            return 2
        workers.serve(ns, settings, count, host=ns.host, port=ns.port, log_level=settings.log_level.lower(), lifespan="on")
        return 0
    if ns.transport == "stdio":
        from . import stdio

        stdio.serve(settings)  # answers the handshake while the SDK loads
        return 0
    import uvicorn

    from .server import build_server

    server, _ = build_server(settings)

    if ns.host not in LOOPBACK and not ns.allowed_hosts:
        log.warning("accepting only requests with Host: %s; name the public host(s) with --allowed-hosts", ns.host)
    app = http_app(server, ns, token)
    install_access_log_filter()  # request lines carry query strings (`?token=...`)
    uvicorn.run(app, host=ns.host, port=ns.port, log_level=settings.log_level.lower(), lifespan="on")
    return 0


def cmd_sandbox(ns: argparse.Namespace) -> int:
    if ns.host not in LOOPBACK:
        print("vapi-mcp sandbox: serves on loopback only", file=sys.stderr)
        return 2
    configure_logging((ns.log_level or "WARNING").upper())
    import uvicorn

    from .sandbox import Sandbox

    sandbox = Sandbox()
    if ns.seed:
        from .sandbox.seed import seed

        seed(sandbox, ns.seed)
    print(f"vapi-mcp sandbox: Vapi API stand-in on http://{ns.host}:{ns.port} (any bearer key works)", file=sys.stderr)
    from .redact import install_access_log_filter

    install_access_log_filter()
    uvicorn.run(sandbox.app, host=ns.host, port=ns.port, log_level="warning")
    return 0


def cmd_demo(ns: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo()


def cmd_policy(ns: argparse.Namespace) -> int:
    from .guard import describe_policy

    print(describe_policy(settings_from(ns)))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="vapi-mcp", description="A guarded MCP server for Vapi.")
    root.add_argument("--version", action="version", version=f"vapi-mcp {__version__}")
    sub = root.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the MCP server (the default)")
    _add_server_flags(serve)
    serve.set_defaults(func=cmd_serve)
    sandbox = sub.add_parser("sandbox", help="serve the sandbox Vapi API alone on loopback")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8787)
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
    policy.set_defaults(func=cmd_policy)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["serve", *argv]
    ns = parser().parse_args(argv)
    from .config import ConfigError

    try:
        return ns.func(ns)
    except ConfigError as exc:
        print(f"vapi-mcp: {exc}", file=sys.stderr)
        return 2
