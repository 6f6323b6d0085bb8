"""Every failure an agent can see, and the one place that turns them into text; and `EarlyResult`, the way a
tool call ends early with a normal result (a guard's preview or decline, a dry run, a question for the client)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError


class EarlyResult(Exception):
    """A tool call ends here with a normal (non-error) result: the server's one error boundary (`server.App`)
    catches every subclass (`guard.Outcome`, `guard.InputRequired`, `client.DryRun`) and answers with it.

    `result` is the view the tool call answers with (masked and encoded like any view, with `meta` as its
    `_meta`), or, when `final`, the MCP result itself, sent as it is.
    """

    final = False

    def __init__(self, message: str, result: Any, meta: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result
        self.meta = meta
        """The result's `_meta`: for the host and an MCP Apps view, not for the model."""


class VapiMCPError(Exception):
    """A failure whose message is safe and useful to show an agent."""

    kind = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def text(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class InputError(VapiMCPError):
    """An argument broke a rule; nothing was sent."""

    kind = "invalid_argument"

    def __init__(self, field: str, rule: str, *, hint: str | None = None) -> None:
        super().__init__(sentence(f"Invalid argument `{field}`: {rule}"), hint=hint)
        self.field = field
        self.rule = rule


class VapiError(VapiMCPError):
    """Vapi answered with an error, or could not be reached."""

    kind = "vapi_error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        vapi_messages: Sequence[str] = (),
        hint: str | None = None,
        sent: bool | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.vapi_messages = list(vapi_messages)
        self.sent = False if sent is None and status is not None and 400 <= status < 500 else sent
        """False when Vapi certainly did not act (it answered 4xx, or was never reached); None when unknown."""

    def text(self) -> str:
        parts = [self.message]
        if self.vapi_messages:
            parts.append(sentence("Vapi says: " + "; ".join(m.strip().rstrip(";") for m in self.vapi_messages)))
        if self.hint:
            parts.append(self.hint)
        return " ".join(parts)


def sentence(text: str) -> str:
    """`text` ending with one full stop (or the ?, ! or . it already has): never "code.." or "code"."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!")) else text + "."


class Refused(VapiMCPError):
    """The guard refused the action before anything was sent."""

    kind = "refused"

    def __init__(self, rule: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"Refused by rule `{rule}`: {message}", hint=hint)
        self.rule = rule


def validation_error_text(exc: ValidationError, tool: str) -> str:
    """One line per broken rule, each naming the argument path and the rule."""
    lines = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"] if not _is_union_tag(p)) or "(arguments)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "is not an argument of this tool (check the spelling; fields are camelCase as in Vapi's API)"
        elif err["type"] == "missing":
            msg = "is required"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        lines.append(f"`{loc}` {msg}")
    return f"Invalid arguments for {tool}: " + "; ".join(lines) + ". Nothing was sent."


def _is_union_tag(part: Any) -> bool:
    """Pydantic puts the chosen union branch (`function-after[...]`, a tag) in `loc`; agents don't care."""
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))
