"""A human's yes: MCP elicitation (both protocol modes), or a preview with a signed confirm token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from mcp.server.elicitation import render_elicitation_schema
from mcp_types import (
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
)
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from ..errors import Refused
from ..redact import redact_body
from ..state import MemoryStore, StateStore
from .action import GuardedAction, InputRequired, Outcome
from .policy import auto_approved

if TYPE_CHECKING:
    from ..config import Policy
    from ..tools.base import ToolContext

logger = logging.getLogger("vapi_mcp.guard")

ELICITATION_KEY = "confirm"
INPUT_REQUIRED_VERSION = "2026-07-28"


class Confirmation(BaseModel):
    """The form shown to the human."""

    confirm: bool = Field(description="Yes, do it.")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def canonical(tool: str, arguments: dict[str, Any], account: str = "") -> bytes:
    """The request a confirmation is bound to (on which account), in one byte form."""
    return json.dumps({"tool": tool, "arguments": arguments, "account": account}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Tokens:
    """Signed, expiring, single-use confirmations bound to one tool call's arguments."""

    def __init__(self, secret: str | None, store: StateStore | None = None) -> None:
        self._key = secret.encode() if secret else secrets.token_bytes(32)
        self.store: StateStore = store if store is not None else MemoryStore()
        """Where used tokens are remembered: shared by every session and replica using the same store."""

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def _bound_to(self, action: GuardedAction) -> str:
        return _b64(self._sign(canonical(action.tool, action.arguments, action.account))[:16])

    def issue(self, action: GuardedAction, expires: datetime) -> str:
        payload = json.dumps(
            {"a": self._bound_to(action), "e": int(expires.timestamp()), "n": secrets.token_hex(8)}, separators=(",", ":")
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
        if not valid or not isinstance(claims, dict) or not {"a", "e", "n"} <= claims.keys():
            raise Refused(rule, "the confirm token is malformed or was not issued by this server; nothing was sent.")
        if not hmac.compare_digest(str(claims["a"]), self._bound_to(action)):
            raise Refused(
                rule,
                "the confirm token was issued for different arguments (or another Vapi account); nothing was sent.",
                hint="Call again without confirmToken to get a new preview for these arguments.",
            )
        if now.timestamp() >= float(claims["e"]):
            raise Refused(rule, "the confirm token has expired; nothing was sent.", hint="Call again without confirmToken for a new preview.")
        # Kept until it expires, by the store's wall clock (the guard's clock may be a test's).
        keep_until = time.time() + float(claims["e"]) - now.timestamp() + 60
        if not self.store.consume(f"token:{claims['n']}", keep_until):
            raise Refused(rule, "the confirm token was already used; nothing was sent.", hint="Each token confirms one action.")


class Consent:
    """Asks the human, by the strongest channel the client offers; says which channel said yes."""

    def __init__(self, policy: Policy, tokens: Tokens) -> None:
        self.policy = policy
        self.tokens = tokens

    async def confirm(self, action: GuardedAction, call: ToolContext, now: datetime) -> str:
        """How the action was confirmed; raises `Outcome` (preview, decline), `InputRequired` or `Refused`."""
        if action.confirm_token:
            self.tokens.redeem(action.confirm_token, action, now)
            return "token"
        if auto_approved(self.policy, action):
            return "allowlist"
        context = call.mcp
        if context is not None and can_elicit(context):
            if uses_input_required(context):
                return self._by_input_required(action, context, now)
            try:
                result = await context.elicit(question(action), Confirmation)
            except Exception as exc:  # the client declared elicitation but could not ask: fall back to the preview
                logger.info("elicitation failed, falling back to a confirm token: %s", exc)
            else:
                return answered(result.action, getattr(getattr(result, "data", None), "confirm", False))
        expires = now + timedelta(seconds=self.policy.confirm_ttl)
        raise Outcome(
            {
                "confirmationRequired": True,
                "decision": "previewed",
                "summary": action.summary,
                "cost": action.cost_note,
                "wouldSend": request_of(action),
                "confirmToken": self.tokens.issue(action, expires),
                "expiresAt": iso(expires),
                "message": (
                    "Nothing was sent. Show the user the summary and ask. Only if they say yes, call "
                    f"{action.tool} again with identical arguments plus this confirmToken."
                ),
            }
        )

    def _by_input_required(self, action: GuardedAction, context: Any, now: datetime) -> str:
        """Protocol 2026-07-28+: ask in an `InputRequiredResult`; the retry carries the answer and our signed state."""
        answer = (context.input_responses or {}).get(ELICITATION_KEY)
        if answer is None:
            expires = now + timedelta(seconds=self.policy.confirm_ttl)
            request = ElicitRequest(
                params=ElicitRequestFormParams(message=question(action), requested_schema=render_elicitation_schema(Confirmation))
            )
            raise InputRequired(
                InputRequiredResult(input_requests={ELICITATION_KEY: request}, request_state=self.tokens.issue(action, expires))
            )
        if not context.request_state:
            raise Refused("confirmation", "an elicitation answer arrived without the state this server issued; nothing was sent.")
        self.tokens.redeem(context.request_state, action, now)
        if not isinstance(answer, ElicitResult):
            raise Refused("confirmation", "the answer to the confirmation was not an elicitation result; nothing was sent.")
        return answered(answer.action, bool((answer.content or {}).get("confirm")))


def answered(action: str, confirm: bool) -> str:
    if action == "accept" and confirm:
        return "elicitation"
    decision = "cancelled" if action == "cancel" else "declined"
    raise Outcome(
        {
            "decision": decision,
            "message": f"The user {decision} (or did not confirm); nothing was placed, bought or deleted.",
        }
    )


def question(action: GuardedAction) -> str:
    return f"{action.summary} {action.cost_note} Go ahead?"


def request_of(action: GuardedAction) -> dict[str, Any]:
    """The request as shown to humans and written to the audit file: secrets masked."""
    return {"method": action.method, "path": action.path, "body": redact_body(action.body)}


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
