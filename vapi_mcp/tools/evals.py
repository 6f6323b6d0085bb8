"""Evals (/eval, /eval/run): scripted mock conversations whose checkpoints judge the assistant's replies.

A checkpoint is an assistant message with a `judgePlan` (exact, regex or an AI judge). Results
come back compact: pass/fail per checkpoint, and for a failure the turn, what was expected, what
the assistant said and the judge's reason.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from ..errors import InputError, VapiError, VapiMCPError
from ..guard import CallContext
from ..guard.facts import a, plural, quoted
from ..ids import VapiId, vapi_id
from .assistants import AssistantOverrides, TransientAssistant, TransientSquad
from .base import (
    Args,
    DeleteArgs,
    Guarded,
    IdArgs,
    ListArgs,
    Strict,
    ToolContext,
    ToolGroup,
    delete_confirmed,
    items_of,
    listed_only,
    lookup,
    non_null,
    poll,
    shown_as,
    strip_org,
)

toolset = "testing"
tools = ToolGroup()

EVAL_TYPE: Final = "chat.mockConversation"
WAIT = Field(55, ge=0, le=600, description="Seconds to wait for the end, with progress (0: don't).")
"""Under the 60 s request timeout many MCP clients apply by default."""


class ToolCall(Strict):
    name: str = Field(max_length=100)
    arguments: dict[str, Any] | None = None


class JudgeModel(Strict):
    """Eval{OpenAI,Anthropic,Google,Custom}Model: the LLM judge; it must answer pass or fail."""

    provider: Literal["openai", "anthropic", "google", "custom-llm"]
    model: str = Field(max_length=100)
    messages: list[dict[str, Any]]
    temperature: float | None = Field(None, ge=0, le=2)
    maxTokens: float | None = Field(None, ge=50, le=10000)
    thinking: dict[str, Any] | None = None
    url: str | None = None
    headers: dict[str, Any] | None = None
    timeoutSeconds: float | None = Field(None, ge=20, le=600)

    @model_validator(mode="after")
    def _provider_fields(self) -> JudgeModel:
        if (self.provider == "custom-llm") != (self.url is not None):
            raise ValueError("`url` is required with provider custom-llm and applies to no other provider")
        for name, owner in (("thinking", "anthropic"), ("headers", "custom-llm"), ("timeoutSeconds", "custom-llm")):
            if getattr(self, name) is not None and self.provider != owner:
                raise ValueError(f"`{name}` applies only to provider {owner}")
        return self


class Judge(Strict):
    """AssistantMessageJudgePlan{Exact,Regex,AI}."""

    type: Literal["exact", "regex", "ai"]
    content: str | None = Field(None, max_length=1000)
    toolCalls: list[ToolCall] | None = None
    model: JudgeModel | None = None
    autoIncludeMessageHistory: bool | None = None

    @model_validator(mode="after")
    def _fields_of_type(self) -> Judge:
        if self.type == "ai":
            if self.model is None:
                raise ValueError("an ai judge needs `model` ({provider, model, messages}); its prompt must answer pass or fail")
            if self.content is not None or self.toolCalls is not None:
                raise ValueError("an ai judge takes `model`, not `content` or `toolCalls`")
        else:
            if self.content is None:
                raise ValueError(
                    f"{a(self.type)} judge needs `content` (the expected text{' or pattern' if self.type == 'regex' else ''})"
                )
            if self.model is not None or self.autoIncludeMessageHistory is not None:
                raise ValueError(f"{a(self.type)} judge takes `content` and `toolCalls`, not `model`")
        return self


class ContinuePlan(Strict):
    exitOnFailureEnabled: bool | None = None
    contentOverride: str | None = Field(None, max_length=1000)
    toolCallsOverride: list[ToolCall] | None = None


class Message(Strict):
    """A mock turn ({role, content}) or a checkpoint ({role: assistant, judgePlan, continuePlan?})."""

    role: Literal["user", "assistant", "system", "tool"]
    content: str | None = None
    toolCalls: list[ToolCall] | None = None
    judgePlan: Judge | None = None
    continuePlan: ContinuePlan | None = None

    @model_validator(mode="after")
    def _mock_or_checkpoint(self) -> Message:
        if self.judgePlan is not None:
            if self.content is not None or self.toolCalls is not None:
                raise ValueError(
                    "a checkpoint (judgePlan) has no `content` or `toolCalls`: the judge reads the assistant's own reply"
                )
            if self.role not in ("assistant", "tool"):
                raise ValueError("only assistant (or tool) messages can carry a judgePlan")
            if self.role == "tool" and (self.judgePlan.type != "ai" or self.continuePlan is not None):
                raise ValueError("a tool checkpoint takes an ai judgePlan only")
            return self
        if self.continuePlan is not None:
            raise ValueError("continuePlan belongs to a checkpoint (an assistant message with judgePlan)")
        if self.toolCalls is not None and self.role != "assistant":
            raise ValueError("only assistant mock messages carry toolCalls")
        if self.content is None and self.role != "assistant":
            raise ValueError(f"a {self.role} message needs `content`")
        if self.content is not None and self.role in ("user", "assistant") and len(self.content) > 1000:
            raise ValueError("content must be at most 1000 characters")
        return self


MESSAGES_HINT = (
    "The mock conversation in order: turns {role:user|assistant|system|tool, content} and checkpoints "
    "{role:'assistant', judgePlan:{type:'exact'|'regex', content} | {type:'ai', model:{provider,model,messages}}, "
    "continuePlan?:{exitOnFailureEnabled}}"
)
Messages = Annotated[list[Message], shown_as(MESSAGES_HINT, "array")]


class EvalFields(Args):
    name: str | None = Field(None, min_length=1, max_length=80)
    description: str | None = Field(None, max_length=500)
    type: SkipJsonSchema[Literal["chat.mockConversation"] | None] = None
    """Create/UpdateEvalDTO's constant: accepted as the document's bodies carry it; not listed (it has one value)."""


class CreateEvalArgs(EvalFields):
    messages: Messages = Field(min_length=1)

    def body(self, *, exclude: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
        return {**super().body(exclude=exclude), "type": EVAL_TYPE}


class UpdateEvalArgs(EvalFields):
    model_config = ConfigDict(json_schema_extra=listed_only("id"))

    id: VapiId
    messages: Messages | None = None

    local_fields = frozenset({"id"})


class TargetFields(Strict):
    """An assistant or a squad, saved (id) or inline; `type` follows from the fields given."""

    type: Literal["assistant", "squad"]
    assistantId: VapiId | None = None
    assistant: TransientAssistant | None = None
    squadId: VapiId | None = None
    squad: TransientSquad | None = None

    @model_validator(mode="before")
    @classmethod
    def _infer_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and "type" not in data:
            return {**data, "type": "squad" if {"squadId", "squad"} & set(data) else "assistant"}
        return data

    @model_validator(mode="after")
    def _one(self) -> TargetFields:
        own, other = (("assistantId", "assistant"), ("squadId", "squad"))[:: 1 if self.type == "assistant" else -1]
        if sum(getattr(self, name) is not None for name in own) != 1:
            raise ValueError(f"{a(self.type)} target needs exactly one of {own[0]} or {own[1]}")
        if any(getattr(self, name) is not None for name in other):
            raise ValueError(f"{a(self.type)} target takes no {' or '.join(other)}")
        return self

    def described(self, name: str | None = None) -> str:
        """'assistant "Riley" (id)', 'assistant id', or 'a transient squad "Front desk"': names quoted as names."""
        inline = self.assistant if self.type == "assistant" else self.squad
        if inline is not None:
            return f"a transient {self.type} {quoted(inline.get('name') or '(unnamed)')}"
        ident = self.assistantId or self.squadId
        return f"{self.type} {quoted(name)} ({ident})" if name else f"{self.type} {ident}"

    async def named(self, call: CallContext) -> str:
        """`described`, with a saved target's name as Vapi has it; an id that does not exist is refused (`unknown_id`)."""
        ident = self.assistantId or self.squadId
        if ident is None:
            return self.described()
        found = await lookup(call, f"/{self.type}/{ident}", f"target.{self.type}Id", ident, self.type, f"list_{self.type}s")
        return self.described(found.get("name"))


class Target(TargetFields):
    """EvalRunTarget{Assistant,Squad}."""

    assistantOverrides: AssistantOverrides | None = None


TargetArg = Annotated[Target, shown_as("{assistantId} | {assistant} | {squadId} | {squad}, assistantOverrides?")]


class InlineEval(Strict):
    messages: list[Message] = Field(min_length=1)
    name: str | None = Field(None, min_length=1, max_length=80)
    description: str | None = Field(None, max_length=500)
    type: Literal["chat.mockConversation"] = EVAL_TYPE


class RunEvalArgs(Guarded):
    # Guarded: an inline target (assistant, squad, assistantOverrides) can carry transfer and SMS destinations.
    model_config = ConfigDict(json_schema_extra=listed_only("evalId", "eval", "target", "wait"))

    type: SkipJsonSchema[Literal["eval"] | None] = None
    """CreateEvalRunDTO's constant (sent either way): accepted as the document's bodies carry it; not listed."""
    evalId: VapiId | None = None
    eval: Annotated[InlineEval, shown_as("{messages, name?} as create_eval, not saved")] | None = None
    target: TargetArg
    wait: float = WAIT

    local_fields = frozenset({"confirmToken", "wait"})

    @model_validator(mode="after")
    def _one_eval(self) -> RunEvalArgs:
        if (self.evalId is None) == (self.eval is None):
            raise ValueError("give either evalId (a saved eval) or eval (messages to run without saving)")
        return self


class GetRunArgs(IdArgs):
    wait: float = Field(0, ge=0, le=600, description="Seconds to wait for the end, with progress.")

    local_fields = frozenset({"wait"})


def checkpoints_of(messages: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(1-based position in `messages`, message) of every checkpoint."""
    return [(i, m) for i, m in enumerate(messages, 1) if m.get("judgePlan")]


def eval_row(item: dict[str, Any]) -> dict[str, Any]:
    """One compact line per eval for list results: id, name, how many checkpoints."""
    return non_null(
        {
            "id": item.get("id"),
            "name": item.get("name"),
            "checkpoints": len(checkpoints_of(item.get("messages") or [])),
            "createdAt": item.get("createdAt"),
        }
    )


def _expected(plan: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint expected, in a line or two."""
    if plan.get("type") == "ai":
        prompt = " ".join(
            str(m.get("content"))
            for m in (plan.get("model") or {}).get("messages") or []
            if isinstance(m, dict) and m.get("content")
        )
        return {"expected": prompt[:300] + ("..." if len(prompt) > 300 else "")}
    out: dict[str, Any] = {"expected": plan.get("content")}
    if plan.get("toolCalls"):
        out["expectedToolCalls"] = plan["toolCalls"]
    return out


def _result_view(result: dict[str, Any], checkpoints: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """One EvalRunResult: pass/fail per checkpoint, and the facts of each failure."""
    played = result.get("messages") or []
    judged = []
    for i, message in enumerate(played):
        if isinstance(message.get("judge"), dict):
            heard = next((m.get("content") for m in reversed(played[:i]) if m.get("role") == "user"), None)
            judged.append((message, heard))
    rows = []
    for n, (message, heard) in enumerate(judged):
        turn, definition = checkpoints[n] if n < len(checkpoints) else (None, {})
        verdict = message["judge"]
        row: dict[str, Any] = {"turn": turn, "status": verdict.get("status")}
        if verdict.get("status") != "pass":
            plan = definition.get("judgePlan") or {}
            row.update(judge=plan.get("type"), **_expected(plan), actual=message.get("content"))
            if message.get("toolCalls"):
                row["actualToolCalls"] = message["toolCalls"]
            row.update(reason=verdict.get("failureReason"), after=heard)
        rows.append(non_null(row))
    rows += [{"turn": turn, "status": "not reached"} for turn, _ in checkpoints[len(judged) :]]
    statuses = [r["status"] for r in rows]
    return {
        "result": result.get("status"),
        "passed": statuses.count("pass"),
        "failed": statuses.count("fail"),
        "checkpoints": rows,
    }


def run_view(run: dict[str, Any], definition: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The EvalRun an agent reads: status, then per checkpoint pass/fail with the facts of failures; cost once."""
    view: dict[str, Any] = {"id": run.get("id"), "status": run.get("status"), "evalId": run.get("evalId")}
    if run.get("status") != "ended":
        view["resume"] = f"Not finished yet. Read it later with get_eval_run id={run.get('id')} wait=120."
        return non_null(view)
    view["endedReason"] = run.get("endedReason")
    if run.get("endedReason") != "mockConversation.done":
        view["endedMessage"] = (
            run.get("endedMessage") or "The run did not finish its conversation; check the target's configuration."
        )
    raw = run.get("results") or []
    checkpoints = checkpoints_of(definition or []) if len(raw) == 1 else []  # a suite run's results belong to several evals
    results = [_result_view(r, checkpoints) for r in raw]
    if len(results) == 1:
        view.update(results[0])
    elif results:
        view["results"] = results
    view["cost"] = run.get("cost")
    return non_null(view)


def started_but_unread(what: str, ident: str, reader: str, exc: VapiError) -> VapiError:
    """A run was created but reading it failed: say so, with its id, so that nobody starts it twice."""
    return VapiError(
        f"The {what} {ident} was started, but reading it failed: {exc.message}",
        status=exc.status,
        vapi_messages=exc.vapi_messages,
        hint=f"Do not start it again: read it later with {reader} id={ident}.",
    )


async def _definition(call: ToolContext, run: dict[str, Any], inline: InlineEval | None) -> list[dict[str, Any]] | None:
    """The eval's messages, for where each checkpoint sits and what it expected."""
    if inline is not None:
        return inline.model_dump(mode="json", exclude_none=True)["messages"]
    if isinstance(run.get("eval"), dict):
        return run["eval"].get("messages")
    if not run.get("evalId"):
        return None
    try:
        return (await call.vapi.get(f"/eval/{vapi_id(run['evalId'], 'evalId')}")).get("messages")  # an id from Vapi's answer
    except VapiMCPError:  # deleted since (or an odd id): the verdicts and the judge's reasons still stand
        return None


async def _finish(call: ToolContext, run_id: str, wait: float, inline: InlineEval | None = None) -> dict[str, Any]:
    """Wait up to `wait` seconds for the run to end, then its compact view."""
    path = f"/eval/run/{run_id}"
    run, ended = await poll(
        call, lambda: call.vapi.get(path), lambda r: r.get("status") == "ended", lambda r: f"eval run: {r.get('status')}", wait
    )
    return run_view(run, await _definition(call, run, inline) if ended else None)


@tools.tool(title="Create eval", read_only=False, sends=("POST /eval",))
async def create_eval(args: CreateEvalArgs, call: ToolContext) -> dict[str, Any]:
    """Save an eval: a mock conversation whose checkpoints (assistant turns with a judgePlan: exact,
    regex or ai) judge what the assistant says at that point. Run it with run_eval."""
    created = await call.send("POST", "/eval", args.body(), args=args, summary="Create an eval.", check="list_evals shows whether it was created.")
    return eval_row(created)


@tools.tool(title="List evals", read_only=True, sends=("GET /eval",))
async def list_evals(args: ListArgs, call: ToolContext) -> dict[str, Any]:
    """List saved evals: id, name, number of checkpoints."""
    items = items_of(await call.vapi.get("/eval", params=args.body()))
    return {"evals": [eval_row(e) for e in items], "count": len(items)}


@tools.tool(title="Get eval", read_only=True, sends=("GET /eval/{id}",))
async def get_eval(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """Get an eval with its messages."""
    return strip_org(await call.vapi.get(f"/eval/{args.id}"))


@tools.tool(title="Update eval", read_only=False, sends=("PATCH /eval/{id}",))
async def update_eval(args: UpdateEvalArgs, call: ToolContext) -> dict[str, Any]:
    """Change an eval: its id plus any create_eval fields (messages replace the whole conversation)."""
    body = args.body()
    if not body:
        raise InputError("id", "give at least one field to change besides the id")
    updated = await call.send("PATCH", f"/eval/{args.id}", body, args=args, summary=f"Update the eval {args.id}.")
    return {**eval_row(updated), "changed": sorted(body)}


@tools.tool(title="Delete eval", read_only=False, sends=("GET /eval/{id}", "DELETE /eval/{id}"))
async def delete_eval(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete a saved eval (asks the user to confirm)."""
    path = f"/eval/{args.id}"
    row = eval_row(await call.vapi.get(path))
    summary = f"Delete the eval {quoted(row.get('name') or '(unnamed)')} ({args.id}) with its {plural(row['checkpoints'], 'checkpoint')}."
    await delete_confirmed(call, args, path, summary)
    return {"deleted": row}


@tools.tool(
    title="Run eval",
    read_only=False,
    sends=("POST /eval/run", "GET /eval/run/{id}", "GET /eval/{id}", "GET /assistant/{id}", "GET /squad/{id}"),
)
async def run_eval(args: RunEvalArgs, call: ToolContext) -> dict[str, Any]:
    """Run an eval (evalId, or inline eval) against an assistant or squad (saved or inline) and wait for
    the result: pass/fail per checkpoint (turn = position in messages); failures show expected, actual
    and the judge's reason."""
    body = {"type": "eval", **args.body()}
    what = f"the eval {args.evalId}" if args.evalId else f"an inline eval of {plural(len(checkpoints_of(body['eval']['messages'])), 'checkpoint')}"

    async def describe(ctx: CallContext) -> str:
        named = what
        if args.evalId:
            saved = await lookup(ctx, f"/eval/{args.evalId}", "evalId", args.evalId, "eval", "list_evals")
            named = f"the eval {quoted(saved.get('name') or '(unnamed)')} ({args.evalId})"
        return f"Run {named} against {await args.target.named(ctx)}."

    created = await call.send(
        "POST",
        "/eval/run",
        body,
        args=args,
        summary=f"Run {what} against {args.target.described()}.",
        describe=describe,
        check="The run may have started: check the Vapi dashboard's eval runs before running it again.",
    )
    run_id = (created or {}).get("id") or (created or {}).get("evalRunId")
    if not run_id:
        raise VapiError(
            "Vapi accepted the eval run but its answer names no run id.", hint="Find the run in the Vapi dashboard (Evals)."
        )
    try:
        return await _finish(call, run_id, args.wait, args.eval)
    except VapiError as exc:
        raise started_but_unread("eval run", run_id, "get_eval_run", exc) from None


@tools.tool(title="Get eval run", read_only=True, sends=("GET /eval/run/{id}", "GET /eval/{id}"))
async def get_eval_run(args: GetRunArgs, call: ToolContext) -> dict[str, Any]:
    """An eval run's result as run_eval shows it; `wait` waits for a running one to end."""
    return await _finish(call, args.id, args.wait)
