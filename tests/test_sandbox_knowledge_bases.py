"""The sandbox's /v2/knowledge-base, as a plain HTTP client sees it: the document's shapes and refusals, the search
tool each base gets, file statuses on the clock, and what deleting takes with it."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest

from tests.knowledge_kit import PRICE_LIST
from tests.openapi import assert_answer as valid
from tests.openapi import document
from vapi_mcp.sandbox import ManualClock, Sandbox

MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@pytest.fixture
def sandbox(either_world: Sandbox) -> Sandbox:
    return either_world


async def upload(api: httpx.AsyncClient, name: str = "prices.txt", content: bytes = PRICE_LIST.encode()) -> dict[str, Any]:
    answer = await api.post("/file", files={"file": (name, content)}, data={"purpose": "knowledge-base-v2"})
    assert answer.status_code == 201
    made: dict[str, Any] = answer.json()
    return made


async def base(api: httpx.AsyncClient, name: str = "Prices") -> dict[str, Any]:
    answer = await api.post("/v2/knowledge-base", json={"name": name, "description": None})
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


async def test_a_base_gets_a_search_tool_an_assistant_can_use(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    made = await base(api, "Sunny Paws prices")
    valid("KnowledgeBaseV2", made)
    assert made["description"] is None and "_toolId" not in made
    got = (await api.get(f"/v2/knowledge-base/{made['id']}")).json()
    valid("KnowledgeBaseV2WithFiles", got)
    assert got["files"] == [] and got["toolId"]
    tool = (await api.get(f"/tool/{got['toolId']}")).json()
    valid("KnowledgeBaseTool", tool)
    assert tool["type"] == "knowledgeBase" and tool["knowledgeBaseId"] == made["id"] and tool["function"]["name"] == "search_Sunny_Paws_prices"


async def test_attached_files_index_on_the_clock_and_fail_when_unreadable(api: httpx.AsyncClient, sandbox: Sandbox, clock: ManualClock) -> None:
    made = await base(api)
    prices, scan = await upload(api), await upload(api, "scan.pdf", b"%PDF-1.7")
    links = []
    for file in (prices, scan):
        answer = await api.post(f"/v2/knowledge-base/{made['id']}/file", json={"fileId": file["id"]})
        assert answer.status_code == 201
        valid("KnowledgeBaseV2File", answer.json())
        links.append(answer.json())
    assert [link["status"] for link in links] == ["indexing", "indexing"] and links[0]["fileName"] == "prices.txt"
    clock.advance(7)  # the file is done after 3 s, indexed 5 s later
    assert [f["status"] for f in (await api.get(f"/v2/knowledge-base/{made['id']}/file")).json()] == ["indexing", "indexing"]
    clock.advance(2)
    assert [f["status"] for f in (await api.get(f"/v2/knowledge-base/{made['id']}/file")).json()] == ["ready", "failed"]
    twice = await api.post(f"/v2/knowledge-base/{made['id']}/file", json={"fileId": prices["id"]})
    assert twice.status_code == 409
    not_failed = await api.post(f"/v2/knowledge-base/{made['id']}/file/{prices['id']}/retry")
    assert not_failed.status_code == 400 and "Only a failed file can be retried" in not_failed.json()["message"]
    retried = await api.post(f"/v2/knowledge-base/{made['id']}/file/{scan['id']}/retry")
    assert retried.status_code == 201 and retried.json()["status"] == "indexing"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("POST", "/v2/knowledge-base", {}, 400, "name should not be empty"),
        ("POST", "/v2/knowledge-base", {"name": "x" * 81}, 400, "name must be shorter than or equal to 80 characters"),
        ("POST", "/v2/knowledge-base", {"name": "P", "fileIds": []}, 400, "property fileIds should not exist"),
        ("PATCH", "/v2/knowledge-base/{id}", {"name": ""}, 400, "name must be longer than or equal to 1 characters"),
        ("POST", "/v2/knowledge-base/{id}/file", {}, 400, "fileId should not be empty"),
        ("POST", "/v2/knowledge-base/{id}/file", {"fileId": MISSING}, 400, f"Couldn't Get File. `fileId` {MISSING} Not Found."),
        ("GET", f"/v2/knowledge-base/{MISSING}", None, 404, "Couldn't Get Knowledge Base. Knowledge Base Not Found."),
        ("DELETE", f"/v2/knowledge-base/{{id}}/file/{MISSING}", None, 404, "is not attached to this knowledge base"),
        ("DELETE", "/v2/knowledge-base/{id}/file/12", None, 400, "fileId must be a UUID"),
        ("GET", "/v2/knowledge-base?limit=1001", None, 400, "limit must not be greater than 1000"),
    ],
)
async def test_vapis_refusals(api: httpx.AsyncClient, sandbox: Sandbox, method: str, path: str, body: Any, status: int, says: str) -> None:
    made = await base(api)
    answer = await api.request(method, path.replace("{id}", made["id"]), json=body)
    message = answer.json()["message"]
    assert answer.status_code == status and says in (message if isinstance(message, str) else " ".join(message)), message


async def test_deleting_a_base_takes_its_tool_and_links_and_deleting_a_file_detaches_it(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    first, second = await base(api, "One"), await base(api, "Two")
    prices, menu = await upload(api), await upload(api, "menu.md", b"# Menu\nSoup: $5\n")
    for made in (first, second):
        for file in (prices, menu):
            await api.post(f"/v2/knowledge-base/{made['id']}/file", json={"fileId": file["id"]})
    tool = (await api.get(f"/v2/knowledge-base/{first['id']}")).json()["toolId"]
    deleted = await api.delete(f"/v2/knowledge-base/{first['id']}")
    assert deleted.status_code == 200 and deleted.json()["id"] == first["id"]
    assert (await api.get(f"/tool/{tool}")).status_code == 404
    assert (await api.get(f"/file/{prices['id']}")).status_code == 200
    await api.delete(f"/file/{prices['id']}")
    assert [f["fileId"] for f in (await api.get(f"/v2/knowledge-base/{second['id']}/file")).json()] == [menu["id"]]
    assert len(sandbox.store.knowledge_base_files) == 1


async def test_the_list_and_update_answer_knowledge_base_v2_objects(api: httpx.AsyncClient, sandbox: Sandbox, clock: ManualClock) -> None:
    older = await base(api, "Older")
    clock.advance(1)
    newer = await base(api, "Newer")
    listed = (await api.get("/v2/knowledge-base", params={"limit": 1})).json()
    assert [b["id"] for b in listed] == [newer["id"]] and "files" not in listed[0] and "_toolId" not in listed[0]
    changed = (await api.patch(f"/v2/knowledge-base/{older['id']}", json={"description": "Prices for 2026"})).json()
    valid("KnowledgeBaseV2", changed)
    assert changed["description"] == "Prices for 2026" and changed["name"] == "Older"
    assert document()["paths"]["/v2/knowledge-base"]["get"]["parameters"][0]["name"] == "limit"
