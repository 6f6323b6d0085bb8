"""The MCP Apps consent channel: a confirmation view the host renders, and app-only tools behind its buttons.

When the client declares the MCP Apps extension (`io.modelcontextprotocol/ui`), a guarded tool's
preview keeps the pending action (tool, arguments, Vapi account, person, expiry, the store's epoch
and the single use it shares with the agent's confirm token) in the guard's state store and names
it only in the result's `_meta`, which hosts deliver to the view (`ui/notifications/tool-result`)
and are told not to give the model. The view shows the summary with Approve and Decline; Approve
calls `approve_action`, an app-only tool (`_meta.ui.visibility: ["app"]`) that checks the pending
action, then takes it out of the store (once: `take` is atomic) and runs it. What this rests on is
said in README's guard section.

A pending row is evidence, not a note: whoever can write to the store (a Redis the replicas share)
must not be able to rewrite what the human approves or plant an action nobody was asked about. Each
row is sealed with AES-GCM under a key derived from the confirm secret the replicas share (and bound
to its id), so it is authenticated and verified before anything runs, and the secrets its arguments
may hold (`twilioAuthToken`...) are never at rest in clear: not in the store, not in SQLite's WAL.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID, client_supports_apps

from .action import GuardedAction, Outcome
from .facts import quoted

if TYPE_CHECKING:
    from ..state import StateStore

__all__ = [
    "APP_MIME_TYPE",
    "Forged",
    "Pending",
    "PendingRows",
    "APPROVE_TOOL",
    "DECLINE_TOOL",
    "EXTENSION_ID",
    "META_KEY",
    "VIEW_URI",
    "Approval",
    "approved",
    "offers_apps",
    "view_html",
]

VIEW_URI = "ui://vapi-mcp/confirm.html"
META_KEY = "vapi-mcp/confirmation"
"""The key of the result `_meta` entry the view reads: the pending id, the summary, the cost."""
APPROVE_TOOL = "approve_action"
DECLINE_TOOL = "decline_action"
_PENDING = "pending:"


@dataclass(frozen=True)
class Approval:
    """The view's Approve of one pending action, handed to the tool call that runs it."""

    pending_id: str
    token: str | None = None
    """The confirm token issued with the same preview (consent `any`), spent by this approval."""
    use: str = ""
    """The single-use mark this approval spends (the token's, when there is one)."""
    epoch: str = ""
    """The store's epoch the preview was issued in."""
    request: Any = None
    """The request the user was shown (`wouldSend`, secrets masked): Approve runs only that request."""


@dataclass(frozen=True)
class Pending:
    """Who and what a preview's pending row is for, besides the action itself."""

    id: str
    use: str
    epoch: str
    token: str | None
    tenant: str
    account: str


class Forged(Exception):
    """A pending row that does not open under this server's key: written or changed by someone else."""


def new_id() -> str:
    return secrets.token_urlsafe(24)


class PendingRows:
    """Pending actions in the state store, each sealed (AES-GCM, its id as associated data) with a key derived
    from the confirm secret: authenticated, and nothing in them (provider secrets included) at rest in clear."""

    def __init__(self, store: StateStore, key: bytes) -> None:
        self.store = store
        self.key = key

    def _aad(self, pending_id: str) -> bytes:
        return b"vapi-mcp pending action " + pending_id.encode()

    def seal(self, pending_id: str, row: dict[str, Any]) -> dict[str, Any]:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        sealed = AESGCM(self.key).encrypt(nonce, json.dumps(row, separators=(",", ":")).encode(), self._aad(pending_id))
        return {"v": 1, "nonce": _b64(nonce), "sealed": _b64(sealed)}

    def open(self, pending_id: str, stored: dict[str, Any] | None) -> dict[str, Any] | None:
        """The row, or None if there is none; `Forged` if it does not open (rewritten, planted, or another key's)."""
        if stored is None:
            return None
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            plain = AESGCM(self.key).decrypt(_unb64(stored["nonce"]), _unb64(stored["sealed"]), self._aad(pending_id))
            row = json.loads(plain)
        except (InvalidTag, KeyError, TypeError, ValueError):
            raise Forged(pending_id) from None
        if not isinstance(row, dict):
            raise Forged(pending_id)
        return row

    def put(self, pending_id: str, row: dict[str, Any], expires_at: float) -> None:
        self.store.put(_PENDING + pending_id, self.seal(pending_id, row), expires_at)

    def peek(self, pending_id: str) -> dict[str, Any] | None:
        return self.open(pending_id, self.store.get(_PENDING + pending_id)) if pending_id else None

    def take(self, pending_id: str) -> dict[str, Any] | None:
        return self.open(pending_id, self.store.take(_PENDING + pending_id)) if pending_id else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text)


def offers_apps(context: Any) -> bool:
    """True when the client declared MCP Apps with the `text/html;profile=mcp-app` MIME type."""
    if context is None:
        return False
    try:
        return client_supports_apps(context)
    except Exception:  # no active request (a direct, in-process call)
        return False


def view_html() -> str:
    """The confirmation view: one static file, inline script and style, no network."""
    return Path(__file__).with_name("confirm.html").read_text(encoding="utf-8")


def preview(action: GuardedAction, pending: Pending, view: dict[str, Any], rows: PendingRows, now: datetime, ttl: int) -> Outcome:
    """Keep the pending action in the store, sealed; `_meta` names it for the view only."""
    expires = now + timedelta(seconds=ttl)
    rows.put(
        pending.id,
        {
            "tool": action.tool,
            "arguments": action.arguments,
            "account": pending.account,
            "tenant": pending.tenant,
            "expires": expires.timestamp(),
            "token": pending.token,
            "use": pending.use,
            "epoch": pending.epoch,
            "kind": action.kind,
            "summary": action.summary,
            "request": view.get("wouldSend"),
        },
        time.time() + ttl,  # the store forgets in wall-clock time; the guard's clock decides expiry
    )
    token = pending.token
    message = (
        "Nothing was sent. The user is shown a confirmation view with Approve and Decline (consent channel `app`); "
        f"the action runs only when they press Approve there. Do not call {action.tool} again for this."
    )
    if token:
        message += (
            " If the user cannot see the view and says yes in the chat, call it again with identical arguments plus "
            "this confirmToken: consent relayed by you, the agent (channel `agent-relayed`). Only one of the two can run it."
        )
    return Outcome(
        {**view, **({"confirmToken": token} if token else {}), "channel": "app", "message": message},
        meta={
            "ui": {"resourceUri": VIEW_URI},
            META_KEY: {"id": pending.id, "tool": action.tool, "summary": action.summary, "cost": action.cost_note, "expiresAt": view["expiresAt"]},
        },
    )


SHOWN_CALLS = 3
"""How many calls of a batch the sentence after Approve names before it says how many more."""


def approved(tool: str, view: Any) -> str:
    """What the view shows once Approve ran the action: one plain sentence of what Vapi did, from the tool's
    result (the numbers and ids Vapi answered with, each cut to one short line), never the result's JSON."""
    if not isinstance(view, dict):
        return f"Approved: {tool} was sent to Vapi and succeeded."
    calls = view.get("calls")
    if isinstance(calls, list):
        named = [_call(call) for call in calls[:SHOWN_CALLS] if isinstance(call, dict)]
        more = f", and {len(calls) - SHOWN_CALLS} more" if len(calls) > SHOWN_CALLS else ""
        errors = view.get("errors")
        failed = f" {len(errors)} could not be placed." if isinstance(errors, list) and errors else ""
        placed = len(calls)
        return f"Approved: {placed} call{'s were' if placed != 1 else ' was'} placed ({'; '.join(named)}{more}).{failed}"
    if isinstance(view.get("type"), str) and view["type"].endswith("Call") and "id" in view:
        verb = "scheduled" if view.get("status") == "scheduled" else "placed"
        if view.get("customer"):
            return f"Approved: the call to {_fact(view['customer'])} was {verb} (call id {_fact(view['id'])})."
        if view["type"] == "webCall":
            return f"Approved: the web call was created (call id {_fact(view['id'])})."
        return f"Approved: the call was {verb} (call id {_fact(view['id'])})."
    number = view.get("phoneNumber")
    if isinstance(number, dict) and number.get("id"):
        what = number.get("number") or number.get("sipUri") or number.get("name")
        verb = "imported" if tool == "import_number" else "bought"
        return f"Approved: the number {_fact(what) + ' ' if what else ''}was {verb} (id {_fact(number['id'])})."
    deleted = view.get("deleted")
    if deleted:
        ident, name = (deleted.get("id"), deleted.get("name")) if isinstance(deleted, dict) else (deleted, None)
        if not tool.startswith("delete_"):
            return f"Approved: {_fact(ident)} was deleted."
        thing = tool.removeprefix("delete_").replace("_", " ")
        return f"Approved: the {thing} {quoted(name) + ' ' if name else ''}was deleted (id {_fact(ident)})."
    ident = view.get("id")
    return f"Approved: {tool} was sent to Vapi and succeeded{f' (id {_fact(ident)})' if isinstance(ident, str) else ''}."


def _call(call: dict[str, Any]) -> str:
    to = f"to {_fact(call['customer'])}, " if call.get("customer") else ""
    return f"{to}call id {_fact(call.get('id'))}"


def _fact(value: Any, limit: int = 48) -> str:
    """An id or a number Vapi answered with, as one short line of plain text."""
    return quoted(value, limit)[1:-1]


def problem(
    pending: dict[str, Any] | None, tool: str, context: Any, account: str, now: datetime, tenant: str = "local", epoch: str | None = None
) -> str | None:
    """Why the view's answer cannot act on `pending` here, if it cannot (`epoch`: the store's, when the answer is a yes)."""
    if not offers_apps(context):
        return (
            f"{tool} answers the confirmation view of an MCP Apps host, and this client declared no MCP Apps "
            "support; nothing was sent."
        )
    if pending is None:
        return "no pending action has this id (unknown, already answered, or expired); nothing was sent."
    if now.timestamp() >= float(pending["expires"]):
        return "the pending action has expired; nothing was sent. Call the tool again for a new confirmation."
    if pending["account"] != account:
        return "the pending action belongs to another Vapi account; nothing was sent."
    if pending.get("tenant", "local") != tenant:  # a person approves only what they asked for (under OAuth, their subject)
        return "the pending action was asked for by someone else; only they can approve it; nothing was sent."
    if epoch is not None and pending.get("epoch") != epoch:
        return (
            "the state store lost its memory since this confirmation was shown, so it cannot tell whether it was already "
            "answered; nothing was sent. Call the tool again for a new confirmation."
        )
    return None
