"""`vapi-mcp`: serve (default), sandbox, demo, policy, tools, audit, dnc, state."""

from __future__ import annotations

import argparse
import hmac
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import __version__

if TYPE_CHECKING:
    from .config import HttpLimits, Setting

MIN_TOKEN_LENGTH = 16
"""Characters an auth token needs off loopback (a guessable token is no lock); `config.Serving` says so in its help."""


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
    from .config import Serving, Settings, declared

    p.add_argument("--transport", choices=("stdio", "sse", "http"), default="stdio", help="MCP transport (default stdio)")
    p.add_argument("--host", default="127.0.0.1", help="bind address for sse/http (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port for sse/http (default 8000)")
    p.add_argument("--stateless", action="store_true", help="streamable HTTP without sessions (for load balancers)")
    _add_setting_flags(p, declared(Serving) + declared(Settings))


SECTION_TITLES = {"policy": "guard policy", "http": "HTTP limits"}


def _add_setting_flags(p: argparse.ArgumentParser, settings: Iterable[Setting]) -> None:
    """One flag per declared setting that has one (`config.setting`): its type, help and default derived from the
    declaration, its dest the field's name (`Settings.load(flags=vars(ns))` reads them by it); `None` means not given."""
    groups: dict[str, Any] = {}
    for s in settings:
        if s.flag is None:
            continue
        target = p if s.section is None else groups.get(s.section) or groups.setdefault(s.section, p.add_argument_group(SECTION_TITLES[s.section]))
        kwargs: dict[str, Any] = {"dest": s.name, "default": None, "help": s.flag_help()}
        if s.kind == "bool":
            kwargs["action"] = "store_false" if s.negated else "store_true"
        elif s.kind in ("int", "float") and s.parse is None:
            kwargs["type"] = int if s.kind == "int" else float
        if s.choices:
            kwargs["choices"] = s.choices
        target.add_argument(s.flag, **kwargs)


def _named(*names: str) -> list[Setting]:
    from .config import Settings, declared

    return [s for s in declared(Settings) if s.name in names]


def settings_from(ns: argparse.Namespace) -> Any:
    """The settings of a parsed command line: the environment, then every setting flag the command has."""
    from .config import Settings

    return Settings.load(flags=vars(ns))


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
    `origins` (`Settings.allowed_origins`), bearer auth or OAuth, session limits."""
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
    from .auth import oauth_config
    from .config import Serving

    serving = Serving.load(flags=vars(ns))
    oauth = oauth_config(ns, serving)
    if oauth is not None:  # each person signs in; the public URL's host is served as well
        from .auth import protect

        app = protect(app, server, oauth)
    allowed = [ns.host, *serving.allowed_hosts]
    if oauth is not None:
        allowed.append(urlsplit(oauth.resource).netloc)
    if token:
        app = BearerAuth(app, token)
    return HostCheck(Cors(app, origins), allowed, origins)  # a preflight carries no token; a refusal of one must still reach the page


def auth_token(ns: argparse.Namespace) -> str | None:
    """The bearer token HTTP clients must send; refuses a missing or short one off loopback."""
    from .config import ConfigError, Serving
    from .web import is_loopback

    serving = Serving.load(flags=vars(ns))
    token = serving.auth_token
    if ns.transport != "stdio":
        from .auth import oauth_config

        if oauth_config(ns, serving) is not None:  # checks the OAuth settings before anything starts
            if token is not None:
                raise ConfigError("--auth oauth and an auth token (VAPI_MCP_AUTH_TOKEN / --auth-token) exclude each other: use one.")
            return None
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
    if not settings.sandbox or settings.problem is not None:
        return
    if settings.unexpanded_key and not settings.force_sandbox:
        name, _, value = settings.unexpanded_key.partition("=")
        logging.getLogger("vapi_mcp").warning(
            "%s is %r, a placeholder the MCP client did not expand, not a Vapi key: serving the embedded sandbox; nothing "
            "real is called. Put the key itself in the client's server configuration (or export VAPI_API_KEY where it starts).",
            name,
            value,
        )
        return
    logging.getLogger("vapi_mcp").warning("no VAPI_API_KEY (or --sandbox): serving the embedded sandbox; nothing real is called")


SANDBOX_PORT = 8787


def cmd_sandbox(ns: argparse.Namespace) -> int:
    """Act on the sandbox's world (--reset, --seed, --advance, in that order), then serve it unless
    only --reset or --advance was asked for (add --port to serve after them)."""
    import os

    from .config import LOG_LEVELS, ConfigError, HttpLimits, sandbox_world
    from .web import is_loopback

    serving = ns.port is not None or not (ns.reset or ns.advance)
    if serving and not is_loopback(ns.host):
        print("vapi-mcp sandbox: serves on loopback only", file=sys.stderr)
        return 2
    level = (ns.log_level or "WARNING").strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"--log-level must be one of {', '.join(LOG_LEVELS)}; got {ns.log_level!r}")
    configure_logging(level)
    from .sandbox import Sandbox, WorldUnusable

    world = sandbox_world(os.environ, ns.world)
    sandbox = Sandbox(world=world)  # its request log keeps the latest requests only: a long run stays within its memory
    try:
        if ns.reset:
            print(f"vapi-mcp sandbox: {_reset(sandbox, world)}")
        if ns.seed:
            problem = _seed(sandbox, ns.seed)
            if problem:
                print(f"vapi-mcp sandbox: {problem}", file=sys.stderr)
                return 2
        if ns.advance:
            try:
                print(f"vapi-mcp sandbox: {_advance(sandbox, ns.advance)}")
            except ValueError as exc:
                print(f"vapi-mcp sandbox: --advance: {exc}", file=sys.stderr)
                return 2
        sandbox.store.counts()  # a world that cannot be used stops the start here, naming the fix
    except WorldUnusable as exc:
        print(f"vapi-mcp sandbox: {exc}", file=sys.stderr)
        return 2
    if not serving:
        sandbox.close()
        return 0
    from . import web
    from .redact import install_access_log_filter

    install_access_log_filter()
    where = "in memory" if sandbox.store.path is None else f"world {sandbox.store.path}"
    announce = lambda port: f"vapi-mcp sandbox: Vapi API stand-in on {web.url(ns.host, port, '')} ({where}; any bearer key works)"  # noqa: E731
    # Loopback names and addresses only (DNS rebinding), and no page but a loopback one: the world it serves is the one
    # every stdio server of the user shares, and "any bearer key works".
    app = web.HostCheck(sandbox.app, ())
    web.serve(app, ns.host, SANDBOX_PORT if ns.port is None else ns.port, HttpLimits(), announce=announce)
    return 0


def _reset(sandbox: Any, world: str) -> str:
    """Start the world over; what was removed, said in words."""
    from .sandbox import WorldUnusable

    try:
        offset = sandbox.store.clock_offset
        removed = sandbox.store.reset()
    except WorldUnusable as exc:
        if not exc.replaceable or sandbox.store.path is None:
            raise
        from pathlib import Path

        sandbox.store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sandbox.store.path}{suffix}").unlink(missing_ok=True)
        return f"started over at {world}: the old file was not a world this version can read ({exc}); it is removed"
    what = _counted(removed) or "nothing (it held no objects)"
    clock = f"; its clock is this machine's again (it was {_span(offset)} ahead)" if offset else ""
    return f"started over at {world}: removed {what}{clock}"


def _seed(sandbox: Any, name: str) -> str | None:
    """Load a seed into an empty world; why not, if the world already holds something."""
    from .sandbox.seed import SIZES, seed

    held = sandbox.store.counts()
    if held:
        return (
            f"the world at {sandbox.store.where} already holds {_counted(held)}; --seed {name} loads into an empty world only "
            "(nothing was changed). Add --reset to start over with the seed, or --world memory for a private world."
        )
    seed(sandbox, name)
    assistants, numbers, calls = SIZES[name]
    print(f"vapi-mcp sandbox: seeded {name}: {assistants} assistants, {numbers} phone numbers, {calls} calls")
    return None


def _advance(sandbox: Any, text: str) -> str:
    """Move the world's clock (`1d`, `3h`, an ISO time) and say what started; ValueError for a move it refuses."""
    from .sandbox.clock import parse_move

    seconds, to = parse_move(text)
    moved = sandbox.advance_clock(seconds=seconds, to=to)
    started = "; started: " + ", ".join(f"{s['type']} {s['id']} (due {s['at']})" for s in moved["started"]) if moved["started"] else ""
    upcoming = sandbox.upcoming()
    later = f"; next: {upcoming[0][0]} {upcoming[0][1]} at {upcoming[0][2].isoformat()}" if upcoming else ""
    return f"clock moved forward {_span(moved['movedSeconds'])}, from {moved['from']} to {moved['now']}{started}{later}"


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())


def _span(seconds: float) -> str:
    """1 d 2 h, 30 min, 45 s."""
    seconds = round(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")) if n]
    return " ".join(parts) or "0 s"


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
    rows = review(dict.fromkeys(files.values()), since, None if ns.since and not ns.limit else ns.limit or 50, who=ns.who)
    shown = ", ".join(f"{path} ({kind}{'' if path.exists() else ', absent'})" for kind, path in files.items())
    print(f"vapi-mcp audit: {len(rows)} attempt(s) from {shown}", file=sys.stderr)
    if ns.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    elif rows:
        print(table(rows))
    return 0


DNC_BY = "user (vapi-mcp dnc)"
"""Who the do-not-call list says added a number from the command line."""


def _ledger(ns: argparse.Namespace) -> Any:
    """The guard's ledger on the state store these settings name (nothing is opened until it is used)."""
    from .guard.ledger import Ledger
    from .state import open_store

    settings = settings_from(ns)
    return Ledger(open_store(settings.state_url), settings.policy)


def cmd_dnc(ns: argparse.Namespace) -> int:
    """The do-not-call list: add, remove, list, import (a CSV file). Only the user removes."""
    import json

    from .guard.audit import shown
    from .guard.ledger import listable
    from .state import StateUnavailable

    ledger = _ledger(ns)
    where = ledger.store.where
    try:
        if ns.action in ("add", "remove"):
            try:
                numbers = [listable(text) for text in ns.numbers]
            except ValueError as exc:
                print(f"vapi-mcp dnc {ns.action}: {exc}; nothing was changed.", file=sys.stderr)
                return 2
            if ns.action == "add":
                added, already = ledger.add(numbers, by=DNC_BY, note=ns.note)
                print(f"vapi-mcp dnc: {len(added)} added, {len(already)} already listed ({where})", file=sys.stderr)
            else:
                removed = ledger.store.dnc_remove(numbers)
                print(f"vapi-mcp dnc: {removed} removed, {len(set(numbers)) - removed} were not listed ({where})", file=sys.stderr)
            return 0
        if ns.action == "import":
            good, bad = read_numbers(ns.file)
            added, already = ledger.add(good, by=DNC_BY, note=ns.note) if good else ([], [])
            print(f"vapi-mcp dnc import: {len(added)} added, {len(already)} already listed, {len(bad)} row(s) without a valid number ({where})", file=sys.stderr)
            for line, why in bad[:20]:
                print(f"  line {line}: {why}", file=sys.stderr)
            return 1 if bad else 0
        entries = ledger.store.dnc_list()
        print(f"vapi-mcp dnc: {len(entries)} number(s) on the do-not-call list ({where})", file=sys.stderr)
        for number, entry in entries.items():
            if ns.json:
                print(json.dumps({"number": number, **entry}, ensure_ascii=False, separators=(",", ":")))
            else:
                by, note = shown(str(entry.get("by") or "-")), shown(str(entry.get("note") or ""))  # an agent's words, as text
                print(f"{number:<16}  {str(entry.get('added') or '')[:19]:<19}  {by}  {note}".rstrip())
        return 0
    except StateUnavailable as exc:
        print(f"vapi-mcp dnc: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"vapi-mcp dnc import: {ns.file}: {exc.strerror}", file=sys.stderr)
        return 2


def read_numbers(path: str) -> tuple[list[str], list[tuple[int, str]]]:
    """The numbers of a CSV file (the first cell of each row that is a valid E.164 number), and the rows without one.

    A first row with no digits at all is a header, and skipped."""
    import csv

    from .guard.ledger import listable

    good: list[str] = []
    bad: list[tuple[int, str]] = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.reader(handle), 1):
            cells = [cell.strip() for cell in row if cell.strip()]
            if not cells:
                continue
            found, why = None, ""
            for cell in cells:
                try:
                    found = listable(cell)
                    break
                except ValueError as exc:
                    why = why or str(exc)
            if found is not None:
                good.append(found)
            elif not (line == 1 and not any(ch.isdigit() for ch in "".join(cells))):
                bad.append((line, why))
    return good, bad


STORE_GUARANTEES = {
    "sqlite": "every change is one fsynced transaction: a crash or power cut loses nothing acknowledged",
    "durable": "Redis fsyncs every write (appendonly yes, appendfsync always): a restart keeps the ledger",
    "redis": (
        "Redis may lose recent writes in a crash (no appendfsync always): after a restart the guard starts a new epoch, "
        "refuses every earlier token, and dials nothing until `vapi-mcp state init`"
    ),
}


def cmd_state(ns: argparse.Namespace) -> int:
    """`vapi-mcp state`: the store, its epoch and what it guarantees after a crash; `state init`: the user's word that the ledger is complete."""
    from datetime import UTC, datetime

    from .state import StateUnavailable, open_store

    store = open_store(settings_from(ns).state_url)
    try:
        epoch = store.trust() if ns.action == "init" else store.epoch()
    except StateUnavailable as exc:
        print(f"vapi-mcp state: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    kind = "sqlite" if store.where.startswith("sqlite:") else "durable" if epoch.durable else "redis"
    born = datetime.fromtimestamp(epoch.born, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    print(f"state store:  {store.where}")
    print(f"epoch:        {epoch.id[:8]}, since {born}{' (replaced one the store lost)' if epoch.replaced else ''}")
    ledger = "complete" if epoch.trusted else "NOT CONFIRMED: dials and texts are refused until `vapi-mcp state init`"
    print(f"ledger:       {ledger}")
    print(f"after a crash: {STORE_GUARANTEES[kind]}")
    if ns.action == "init":
        print(
            "vapi-mcp state init: the guard now takes this store's ledger as complete (today's dial counts as they stand; "
            "re-import the do-not-call list first if the store lost it).",
            file=sys.stderr,
        )
    return 0


def cmd_tools(ns: argparse.Namespace) -> int:
    """Print the tools these settings offer, by toolset, and the size of their tools/list; or, with
    `--markdown`, the README's tool table (the whole catalogue, whatever the settings)."""
    from .toolsets import markdown, offered, tools_list_size

    if ns.markdown:
        print(markdown())
        return 0

    settings = settings_from(ns)
    entries = offered(settings)
    by_toolset: dict[str, list[str]] = {}
    for toolset, spec in entries:
        by_toolset.setdefault(toolset, []).append(spec.name)
    for toolset, names in by_toolset.items():
        print(f"{toolset + ':':<12}{', '.join(names)}")
    count, size = tools_list_size(settings)
    with_apps, apps_size = tools_list_size(settings, apps=True)
    print(f"{count} tools; tools/list is {size:,} bytes of compact JSON (~{size // 4:,} tokens) as a client gets it")
    if with_apps != count or apps_size != size:
        print(f"an MCP Apps client gets {with_apps} tools in {apps_size:,} bytes (with the confirmation view's app-only tools)")
    return 0


def _serve_flags(p: argparse.ArgumentParser) -> None:
    _add_server_flags(p)
    p.set_defaults(func=cmd_serve)


def _sandbox_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=None, help=f"serve on this port (default {SANDBOX_PORT}); with --reset or --advance, serve after them")
    p.add_argument(
        "--world", default=None, help="the world's SQLite file, or memory (env VAPI_MCP_SANDBOX_WORLD, default sandbox.sqlite3 in ~/.local/state/vapi-mcp/, shared with the MCP servers)"
    )
    p.add_argument("--reset", action="store_true", help="start the world over (says what it removed), then exit unless --port is given")
    p.add_argument("--seed", choices=("demo", "bench"), default=None, help="preload data into an empty world (refused if it holds anything: add --reset)")
    p.add_argument("--advance", default=None, metavar="SPAN|TIME", help="move the world's clock forward (30m, 3h, 1d, or 2026-11-03T15:00Z) so scheduled work runs; then exit unless --port")
    p.add_argument("--log-level", default=None)
    p.set_defaults(func=cmd_sandbox)


def _demo_flags(p: argparse.ArgumentParser) -> None:
    p.set_defaults(func=cmd_demo)


def _policy_flags(p: argparse.ArgumentParser) -> None:
    from .config import Settings, declared

    _add_setting_flags(p, declared(Settings))
    p.set_defaults(func=cmd_policy)


def _audit_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", default=None, help="only attempts since a time (2026-12-01T09:00Z, 2026-12-01) or a span ago (30m, 2h, 1d, 1w)")
    p.add_argument("--limit", type=int, default=None, help="the last N attempts (default 50 without --since; all with it)")
    p.add_argument("--json", action="store_true", help="one JSON object per attempt (its lines merged) instead of the table")
    p.add_argument("--only", choices=("real", "sandbox"), default=None, help="read only the real or only the sandbox audit file (default both)")
    p.add_argument("--who", default=None, help="only the attempts of one person: a signed-in subject (alice, or oauth:alice), local, or another tenant the table shows")
    _add_setting_flags(p, _named("audit_log", "sandbox_audit_log"))
    p.set_defaults(func=cmd_audit)


def _dnc_flags(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", required=True)
    for name, what in (("add", "put numbers on the list"), ("remove", "take numbers off the list (only here: an agent never can)")):
        sub_action = actions.add_parser(name, help=what)
        sub_action.add_argument("numbers", nargs="+", help="E.164 numbers, like +14155550123")
        if name == "add":
            sub_action.add_argument("--note", default=None, help="why (kept with each number)")
        _add_setting_flags(sub_action, _named("state_url"))
    listing = actions.add_parser("list", help="print the list (number, added, by, note)")
    listing.add_argument("--json", action="store_true", help="one JSON object per number")
    _add_setting_flags(listing, _named("state_url"))
    importing = actions.add_parser("import", help="add every number of a CSV file (the first valid E.164 number of each row)")
    importing.add_argument("file", help="a CSV file")
    importing.add_argument("--note", default=None, help="why (kept with each number)")
    _add_setting_flags(importing, _named("state_url"))
    p.set_defaults(func=cmd_dnc)


def _state_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=("status", "init"), default="status", help="status (default), or init: confirm the ledger is complete")
    _add_setting_flags(p, _named("state_url"))
    p.set_defaults(func=cmd_state)


def _tools_flags(p: argparse.ArgumentParser) -> None:
    _add_setting_flags(p, _named("read_only", "toolsets", "tools"))
    p.add_argument("--markdown", action="store_true", help="print the README's tool table, generated from the catalogue")
    p.set_defaults(func=cmd_tools)


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "serve": ("run the MCP server (the default)", _serve_flags),
    "sandbox": ("serve the sandbox Vapi API alone on loopback; reset its world, move its clock", _sandbox_flags),
    "demo": ("a scripted agent session against the sandbox, over a real MCP connection", _demo_flags),
    "policy": ("print the guard policy in force (with serve's setting flags: the policy that server would keep)", _policy_flags),
    "audit": ("review guarded attempts: one row per attempt (time, tool, who, target, decision, channel, ids)", _audit_flags),
    "dnc": ("the do-not-call list in the state store: add, remove, list, import a CSV file", _dnc_flags),
    "state": ("the state store: its epoch and what it guarantees after a crash (`state init`: confirm its ledger)", _state_flags),
    "tools": ("print the tools agents see with these settings", _tools_flags),
}
"""Each subcommand: its help, and what adds its arguments."""


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser. Given the `command` a command line names, only that subcommand gets its
    arguments (the others are listed, with their help): a client spawns `serve` at every session, and
    building every subcommand's flags (`policy` repeats all of serve's) would delay its first answer."""
    root = _Parser(prog="vapi-mcp", description="A guarded MCP server for Vapi.")
    root.add_argument("--version", action="version", version=f"vapi-mcp {__version__}")
    sub = root.add_subparsers(dest="command")
    for name, (what, add_arguments) in COMMANDS.items():
        subcommand = sub.add_parser(name, help=what)
        if command is None or command not in COMMANDS or name == command:
            add_arguments(subcommand)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["serve", *argv]
    try:
        ns = parser(argv[0]).parse_args(argv)
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
