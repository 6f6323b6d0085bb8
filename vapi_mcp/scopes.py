"""OAuth scopes: what a signed-in person may do (`--auth oauth`; without OAuth nothing here applies).

Reading, changing and each kind of guarded action are separate scopes, so a team gives each person
only what they need. Every tool needs the scopes its every use needs (`tool_scopes`: a read needs
`vapi:read`, a change `vapi:change`, a purchase `vapi:spend` too, a deletion `vapi:delete` too); a
guarded action needs the scope of what it does as well (`action_scopes`: a tool that only sometimes
dials, such as `create_call`, which also makes web calls, needs `vapi:dial` only when it dials). A
token without a tool's scopes is answered `403 insufficient_scope` and is not shown the tool; a
guarded action without its scope is refused by the guard, naming the scope, and audited.
"""

from __future__ import annotations

from collections.abc import Iterable

READ = "vapi:read"
CHANGE = "vapi:change"
DIAL = "vapi:dial"
TEXT = "vapi:text"
SPEND = "vapi:spend"
DELETE = "vapi:delete"
ALL = (READ, CHANGE, DIAL, TEXT, SPEND, DELETE)
"""Every scope this server knows, as its Protected Resource Metadata lists them (`scopes_supported`)."""

KIND_SCOPES: dict[str, str] = {"dial": DIAL, "text": TEXT, "spend": SPEND, "destroy": DELETE}
"""The scope each kind of guarded action needs besides `vapi:change` (`guard.action.Kind`)."""

ALWAYS_GUARDED: dict[str, str] = {"buy_number": SPEND, "import_number": SPEND, "create_campaign": DIAL, "detach_file": DELETE}
"""Tools every use of which is one kind of guarded action (besides `delete_*`, which always deletes)."""

APPROVE_TOOL, DECLINE_TOOL = "approve_action", "decline_action"
"""The MCP Apps view's buttons: Approve runs a pending action (its tool's scopes are checked then);
Decline only drops one, and a person may always say no."""


def tool_scopes(name: str, read_only: bool) -> frozenset[str]:
    """The scopes every call of tool `name` needs."""
    if name == DECLINE_TOOL:
        return frozenset()
    if read_only:
        return frozenset({READ})
    needed = {CHANGE}
    if name.startswith("delete_"):
        needed.add(DELETE)
    if name in ALWAYS_GUARDED:
        needed.add(ALWAYS_GUARDED[name])
    return frozenset(needed)


def action_scopes(kind: str, roles: Iterable[str] = ()) -> frozenset[str]:
    """The scopes a guarded action of `kind` needs; `roles` are those of the destinations it carries.

    A `route` (setting up a transfer or SMS destination, used later) needs the scope of what it sets up:
    `vapi:dial` for a transfer, `vapi:text` for an SMS destination."""
    needed = {CHANGE}
    if kind in KIND_SCOPES:
        needed.add(KIND_SCOPES[kind])
    elif kind == "route":
        roles = set(roles)
        if roles & {"sms", "sms-tool", "sms-session"}:
            needed.add(TEXT)
        if roles - {"sms", "sms-tool", "sms-session"} or not roles:
            needed.add(DIAL)
    return frozenset(needed)


def missing(needed: Iterable[str], granted: frozenset[str] | None) -> list[str]:
    """The scopes of `needed` a token lacks, in `ALL`'s order; none when OAuth is off (`granted` None)."""
    if granted is None:
        return []
    wanted = set(needed)
    return [scope for scope in ALL if scope in wanted and scope not in granted]


def refusal_text(what: str, lacking: list[str]) -> str:
    return (
        f"insufficient_scope: {what} needs the OAuth scope {' and '.join(lacking)}, which your sign-in does not grant; "
        "nothing was sent. Ask whoever runs your team's sign-in (the OAuth issuer) for it, then sign in again."
    )
