"""A sandbox assistant answers from the files its tools reach (a knowledge base's search tool, a query tool's
file ids), only once they are processed, and the conversation engine answers a price list the way a caller asks.

Each engine test here failed before its fix (noted in its docstring)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx2 as httpx
import pytest

from tests.knowledge_kit import PRICE_LIST, assistant, put_file
from vapi_mcp.sandbox import ManualClock, Sandbox, knowledge
from vapi_mcp.sandbox.conversation import NO_INFO, Agent

NOW = datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
RILEY = "You are Riley, the receptionist at Sunny Paws grooming. Answer questions about prices from the price list. Be friendly and brief."


@pytest.fixture
def sandbox(either_world: Sandbox) -> Sandbox:
    return either_world


async def base_with(api: httpx.AsyncClient, *files: dict[str, Any]) -> dict[str, Any]:
    made = (await api.post("/v2/knowledge-base", json={"name": "Prices"})).json()
    for file in files:
        assert (await api.post(f"/v2/knowledge-base/{made['id']}/file", json={"fileId": file["id"]})).status_code == 201
    found: dict[str, Any] = (await api.get(f"/v2/knowledge-base/{made['id']}")).json()
    return found


async def ask(api: httpx.AsyncClient, assistant_id: str, question: str) -> str:
    answer = await api.post("/chat", json={"assistantId": assistant_id, "input": question})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["output"][0]["content"])


async def test_an_assistant_answers_from_its_knowledge_bases_ready_files_only(api: httpx.AsyncClient, sandbox: Sandbox, clock: ManualClock) -> None:
    prices = await put_file(sandbox, "prices.txt", PRICE_LIST)
    scan = await put_file(sandbox, "scan.pdf", b"%PDF-1.7 Nail trim: $99")
    base = await base_with(api, prices, scan)
    riley = assistant(sandbox, RILEY, model={"toolIds": [base["toolId"]]})
    assert await ask(api, riley, "How much is a nail trim?") == NO_INFO  # still indexing
    clock.advance(10)
    assert await ask(api, riley, "How much is a nail trim?") == "Nail trim: $15."
    assert knowledge.documents_for(sandbox, sandbox.store.assistants[riley]) == [{"name": "prices.txt", "text": PRICE_LIST}]
    unconnected = assistant(sandbox, RILEY)
    assert await ask(api, unconnected, "How much is a nail trim?") == NO_INFO


async def test_a_query_tools_file_ids_feed_it_too_inline_or_saved(api: httpx.AsyncClient, sandbox: Sandbox, clock: ManualClock) -> None:
    prices = await put_file(sandbox, "prices.txt", PRICE_LIST)
    menu = await put_file(sandbox, "menu.md", "# Treats\n\nPeanut butter biscuit: $3\n")
    query = {"type": "query", "knowledgeBases": [{"name": "prices", "provider": "google", "description": "Prices", "fileIds": [prices["id"], menu["id"]]}]}
    saved = (await api.post("/tool", json=query)).json()
    clock.advance(5)
    inline = assistant(sandbox, RILEY, model={"tools": [query]})
    by_id = assistant(sandbox, RILEY, model={"toolIds": [saved["id"]]})
    for riley in (inline, by_id):
        assert await ask(api, riley, "How much is a bath?") == "Bath and brush: $40."
        assert await ask(api, riley, "How much is a peanut butter biscuit?") == "Peanut butter biscuit: $3."
    both = assistant(sandbox, RILEY, model={"toolIds": [saved["id"]], "tools": [query]})
    assert [d["name"] for d in knowledge.documents_for(sandbox, sandbox.store.assistants[both])] == ["prices.txt", "menu.md"]


async def test_deleting_the_base_or_the_file_takes_the_answers_with_it(api: httpx.AsyncClient, sandbox: Sandbox, clock: ManualClock) -> None:
    prices = await put_file(sandbox, "prices.txt", PRICE_LIST)
    base = await base_with(api, prices)
    riley = assistant(sandbox, RILEY, model={"toolIds": [base["toolId"]]})
    clock.advance(10)
    assert await ask(api, riley, "How much is a nail trim?") == "Nail trim: $15."
    await api.delete(f"/file/{prices['id']}")
    assert await ask(api, riley, "How much is a nail trim?") == NO_INFO
    again = await put_file(sandbox, "prices.txt", PRICE_LIST)
    other = await base_with(api, again)
    clock.advance(10)
    riley_too = assistant(sandbox, RILEY, model={"toolIds": [other["toolId"]]})
    assert await ask(api, riley_too, "How much is a nail trim?") == "Nail trim: $15."
    await api.delete(f"/v2/knowledge-base/{other['id']}")
    assert await ask(api, riley_too, "How much is a nail trim?") == NO_INFO


async def test_a_calls_conversation_answers_from_the_files_too(api: httpx.AsyncClient, sandbox: Sandbox, clock: ManualClock) -> None:
    """A web call's caller (without a script) asks what the assistant can help with: the files' topic answers."""
    prices = await put_file(sandbox, "prices.txt", PRICE_LIST)
    base = await base_with(api, prices)
    clock.advance(10)
    riley = assistant(sandbox, RILEY, model={"toolIds": [base["toolId"]]})
    call = (await api.post("/call/web", json={"assistantId": riley})).json()
    clock.advance(60)
    ended = (await api.get(f"/call/{call['id']}")).json()
    assert ended["status"] == "ended" and "AI: I can help with prices." in ended["artifact"]["transcript"]


def riley(documents: list[dict[str, str]] | None = None, prompt: str = RILEY, **fields: Any) -> Agent:
    config = {"name": "Riley", "model": {"provider": "openai", "model": "gpt-4.1", "messages": [{"role": "system", "content": prompt}]}, **fields}
    return Agent(config, now=NOW, documents=documents if documents is not None else [{"name": "prices.txt", "text": PRICE_LIST}], conversation_type="chat")


def test_a_labelled_lines_price_is_answered_whole_and_one_item_only_when_asked() -> None:
    """Before: "What does a full groom cost?" got "$75 for small dogs." (one item of the line, without its label)."""
    agent = riley()
    assert agent.reply([], "What does a full groom cost?") == "Full groom: $75 for small dogs, $95 for large dogs."
    assert agent.reply([], "How much is a full groom for a large dog?") == "Full groom: $95 for large dogs."


@pytest.mark.parametrize("question", ["Tell me about services and prices", "What services do you offer?", "What are your prices?"])
def test_asking_for_the_services_and_prices_lists_the_whole_price_list(question: str) -> None:
    """Before: "Tell me about services and prices" and "What services do you offer?" got NO_INFO, and "What are your
    prices?" the first three items only (the teeth cleaning was never said)."""
    assert riley().reply([], question) == "Nail trim: $15. Bath and brush: $40. Full groom: $75 for small dogs, $95 for large dogs. Teeth cleaning: $25."


@pytest.mark.parametrize("question", ["What else can you help me with?", "What can you help me with?", "How else can you help?"])
def test_what_else_it_can_help_with_names_its_documents_topics(question: str) -> None:
    """Before: "What else can you help me with?" got NO_INFO, and "What can you help me with?" only the assistant's identity."""
    agent = riley([{"name": "price-list.txt", "text": PRICE_LIST}])
    assert agent.reply([("user", "How much is a nail trim?"), ("assistant", "Nail trim: $15.")], question) == "I can help with price list."


def test_yes_to_an_offer_to_book_starts_the_booking() -> None:
    """Before: "Yes." to "Shall we book your annual checkup?" got "Great. How can I help you today?" (and "No thanks." "You're welcome!")."""
    config = {"firstMessage": "Hi, this is Riley from Smile Dental. Shall we book your annual checkup?"}
    prompt = "You are Riley at Smile Dental. You book appointments. We are open Monday to Friday, 9am to 5pm."
    agent = Agent(
        {"name": "Riley", "model": {"provider": "openai", "model": "gpt-4.1", "messages": [{"role": "system", "content": prompt}]}, **config},
        now=NOW,
        direction="outbound",
    )
    opening = agent.opening()
    assert opening == config["firstMessage"]
    assert agent.reply([("assistant", opening)], "Yes.") == "I can book that for you. How about Tuesday, November 3 at 9:00 AM?"
    assert not agent.reply([("assistant", opening)], "No thanks.").startswith("You're welcome")


def test_prices_still_need_the_words_of_the_thing_asked_about() -> None:
    agent = riley()
    assert agent.reply([], "Do you groom cats?") == NO_INFO
    assert agent.reply([], "Do you offer teeth cleaning?") == "Teeth cleaning: $25."


def test_the_one_item_that_carries_the_kind_asked_answers_with_its_label() -> None:
    """Before: "How much is a cleaning?" got "$120." (the item without what it prices)."""
    agent = riley([{"name": "dental.md", "text": "- Cleaning: $120, about 45 minutes\n- Whitening: $250\n"}], prompt="You are Riley at Smile Dental.")
    assert agent.reply([], "How much is a cleaning?") == "Cleaning: $120."
    assert agent.reply([], "How long does a cleaning take?") == "Cleaning: about 45 minutes."
