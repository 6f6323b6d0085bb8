"""A human's yes: MCP elicitation (both protocol modes) or an MCP Apps view; else a confirm token the agent relays."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import anyio
from mcp.server.elicitation import render_elicitation_schema
from mcp.shared.exceptions import MCPError
from mcp_types import (
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
)
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field, ValidationError

from ..errors import Refused
from ..redact import redact
from ..state import Epoch, EpochChanged, MemoryStore, StateStore
from . import app
from .action import CallContext, GuardedAction, InputRequired, Outcome
from .app import offers_apps
from .policy import auto_approved, iso

if TYPE_CHECKING:
    from ..config import Policy

logger = logging.getLogger("vapi_mcp.guard")

ELICITATION_KEY = "confirm"
CLOCK_SKEW = 86_400
"""Seconds a used token is remembered beyond its expiry: more than any two replicas' clocks may differ."""
INPUT_REQUIRED_VERSION = "2026-07-28"


class Confirmation(BaseModel):
    """The form shown to the human."""

    confirm: bool = Field(description="Yes, do it.")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(tool: str, arguments: dict[str, Any], account: str = "", tenant: str = "", request: Any = None) -> bytes:
    """The request a confirmation is bound to (on which account, for whom, and the request itself), in one byte form."""
    bound = {"tool": tool, "arguments": arguments, "account": account, **({"tenant": tenant} if tenant else {}), **({"request": request} if request is not None else {})}
    return json.dumps(bound, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


class Expired(Refused):
    """A confirm token or request state that was valid once and has expired."""


class Tokens:
    """Signed, expiring, single-use confirmations bound to one tool call's arguments and to the store's epoch.

    Single use is a mark in the state store (`token:<n>`), set in the same atomic step that checks the store's
    epoch is the token's: a store that lost its memory (and with it, which tokens were used) accepts none of the
    tokens issued before. A preview shown in the MCP Apps view shares its use with the token issued beside it:
    `n` is then `use_key(pending id)`, so Approve, Decline and the agent's token all spend the same mark, and
    a decline this process could not record in the store is remembered here (`declined`) until it can be."""

    def __init__(self, secret: str | None, store: StateStore | None = None) -> None:
        self._key = secret.encode() if secret else secrets.token_bytes(32)
        self.store: StateStore = store if store is not None else MemoryStore()
        """Where used tokens are remembered: shared by every session and replica using the same store."""
        self.declined: dict[str, float] = {}
        """Uses (`n`) a human declined that the store has not recorded yet, until when (wall clock) to refuse them."""

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def derive(self, label: str) -> bytes:
        """A key for another purpose (the pending rows' seal), derived from the confirm secret."""
        return hmac.new(self._key, b"vapi-mcp derive:" + label.encode(), hashlib.sha256).digest()

    def use_key(self, pending_id: str) -> str:
        """The single-use mark a pending confirmation shares with its token: keyed, so the token (which the agent
        reads) does not reveal the pending id (which only the view holds)."""
        return hmac.new(self._key, b"vapi-mcp pending:" + pending_id.encode(), hashlib.sha256).hexdigest()[:32]

    def _bound_to(self, action: GuardedAction) -> str:
        """The arguments, and the request they make now: an update merged into what Vapi holds makes another request
        when that changed since the preview (another destination the human was never shown), and is refused."""
        request = {"method": action.method, "path": action.path, "body": action.body}
        return _b64(self._sign(canonical(action.tool, action.arguments, action.account, action.tenant, request))[:16])

    def issue(self, action: GuardedAction, expires: datetime, *, epoch: str, use: str | None = None) -> str:
        payload = json.dumps(
            {"a": self._bound_to(action), "e": int(expires.timestamp()), "n": use or secrets.token_hex(8), "ep": epoch}, separators=(",", ":")
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def redeem(self, token: str, action: GuardedAction, now: datetime) -> None:
        """Accept the token once, or raise `Refused` saying why it does not confirm this call."""
        rule = "confirm_token"
        try:
            encoded, signature = token.split(".")
            payload = _unb64(encoded)
            valid = hmac.compare_digest(_unb64(signature), self._sign(payload))
            claims = json.loads(payload) if valid else {}
        except ValueError:
            valid, claims = False, {}
        if not valid or not isinstance(claims, dict) or not {"a", "e", "n", "ep"} <= claims.keys():
            raise Refused(rule, "the confirm token is malformed or was not issued by this server; nothing was sent.")
        if not hmac.compare_digest(str(claims["a"]), self._bound_to(action)):
            raise Refused(
                rule,
                "the confirm token was issued for different arguments (or another Vapi account, or another person, or the request "
                "they make changed since: an update merges into what Vapi holds now); nothing was sent.",
                hint="Call again without confirmToken to get a new preview for these arguments.",
            )
        if now.timestamp() >= float(claims["e"]):
            raise Expired(rule, "the confirm token has expired; nothing was sent.", hint="Call again without confirmToken for a new preview.")
        self.use(str(claims["n"]), str(claims["ep"]), float(claims["e"]) - now.timestamp(), rule=rule)

    def use(self, use: str, epoch: str, ttl: float, *, rule: str) -> None:
        """Spend the single-use mark `use` (of the store's epoch `epoch`), or raise `Refused` saying why it cannot be."""
        if self.declined.get(use, 0.0) > time.time():
            raise Refused(rule, "the user declined this action in the confirmation view; nothing was sent.", hint="Do not repeat it: the user said no.")
        # Kept until it expires, by the store's wall clock (the guard's clock may be a test's), and a day more:
        # a replica whose clock is behind still takes the token as unexpired, and must still find it used.
        try:
            fresh = self.store.consume(f"token:{use}", time.time() + ttl + CLOCK_SKEW, epoch=epoch)
        except EpochChanged:
            raise Refused(
                rule,
                f"the state store {self.store.where} lost its memory since this confirmation was issued, so it cannot tell "
                "whether it was already used; nothing was sent.",
                hint="Call again without confirmToken for a new preview, and ask the user again.",
            ) from None
        if not fresh:
            raise Refused(
                rule,
                "the confirm token was already used (or the user declined the action in the confirmation view); nothing was sent.",
                hint="Each token confirms one action.",
            )

    def spend(self, use: str, ttl: float) -> bool:
        """Use up a mark without acting on it (the human declined what it would confirm), whatever the epoch; False
        when it was already used (the action it confirms may have run: the agent's token, or another answer, came first)."""
        return self.store.consume(f"token:{use}", time.time() + ttl + CLOCK_SKEW)


Channel = Literal["elicitation", "app", "agent-relayed", "auto-allowlist"]
"""How a guarded action was confirmed, as every audit line records it (`channel`)."""

NO_HUMAN_CHANNEL = (
    "this server accepts only a human's yes (consent mode `human`), and this client offers no human channel: "
    "it neither asks the user through MCP elicitation nor renders MCP Apps views; nothing was sent."
)
COULD_NOT_ASK = (
    "this server accepts only a human's yes (consent mode `human`); this client declared MCP elicitation but could "
    "not put the question to the user, and renders no MCP Apps view; nothing was sent."
)
HUMAN_CHANNEL_HINT = (
    "Tell the user. Clients that ask the user themselves: through elicitation (documented by VS Code with GitHub "
    "Copilot, Cursor and Claude Code; the MCP Python SDK's Client with an elicitation callback), or through an "
    "MCP Apps view (Claude Desktop, ChatGPT, VS Code, Cursor). Only the user can change the consent mode "
    "(VAPI_MCP_CONSENT / --consent), where the server is started."
)


class Consent:
    """Asks the human, by the strongest channel the client offers; says which channel said yes."""

    def __init__(self, policy: Policy, tokens: Tokens, store: StateStore) -> None:
        self.policy = policy
        self.tokens = tokens
        self.store = store
        """Where the MCP Apps view's pending actions wait for Approve (channel `app`)."""

    @property
    def human_only(self) -> bool:
        return self.policy.consent == "human"

    async def confirm(self, action: GuardedAction, call: CallContext, now: datetime, epoch: Epoch) -> Channel:
        """The channel that confirmed; raises `Outcome` (preview, decline), `InputRequired` or `Refused`."""
        approval = call.approval
        if approval is not None:  # the view's Approve, for exactly this pending action
            if approval.request is not None and _plain(request_of(action)) != _plain(approval.request):
                raise Refused(
                    "app",
                    "what Approve would send now differs from what the user was shown (the object it updates changed since "
                    "the question, so the merged request is another one); nothing was sent.",
                    hint="Call the tool again for a new confirmation of the request as it stands.",
                )
            if approval.token:
                self.tokens.redeem(approval.token, action, now)  # the agent's copy of the token is spent with it
            else:  # it shares its single use with nothing else, but is still used once, in its own epoch
                self.tokens.use(approval.use, approval.epoch, self.policy.confirm_ttl, rule="app")
            return "app"
        if action.confirm_token:
            if self.human_only:
                raise Refused(
                    "consent",
                    "confirm tokens are not accepted: this server takes only a human's yes (consent mode `human`); nothing was sent.",
                    hint=HUMAN_CHANNEL_HINT,
                )
            self.tokens.redeem(action.confirm_token, action, now)
            return "agent-relayed"
        if auto_approved(self.policy, action):
            return "auto-allowlist"
        context = call.mcp
        elicits = context is not None and can_elicit(context)
        if elicits:
            if uses_input_required(context):
                return self._by_input_required(action, context, now, epoch)
            channel = await self._by_elicitation(action, context)
            if channel is not None:
                return channel
        expires = now + timedelta(seconds=self.policy.confirm_ttl)
        view = {
            "confirmationRequired": True,
            "decision": "previewed",
            "summary": action.summary,
            "cost": action.cost_note,
            "wouldSend": request_of(action),
            "expiresAt": iso(expires),
        }
        if offers_apps(context):
            pending_id = app.new_id()
            use = self.tokens.use_key(pending_id)
            token = None if self.human_only else self.tokens.issue(action, expires, epoch=epoch.id, use=use)
            rows = app.PendingRows(self.store, self.tokens.derive("pending rows"))
            pending = app.Pending(pending_id, use, epoch.id, token, call.tenant or "local", call.vapi.account)
            raise app.preview(action, pending, view, rows, now, self.policy.confirm_ttl)
        token = None if self.human_only else self.tokens.issue(action, expires, epoch=epoch.id)
        if token is None:
            problem = COULD_NOT_ASK if elicits else NO_HUMAN_CHANNEL
            raise Refused("consent", problem, hint=HUMAN_CHANNEL_HINT)
        raise Outcome(
            {
                **view,
                "confirmToken": token,
                "channel": "agent-relayed",
                "message": (
                    "Nothing was sent. Show the user the summary and ask. Only if they say yes, call "
                    f"{action.tool} again with identical arguments plus this confirmToken. The token is consent "
                    "relayed by you, the agent (channel `agent-relayed`): the server cannot tell whether a human said yes."
                ),
            }
        )

    async def _by_elicitation(self, action: GuardedAction, context: Any) -> Channel | None:
        """Ask mid-call (protocols before 2026-07-28); None when the client could not put the question to anyone."""
        wait = self.policy.confirm_wait
        try:
            with anyio.fail_after(wait):
                result = await context.session.elicit_form(
                    message=question(action),
                    requested_schema=render_elicitation_schema(Confirmation),
                    related_request_id=context.request_id,
                )
        except TimeoutError:
            raise Outcome(
                {
                    "decision": "timed-out",
                    "message": (
                        f"The user did not answer the confirmation within {wait} s; nothing was placed, bought or deleted. "
                        "Ask the user in the chat before trying again."
                    ),
                }
            ) from None
        except ValidationError:  # an answer that is not an elicitation result at all is no yes
            return answered("malformed", None)
        except MCPError as exc:  # the client answered with an error, or there is no back-channel: nobody was asked
            logger.info("the client could not ask the user: %s", exc)
            return None
        return answered(result.action, result.content)

    def _by_input_required(self, action: GuardedAction, context: Any, now: datetime, epoch: Epoch) -> Channel:
        """Protocol 2026-07-28+: ask in an `InputRequiredResult`; the retry carries the answer and our signed state."""
        answer = (context.input_responses or {}).get(ELICITATION_KEY)
        if answer is None:
            expires = now + timedelta(seconds=self.policy.confirm_wait)  # the time the human has to answer
            request = ElicitRequest(
                params=ElicitRequestFormParams(message=question(action), requested_schema=render_elicitation_schema(Confirmation))
            )
            raise InputRequired(
                InputRequiredResult(input_requests={ELICITATION_KEY: request}, request_state=self.tokens.issue(action, expires, epoch=epoch.id))
            )
        if not context.request_state:
            raise Refused("confirmation", "an elicitation answer arrived without the state this server issued; nothing was sent.")
        try:
            self.tokens.redeem(context.request_state, action, now)
        except Expired:
            raise Outcome(
                {
                    "decision": "timed-out",
                    "message": (
                        f"The answer came after the {self.policy.confirm_wait} s the user had to confirm; nothing was "
                        "placed, bought or deleted. Ask the user in the chat before trying again."
                    ),
                }
            ) from None
        if not isinstance(answer, ElicitResult):
            return answered("malformed", None)
        return answered(answer.action, answer.content)


def answered(action: str, content: Any) -> Channel:
    """Only an `accept` whose `confirm` is exactly the JSON boolean true is a yes; anything else is a no."""
    if action == "accept" and isinstance(content, dict) and content.get(ELICITATION_KEY) is True:
        return "elicitation"
    decision = "cancelled" if action == "cancel" else "declined"
    raise Outcome(
        {
            "decision": decision,
            "message": f"The user {decision} (or did not confirm); nothing was placed, bought or deleted.",
        }
    )


async def malformed_answers_declined(ctx: Any, call_next: Any) -> Any:
    """Server middleware: a 2026-07-28 retry whose answer to the confirmation is no elicitation result is a decline.

    The SDK validates `inputResponses` before any handler runs and would reject the whole request as
    invalid, so the guard could neither refuse it as `declined` nor write its audit line.
    """
    params = ctx.params
    responses = params.get("inputResponses") if ctx.method == "tools/call" and isinstance(params, Mapping) else None
    if isinstance(responses, Mapping) and ELICITATION_KEY in responses:
        try:
            ElicitResult.model_validate(responses[ELICITATION_KEY], by_name=False)
        except ValidationError:
            answer = {"action": "decline"}
            ctx = replace(ctx, params={**params, "inputResponses": {**responses, ELICITATION_KEY: answer}})
    return await call_next(ctx)


def question(action: GuardedAction) -> str:
    return f"{action.summary} {action.cost_note} Go ahead?"


def _plain(value: Any) -> Any:
    """`value` as JSON reads it back (as a pending row keeps it)."""
    return json.loads(json.dumps(value, default=str))


def request_of(action: GuardedAction) -> dict[str, Any]:
    """The request as shown to humans and written to the audit file: secrets masked."""
    return {"method": action.method, "path": action.path, "body": redact(action.body)}


def can_elicit(context: Any) -> bool:
    """True when the client declared form elicitation (a bare `elicitation: {}` counts)."""
    try:
        capabilities = context.client_capabilities
    except Exception:  # no active request (a direct, in-process call)
        return False
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def uses_input_required(context: Any) -> bool:
    version = context.protocol_version
    return version is not None and is_version_at_least(version, INPUT_REQUIRED_VERSION)
