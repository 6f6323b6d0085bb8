"""Every JSON body of Vapi's two guides (create call, phone-number setup) is a valid tool argument.

The guides are read where they lie (../shared/seeds beside the checkout, or $VAPI_SEEDS_DIR),
never copied into the repository. Each body is sent as it stands, with its placeholder ids
swapped for real sandbox ids, to the tool the guide sends it to; it must be accepted (a
result, or a confirmation preview) or refused by a named guard rule (`e164` for the guide's
+11234567890-style numbers, `schedule` for its past dates), never by argument
validation. With valid numbers too, every accepted body goes through once confirmed.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.guard_kit import with_policy
from tests.mcp_kit import confirmed, result_json, result_text
from tests.openapi import OPENAPI_PATH, assert_valid, document, example_body
from vapi_mcp.config import Settings
from vapi_mcp.sandbox.core import stamp

SEEDS = Path(os.environ.get("VAPI_SEEDS_DIR") or OPENAPI_PATH.parent / "seeds")
GUIDES = {"create-call": "000_*.txt", "phone-number-setup": "001_*.txt"}
VALID_NUMBERS = ["+14155550123", "+12125550123", "+13125550123", "+16175550123", "+12065550123"]
PLACEHOLDER_ID = re.compile(r"^(?:your-)?([a-z]+(?:-[a-z]+)*)-id$")
E164_LIKE = re.compile(r"^\+\d{8,15}$")


@dataclass
class DocBody:
    guide: str
    method: str | None
    """From the guide's curl command; None for a bare `json` block."""
    path: str | None
    body: dict[str, Any]

    @property
    def name(self) -> str:
        where = f"{self.method} {self.path}" if self.method else "json"
        return f"{self.guide}: {where} {json.dumps(self.body)}"


def guide_text(guide: str) -> str:
    matches = sorted(SEEDS.glob(GUIDES[guide])) if SEEDS.is_dir() else []
    if not matches:
        pytest.skip(f"Vapi's {guide} guide is not in {SEEDS} (set VAPI_SEEDS_DIR)")
    return matches[0].read_text()


def extract(guide: str) -> list[DocBody]:
    """Every JSON body in the guide: curl `-d '...'` payloads and bare `json` blocks, each once
    (the English and the translation repeat them)."""
    text = guide_text(guide)
    decoder = json.JSONDecoder()
    found: list[DocBody] = []
    for match in re.finditer(r"-d '", text):
        body, _ = decoder.raw_decode(text, match.end())
        method, path = re.findall(r"curl -X (\w+) https://api\.vapi\.ai(\S*)", text[: match.start()])[-1]
        found.append(DocBody(guide, method, path, body))
    for match in re.finditer(r"(?m)^json\n", text):
        body, _ = decoder.raw_decode(text, match.end())
        found.append(DocBody(guide, None, None, body))
    unique: list[DocBody] = []
    for item in found:
        if item not in unique:
            unique.append(item)
    return unique


def is_vapi_object(body: dict[str, Any]) -> bool:
    """A response shown in the guide (it has Vapi's own `id` and `orgId`), not a request body."""
    return {"id", "orgId"} <= body.keys()


def tool_for(doc: DocBody) -> str:
    """The tool the guide's request goes to."""
    if doc.guide == "create-call":
        assert doc.method in (None, "POST") and doc.path in (None, "/call"), doc.name
        return "create_call"
    if doc.method == "POST" and doc.path == "/phone-number":
        return "buy_number" if doc.body.get("provider") == "vapi" else "import_number"
    assert doc.method in (None, "PATCH") and doc.path in (None, "/phone-number/{id}"), doc.name
    if set(doc.body) <= {"assistantId", "squadId", "workflowId"}:
        return "assign_assistant"
    return "update_phone_number"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The guides' bodies dial the same few numbers again and again: the per-number cap (tests/test_caps.py) is not
    what this module checks."""
    return with_policy(settings, per_number_cap=1000)


@pytest.fixture
def ids(sandbox, clock) -> dict[str, str]:
    """Real sandbox objects for the guides' placeholder ids."""
    assistant = stamp(clock, name="Riley", firstMessage="Hi, this is Riley.")
    squad = stamp(clock, name="Front desk", members=[{"assistantId": assistant["id"]}])
    number = stamp(clock, provider="twilio", number="+14155550100", status="active", name="Main line")  # an imported number: free ones take inbound calls only
    sandbox.store.assistants[assistant["id"]] = assistant
    sandbox.store.squads[squad["id"]] = squad
    sandbox.store.phone_numbers[number["id"]] = number
    return {"assistant": assistant["id"], "squad": squad["id"], "phone-number": number["id"]}


def substitute(value: Any, ids: dict[str, str], numbers: list[str] | None) -> Any:
    """The body with placeholder ids made real (a credential id becomes a fresh UUID) and, with
    `numbers`, each phone number replaced by the next valid fictional one."""
    if isinstance(value, dict):
        return {k: substitute(v, ids, numbers) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, ids, numbers) for v in value]
    if isinstance(value, str):
        placeholder = PLACEHOLDER_ID.match(value)
        if placeholder:
            kind = placeholder.group(1)
            return ids.get(kind) or ids.setdefault(kind, str(uuid.uuid4()))
        if numbers is not None and E164_LIKE.match(value):
            return numbers.pop(0)
    return value


def arguments_for(doc: DocBody, tool: str, ids: dict[str, str], numbers: list[str] | None) -> dict[str, Any]:
    arguments = substitute(doc.body, ids, numbers)
    if tool in ("update_phone_number", "assign_assistant"):
        arguments = {"id": ids["phone-number"], **arguments}
    return arguments


def request_bodies() -> list[DocBody]:
    bodies = [doc for guide in GUIDES for doc in extract(guide)]
    return [doc for doc in bodies if not is_vapi_object(doc.body)]


def test_every_body_of_both_guides_is_found() -> None:
    """Eight bodies in each guide; only the create-call guide's call response is not a request."""
    create, setup = extract("create-call"), extract("phone-number-setup")
    assert len(create) == 8 and len(setup) == 8
    assert [doc.body["status"] for doc in create + setup if is_vapi_object(doc.body)] == ["queued"]
    tools = [tool_for(doc) for doc in create + setup if not is_vapi_object(doc.body)]
    assert sorted(set(tools)) == ["assign_assistant", "buy_number", "create_call", "import_number", "update_phone_number"]


REFUSAL = re.compile(r"^Refused by rule `(\w+)`")


async def test_each_guide_body_as_it_stands_is_accepted_or_refused_by_a_named_rule(client, sandbox, ids) -> None:
    outcomes: dict[str, str] = {}
    for doc in request_bodies():
        tool = tool_for(doc)
        before = len(sandbox.requests)
        result = await client.call_tool(tool, arguments_for(doc, tool, ids, numbers=None))
        text = result_text(result)
        if result.is_error:
            refused = REFUSAL.match(text)
            assert refused, f"{doc.name} -> {tool} was refused by no guard rule: {text}"
            outcomes[doc.name] = refused.group(1)
            sent = [r for r in sandbox.requests[before:] if r.method != "GET"]
            assert sent == [], f"{doc.name}: a refused body sent {sent}"
        else:
            view = result_json(result)
            outcomes[doc.name] = "preview" if view.get("confirmationRequired") else "done"
    print(json.dumps(outcomes, indent=1))
    refusals = {rule for rule in outcomes.values() if rule not in ("preview", "done")}
    assert refusals <= {"e164", "schedule"}, outcomes
    assert "e164" in refusals  # the guides' +11234567890 placeholders are not real numbers


async def test_each_guide_body_with_real_ids_and_numbers_goes_through(client, sandbox, ids) -> None:
    """With valid numbers, every body is accepted; confirmed, Vapi (the sandbox, validating as the
    OpenAPI document says) takes the request. Only the guide's past schedule is refused, by rule."""
    refused = {}
    for doc in request_bodies():
        tool = tool_for(doc)
        numbers = list(VALID_NUMBERS)
        arguments = arguments_for(doc, tool, ids, numbers)
        seen: list[str] = []
        result = await confirmed(client, tool, arguments, seen=seen)
        if result.is_error:
            rule = REFUSAL.match(result_text(result))
            assert rule, f"{doc.name} -> {tool}: {result_text(result)}"
            refused[doc.name] = rule.group(1)
            continue
        view = result_json(result)
        assert "confirmationRequired" not in view, f"{doc.name}: {view}"
    assert list(refused.values()) == ["schedule"], refused  # the guide's 2025-06-15 window is over
    assert "schedulePlan" in next(iter(refused))
    sent = [r for r in sandbox.requests if r.method in ("POST", "PATCH")]
    assert len(sent) == len(request_bodies()) - 1  # one request for each body but the refused one
    for request in sent:
        # `null` clears a field (assign_assistant moving a number from an assistant to a squad):
        # class-validator's @IsOptional lets it through at Vapi, though the document types it as a string.
        body = {k: v for k, v in request.body.items() if v is not None}
        assert_valid(DTO.get(request.path) or DTO[body.get("provider", "update")], body)


DTO = {
    "/call": "CreateCallDTO",
    "/call/web": "CreateWebCallDTO",
    "vapi": "CreateVapiPhoneNumberDTO",
    "twilio": "CreateTwilioPhoneNumberDTO",
    "vonage": "CreateVonagePhoneNumberDTO",
    "telnyx": "CreateTelnyxPhoneNumberDTO",
    "update": "UpdateTwilioPhoneNumberDTO",
}
"""The OpenAPI schema each request the guides' bodies became must satisfy (strictly: no unknown field)."""


# Every tool, with a body built from its DTO's required fields, constants and examples


def dtos_of(method: str, template: str) -> list[str]:
    """The request-body schemas Vapi's document gives a route (each branch of a oneOf)."""
    operation = document()["paths"].get(template, {}).get(method.lower()) or {}
    body = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
    if not body:
        return []
    return [ref["$ref"].rsplit("/", 1)[1] for ref in body.get("oneOf") or [body] if "$ref" in ref]


NOT_THIS_TOOLS = {"buy_number": lambda dto: dto != "CreateVapiPhoneNumberDTO", "import_number": lambda dto: dto == "CreateVapiPhoneNumberDTO"}
"""POST /phone-number's branches: buying is the vapi branch; importing, the others."""
PATH_ID = {"attach_file": "knowledgeBaseId"}
"""Tools whose route's `{id}` is an argument of another name."""
COMPOSED = {"connect_knowledge_base"}
"""Tools that compose their body from ids (an assistant's toolIds from a knowledge base's tool), taking no DTO."""
NAMED_FIELD = re.compile(r"`([\w.:]+)`")


async def test_every_tool_takes_its_dtos_discriminators_and_constants(client, sandbox, ids) -> None:
    """Before (issue 18): create_eval and run_eval refused `type` ("chat.mockConversation", "eval"), which their DTOs
    require, and update_phone_number the `provider` each Update*PhoneNumberDTO names. Now every body built from a
    tool's DTO (its required fields and constants, with the document's examples) gets past argument checking with
    no field refused as unknown and no constant refused; what it misses that the tool needs is named as such."""
    from vapi_mcp.toolsets import catalogue

    ids = {**ids, "any": ids["assistant"]}
    wrong, tried = [], 0
    for _, spec in catalogue():
        for route in spec.sends:
            if route.method not in ("POST", "PATCH") or spec.name in COMPOSED:
                continue
            for dto in dtos_of(route.method, route.template):
                if NOT_THIS_TOOLS.get(spec.name, lambda _: False)(dto):
                    continue
                constants: list[str] = []
                body = example_body(dto, ids, constants)
                if "{id}" in route.template:
                    body = {PATH_ID.get(spec.name, "id"): ids["phone-number"] if "phone-number" in route.template else ids["assistant"], **body}
                text = result_text(await client.call_tool(spec.name, body))
                tried += 1
                named = set(NAMED_FIELD.findall(text))
                if "not an argument of this tool" in text or "not a field" in text or named & set(constants):
                    wrong.append(f"{spec.name} ({dto}) {json.dumps(body)[:120]}: {text}")
    assert tried > 80, tried
    assert not wrong, "\n".join(wrong)


async def test_the_documents_own_eval_bodies_are_sent_as_vapi_takes_them(client, sandbox, ids) -> None:
    messages = [{"role": "user", "content": "Hello, how are you?"}, {"role": "assistant", "judgePlan": {"type": "exact", "content": "I am good, thank you!"}}]
    created = await client.call_tool("create_eval", {"type": "chat.mockConversation", "messages": messages})
    assert not created.is_error, result_text(created)
    assert_valid("CreateEvalDTO", sandbox.requests_to("POST", "/eval")[-1].body)
    run = await client.call_tool("run_eval", {"type": "eval", "evalId": result_json(created)["id"], "target": {"type": "assistant", "assistantId": ids["assistant"]}, "wait": 0})
    assert not run.is_error, result_text(run)
    assert_valid("CreateEvalRunDTO", sandbox.requests_to("POST", "/eval/run")[-1].body)


async def test_a_provider_other_than_the_numbers_own_is_refused(client, sandbox, ids) -> None:
    refused = await client.call_tool("update_phone_number", {"id": ids["phone-number"], "provider": "vapi", "name": "Main"})
    assert refused.is_error and "`provider`" in result_text(refused) and "is twilio for this number" in result_text(refused)
    assert sandbox.requests_to("PATCH", f"/phone-number/{ids['phone-number']}") == []
    taken = await client.call_tool("update_phone_number", {"id": ids["phone-number"], "provider": "twilio", "name": "Main"})
    assert not taken.is_error and sandbox.requests_to("PATCH", f"/phone-number/{ids['phone-number']}")[-1].body == {"name": "Main"}
