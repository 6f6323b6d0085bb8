"""/eval and /eval/run: mock conversations with judges, run against the sandbox assistant.

A run plays the eval's messages in order, once, when it is created (on the sandbox clock of
that moment). At each checkpoint (an assistant message with a `judgePlan`) the target assistant
(its `assistantOverrides` applied) answers by the conversation engine's rules, as on /chat: the
user's last line after the mock turns before it (mock `system` messages are read as more
prompt), or its opening when no user line came since it last spoke. The judge rules on that
answer (judging.py): `exact` and `regex` for real, `ai` by written rules. `continuePlan.contentOverride`
replaces the answer for later turns; `exitOnFailureEnabled` stops at a failed checkpoint. A run
is `queued` for QUEUED seconds, then `running` for TURN seconds per checkpoint, then `ended`
with its results; a response with results says once that the replies are drawn by rule
(conversation.NOTE_HEADER).

The document does not declare how a checkpoint's verdict is reported; the sandbox follows Vapi's
evals guide: the assistant message in `results[].messages` carries `judge: {status, failureReason}`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import knowledge
from .assistants import ASSISTANT, ASSISTANT_OVERRIDES, SQUAD
from .clock import iso
from .conversation import Agent, note_headers, with_overrides
from .core import ApiError, body_of, find, paged, query_of, sandbox_of, stamp
from .judging import judge
from .phone_numbers import Nested
from .providers import ANTHROPIC_MODELS, ANTHROPIC_THINKING_CONFIG, GEMINI_MODELS, WORKFLOW_OPENAI_MODELS
from .resource import Resource
from .structured_outputs import LIST_QUERY as _OUTPUTS_QUERY
from .validation import OPEN, Arr, Bool, Num, Obj, Rule, Str, Tagged

if TYPE_CHECKING:
    from . import Sandbox

TOOL_CALL = Obj({"name": Str(max_len=100), "arguments": OPEN}, required=("name",))


def _judge_model(provider: str, models: tuple[str, ...] | None, **extra: Rule) -> Obj:
    fields: dict[str, Rule] = {
        "provider": Str(enum=(provider,)),
        **extra,
        "model": Str(enum=models) if models is not None else Str(max_len=100),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "messages": Arr(OPEN),
    }
    required = ("provider", "url", "model", "messages") if "url" in extra else ("provider", "model", "messages")
    return Obj(fields, required=required)


JUDGE_MODEL = Tagged(
    "provider",
    {
        "openai": _judge_model("openai", WORKFLOW_OPENAI_MODELS),
        "anthropic": _judge_model("anthropic", ANTHROPIC_MODELS, thinking=ANTHROPIC_THINKING_CONFIG),
        "google": _judge_model("google", GEMINI_MODELS),
        "custom-llm": _judge_model("custom-llm", None, url=Str(), headers=OPEN, timeoutSeconds=Num(minimum=20, maximum=600)),
    },
)
"""Eval{OpenAI,Anthropic,Google,Custom}Model: the judge's model, with the document's model names."""


def _fixed_judge(kind: str) -> Obj:
    return Obj(
        {"type": Str(enum=(kind,)), "content": Str(max_len=1000), "toolCalls": Arr(TOOL_CALL)}, required=("type", "content")
    )


JUDGE_AI = Obj({"model": JUDGE_MODEL, "type": Str(enum=("ai",)), "autoIncludeMessageHistory": Bool()}, required=("model", "type"))
JUDGE = Tagged("type", {"exact": _fixed_judge("exact"), "regex": _fixed_judge("regex"), "ai": JUDGE_AI})
CONTINUE_PLAN = Obj({"exitOnFailureEnabled": Bool(), "contentOverride": Str(max_len=1000), "toolCallsOverride": Arr(TOOL_CALL)})

ASSISTANT_MOCK = Obj(
    {"role": Str(enum=("assistant",)), "content": Str(max_len=1000), "toolCalls": Arr(TOOL_CALL)}, required=("role",)
)
SYSTEM_MOCK = Obj({"role": Str(enum=("system",)), "content": Str()}, required=("role", "content"))
TOOL_MOCK = Obj({"role": Str(enum=("tool",)), "content": Str()}, required=("role", "content"))
USER_MOCK = Obj({"role": Str(enum=("user",)), "content": Str(max_len=1000)}, required=("role", "content"))
ASSISTANT_CHECK = Obj(
    {"role": Str(enum=("assistant",)), "judgePlan": JUDGE, "continuePlan": CONTINUE_PLAN}, required=("role", "judgePlan")
)
TOOL_CHECK = Obj({"role": Str(enum=("tool",)), "judgePlan": JUDGE_AI}, required=("role", "judgePlan"))
ROLES = ("assistant", "system", "tool", "user")


class EvalMessage(Rule):
    """CreateEvalDTO.messages' union: the role, and whether a `judgePlan` makes it a checkpoint."""

    documented: dict[str, Obj] = {
        "ChatEvalAssistantMessageMock": ASSISTANT_MOCK,
        "ChatEvalSystemMessageMock": SYSTEM_MOCK,
        "ChatEvalToolResponseMessageMock": TOOL_MOCK,
        "ChatEvalUserMessageMock": USER_MOCK,
        "ChatEvalAssistantMessageEvaluation": ASSISTANT_CHECK,
        "ChatEvalToolResponseMessageEvaluation": TOOL_CHECK,
    }
    """The document's branches of the union, by schema name (the tests compare each)."""

    def check(self, value: Any, name: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"nested property {name} must be either object or array"]
        role = value["role"] if isinstance(value.get("role"), str) else ""  # a list or an object names no role (and hashes to nothing)
        checkpoint = "judgePlan" in value
        branch = {
            ("assistant", False): ASSISTANT_MOCK,
            ("assistant", True): ASSISTANT_CHECK,
            ("system", False): SYSTEM_MOCK,
            ("tool", False): TOOL_MOCK,
            ("tool", True): TOOL_CHECK,
            ("user", False): USER_MOCK,
        }.get((str(role), checkpoint))
        if branch is None:
            if role in ROLES:
                return [f"{name}.property judgePlan should not exist"]
            return [f"{name}.role must be one of the following values: {', '.join(ROLES)}"]
        return branch.check(value, name)


_EVAL_FIELDS: dict[str, Rule] = {
    "messages": Nested(EvalMessage()),
    "name": Str(min_len=1, max_len=80),
    "description": Str(max_len=500),
    "type": Str(enum=("chat.mockConversation",)),
}
CREATE_EVAL = Obj(_EVAL_FIELDS, required=("messages", "type"))
UPDATE_EVAL = Obj(_EVAL_FIELDS)
TARGET = Tagged(
    "type",
    {
        "assistant": Obj(
            {"assistant": ASSISTANT, "assistantOverrides": ASSISTANT_OVERRIDES, "type": Str(enum=("assistant",)), "assistantId": Str()},
            required=("type",),
        ),
        "squad": Obj(
            {"squad": SQUAD, "assistantOverrides": ASSISTANT_OVERRIDES, "type": Str(enum=("squad",)), "squadId": Str()}, required=("type",)
        ),
    },
)
CREATE_RUN = Obj(
    {"eval": CREATE_EVAL, "target": TARGET, "type": Str(enum=("eval",)), "evalId": Str()}, required=("target", "type")
)

DTOS: dict[str, Rule] = {
    "CreateEvalDTO": CREATE_EVAL,
    "UpdateEvalDTO": UPDATE_EVAL,
    "CreateEvalRunDTO": CREATE_RUN,
    "EvalRunTargetAssistant": TARGET.branches["assistant"],
    "EvalRunTargetSquad": TARGET.branches["squad"],
    "ChatEvalAssistantMessageMock": ASSISTANT_MOCK,
    "ChatEvalSystemMessageMock": SYSTEM_MOCK,
    "ChatEvalToolResponseMessageMock": TOOL_MOCK,
    "ChatEvalUserMessageMock": USER_MOCK,
    "ChatEvalAssistantMessageEvaluation": ASSISTANT_CHECK,
    "ChatEvalToolResponseMessageEvaluation": TOOL_CHECK,
    "ChatEvalAssistantMessageMockToolCall": TOOL_CALL,
    "AssistantMessageJudgePlanExact": JUDGE.branches["exact"],
    "AssistantMessageJudgePlanRegex": JUDGE.branches["regex"],
    "AssistantMessageJudgePlanAI": JUDGE_AI,
    "AssistantMessageEvaluationContinuePlan": CONTINUE_PLAN,
    "EvalOpenAIModel": JUDGE_MODEL.branches["openai"],
    "EvalAnthropicModel": JUDGE_MODEL.branches["anthropic"],
    "EvalGoogleModel": JUDGE_MODEL.branches["google"],
    "EvalCustomModel": JUDGE_MODEL.branches["custom-llm"],
}
"""Every rule of this module by the OpenAPI schema it mirrors (for the tests)."""

LIST_QUERY: dict[str, Rule] = {k: v for k, v in _OUTPUTS_QUERY.items() if k != "name"}
"""GET /eval and GET /eval/run: id, page, sort and the createdAt/updatedAt bounds."""

QUEUED, TURN = 1.0, 1.0
"""Seconds an eval run waits, and spends on each checkpoint."""
COST_PER_REPLY = 0.0004


def play(messages: list[dict[str, Any]], agent: Agent) -> tuple[dict[str, Any], int]:
    """An EvalRunResult (without times) for the mock conversation against `agent`, and its number of replies."""
    history: list[dict[str, Any]] = []
    played: list[dict[str, Any]] = []
    passed = True
    replies = 0
    for message in messages:
        role = message["role"]
        if "judgePlan" not in message:
            played.append({k: v for k, v in message.items() if k in ("role", "content", "toolCalls")})
            history.append({"role": role, "content": message.get("content") or ""})
            continue
        reason: str | None
        if role == "tool":
            no_tools = "The sandbox assistant calls no tools, so there is no tool response to judge."
            played.append({"role": "tool", "content": "", "judge": {"status": "fail", "failureReason": no_tools}})
            passed = False
            continue
        reply = _reply(agent, history)
        replies += 1
        ok, reason = judge(message["judgePlan"], reply, history=history)
        verdict = {"status": "pass"} if ok else {"status": "fail", "failureReason": reason}
        played.append({"role": "assistant", "content": reply, "judge": verdict})
        plan = message.get("continuePlan") or {}
        history.append({"role": "assistant", "content": plan.get("contentOverride") or reply})
        if not ok:
            passed = False
            if plan.get("exitOnFailureEnabled"):
                break
    return {"status": "pass" if passed else "fail", "messages": played}, replies


def _reply(agent: Agent, history: list[dict[str, Any]]) -> str:
    """What the assistant says at a checkpoint: its answer to the user's last line, its opening if it has not
    spoken yet and no user line came, or nothing when no user line came since it last spoke."""
    spoken = [i for i, m in enumerate(history) if m["role"] in ("user", "assistant")]
    last = spoken[-1] if spoken else None
    if last is not None and history[last]["role"] == "user":
        return agent.reply([m for i, m in enumerate(history) if i != last], history[last]["content"])
    if last is None:
        return agent.opening() or ""
    return ""


def public(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if not k.startswith("_")}


def live(run: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The run as it stands at `now` on the sandbox clock."""
    start: datetime = run["_start"]
    out = public(run)
    if now < start + timedelta(seconds=QUEUED):
        return {**out, "status": "queued"}
    began = start + timedelta(seconds=QUEUED)
    out["startedAt"] = iso(began)
    end = began + timedelta(seconds=TURN * max(run["_replies"], 1))
    if now < end:
        return {**out, "status": "running"}
    result = {**run["_result"], "startedAt": iso(began), "endedAt": iso(end)}
    cost = round(COST_PER_REPLY * run["_replies"], 6)
    return {
        **out,
        "status": "ended",
        "endedReason": "mockConversation.done",
        "endedAt": iso(end),
        "results": [result],
        "cost": cost,
        "costs": [{"type": "model", "cost": cost}],
    }


def answer(views: list[dict[str, Any]], status_code: int = 200, body: Any = None) -> JSONResponse:
    """The response, saying once that the replies are drawn by rule when one of `views` has results."""
    return JSONResponse(views[0] if body is None else body, status_code=status_code, headers=note_headers(any("results" in v for v in views)))


def target_assistant(sb: Sandbox, target: dict[str, Any]) -> dict[str, Any]:
    """Who answers: the assistant, or a squad's first member (400 for an unknown id); overrides not applied."""
    store = sb.store
    if target["type"] == "assistant":
        if target.get("assistant") is not None:
            return target["assistant"]
        if target.get("assistantId") is None:
            raise ApiError(400, ["Need Either `target.assistantId` Or `target.assistant`."])
        assistant = store.assistants.get(target["assistantId"])
        if assistant is None:
            raise ApiError(400, f"Couldn't Get Assistant. `assistantId` {target['assistantId']} Not Found.")
        return assistant
    squad = target.get("squad")
    if squad is None:
        squad = store.squads.get(target.get("squadId") or "")
        if squad is None:
            raise ApiError(400, f"Couldn't Get Squad. `squadId` {target.get('squadId')} Not Found.")
    first = (squad.get("members") or [{}])[0]
    return first.get("assistant") or store.assistants.get(first.get("assistantId") or "") or {}


EVALS = Resource("/eval", "evals", "Eval", CREATE_EVAL, UPDATE_EVAL, LIST_QUERY, page=True, nulls="set")


async def create_run(request: Request) -> JSONResponse:
    """Play a saved eval (`evalId`) or an inline one against the target; the run moves on the clock."""
    sb = sandbox_of(request)
    body = await body_of(request, CREATE_RUN)
    if (body.get("evalId") is None) == (body.get("eval") is None):
        raise ApiError(400, ["Need Either `evalId` Or `eval`, Not Both."])
    definition = body.get("eval")
    if definition is None:
        definition = sb.store.evals.get(body["evalId"])
        if definition is None:
            raise ApiError(400, f"Couldn't Get Eval. `evalId` {body['evalId']} Not Found.")
    now = sb.now()
    assistant, variables = with_overrides(target_assistant(sb, body["target"]), body["target"].get("assistantOverrides"))
    agent = Agent(assistant, now=now, variables=variables, documents=knowledge.documents_for(sb, assistant), conversation_type="chat")
    result, replies = play(definition["messages"], agent)
    run = stamp(sb, **body, _start=now, _result=result, _replies=replies)
    sb.store.eval_runs[run["id"]] = run
    return answer([live(run, now)], 201)


async def list_runs(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    query = query_of(request, LIST_QUERY)
    now = sb.now()
    runs = [r for r in sb.store.eval_runs.values() if query.get("id") in (None, r["id"])]
    page = paged(runs, query)
    views = [live(r, now) for r in page["results"]]
    return answer(views, body={**page, "results": views})


async def get_run(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    return answer([live(find(sb.store.eval_runs, request, "Eval Run"), sb.now())])


async def delete_run(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    run = find(sb.store.eval_runs, request, "Eval Run")
    del sb.store.eval_runs[run["id"]]
    return answer([live(run, sb.now())])


routes = [
    Route("/eval/run", create_run, methods=["POST"]),
    Route("/eval/run", list_runs, methods=["GET"]),
    Route("/eval/run/{id}", get_run, methods=["GET"]),
    Route("/eval/run/{id}", delete_run, methods=["DELETE"]),
    *EVALS.routes(),
]
BODIES: dict[tuple[str, str], Rule] = {
    ("POST", "/eval"): CREATE_EVAL,
    ("PATCH", "/eval/{id}"): UPDATE_EVAL,
    ("POST", "/eval/run"): CREATE_RUN,
}
"""The request bodies this module validates, by route (the tests compare each with the document)."""
