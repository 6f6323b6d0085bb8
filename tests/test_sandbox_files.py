"""The sandbox's /file, as a plain HTTP client sees it: multipart uploads, Vapi's refusals, processing on the clock."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx2 as httpx
import pytest

from vapi_mcp.sandbox import ManualClock, Sandbox

MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@pytest.fixture
def sandbox(either_world: Sandbox) -> Sandbox:
    return either_world


async def upload(api: httpx.AsyncClient, name: str, content: bytes, **fields: str) -> httpx.Response:
    return await api.post("/file", files={"file": (name, content)}, data=fields)


def docx(*paragraphs: str) -> bytes:
    """A minimal Word document with these paragraphs."""
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", f'<w:document xmlns:w="urn:w"><w:body>{body}</w:body></w:document>')
    return out.getvalue()


async def test_an_upload_is_processing_then_done_on_the_sandbox_clock(api: httpx.AsyncClient, sandbox: Sandbox, clock: ManualClock) -> None:
    answer = await upload(api, "prices.txt", b"Nail trim: $15\n", purpose="knowledge-base-v2", metadata='{"source": "desk"}')
    assert answer.status_code == 201
    made = answer.json()
    assert made["object"] == "file" and made["status"] == "processing" and made["bytes"] == 15 and made["mimetype"] == "text/plain"
    assert made["name"] == made["originalName"] == "prices.txt" and made["metadata"] == {"source": "desk"} and made["purpose"] == "knowledge-base-v2"
    clock.advance(2)
    assert (await api.get(f"/file/{made['id']}")).json()["status"] == "processing"
    clock.advance(2)
    done = (await api.get(f"/file/{made['id']}")).json()
    assert done["status"] == "done" and done["parsedTextBytes"] == 15 and "_readyAt" not in done


@pytest.mark.parametrize(
    ("name", "content", "status"),
    [
        ("prices.docx", docx("Nail trim: $15", "Bath &amp; brush: $40"), "done"),
        ("prices.pdf", b"%PDF-1.7 ...", "failed"),
        ("prices.doc", b"\xd0\xcf\x11\xe0", "failed"),
        ("prices.txt", b"\x00\x01\x02binary", "failed"),
        ("prices.txt", "caf\xe9".encode("latin-1"), "failed"),
        ("empty.md", b"  \n", "failed"),
        ("broken.docx", b"not a zip", "failed"),
    ],
)
async def test_a_file_whose_text_cannot_be_read_fails(api: httpx.AsyncClient, sandbox: Sandbox, clock: ManualClock, name: str, content: bytes, status: str) -> None:
    made = (await upload(api, name, content)).json()
    clock.advance(5)
    assert (await api.get(f"/file/{made['id']}")).json()["status"] == status


async def test_a_word_documents_paragraphs_are_its_text(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    from vapi_mcp.sandbox.files import read_text

    assert read_text(".docx", docx("Nail trim: $15", "Bath &amp; brush: $40")) == "Nail trim: $15\nBath & brush: $40"


@pytest.mark.parametrize(
    ("send", "says"),
    [
        ({"files": {"file": ("logo.png", b"\x89PNG")}}, "Invalid file: logo.png is not a supported type"),
        ({"files": {"file": ("a.txt", b"hi")}, "data": {"purpose": "avatar"}}, "purpose must be one of the following values: assistant, composer-attachment, knowledge-base-v2"),
        ({"files": {"file": ("a.txt", b"hi")}, "data": {"metadata": "x" * 4097}}, "metadata must be shorter than or equal to 4096 characters"),
        ({"files": {"file": ("a.txt", b"hi")}, "data": {"metadata": "{not json"}}, "metadata must be a JSON string"),
        ({"files": {"file": ("a.txt", b"hi")}, "data": {"name": "x"}}, "property name should not exist"),
        ({"data": {"purpose": "assistant"}}, "file should not be empty"),
        ({"json": {"file": "prices.txt"}}, "file should not be empty"),
    ],
)
async def test_vapis_refusals_change_nothing(api: httpx.AsyncClient, sandbox: Sandbox, send: dict[str, Any], says: str) -> None:
    answer = await api.post("/file", **send)
    assert answer.status_code == 400 and answer.json()["error"] == "Bad Request"
    messages = answer.json()["message"]
    assert any(says in message for message in (messages if isinstance(messages, list) else [messages])), messages
    assert len(sandbox.store.files) == 0


async def test_the_list_needs_a_purpose_and_shows_that_purposes_files(api: httpx.AsyncClient, sandbox: Sandbox, clock: ManualClock) -> None:
    first = (await upload(api, "a.txt", b"a", purpose="knowledge-base-v2")).json()
    clock.advance(1)
    second = (await upload(api, "b.txt", b"b", purpose="knowledge-base-v2")).json()
    await upload(api, "c.txt", b"c", purpose="assistant")
    refused = await api.get("/file")
    assert refused.status_code == 400 and refused.json()["message"] == ["purpose should not be empty"]
    listed = (await api.get("/file", params={"purpose": "knowledge-base-v2"})).json()
    assert [f["id"] for f in listed] == [second["id"], first["id"]]


async def test_rename_follows_update_file_dto_and_delete_answers_the_file(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    made = (await upload(api, "prices.txt", b"Nail trim: $15")).json()
    too_long = await api.patch(f"/file/{made['id']}", json={"name": "x" * 41})
    assert too_long.status_code == 400 and too_long.json()["message"] == ["name must be shorter than or equal to 40 characters"]
    renamed = (await api.patch(f"/file/{made['id']}", json={"name": "Prices"})).json()
    assert renamed["name"] == "Prices" and renamed["originalName"] == "prices.txt"
    deleted = await api.delete(f"/file/{made['id']}")
    assert deleted.status_code == 200 and deleted.json()["id"] == made["id"]
    assert (await api.get(f"/file/{made['id']}")).status_code == 404
    assert (await api.get(f"/file/{MISSING}")).json()["message"] == "Couldn't Get File. File Not Found."
    assert (await api.get("/file/12")).status_code == 400
