"""upload_file and the other file tools through a real MCP client: only files the user put in reach are read.

Reach is the client's MCP roots (asked mid-call on 2025-11-25, in an InputRequiredResult on 2026-07-28), or the
directory the server was started in for a client without roots; never over HTTP. A path that leads outside
(`..`, a symbolic link), anything that is not a regular file (a FIFO, a directory), a type Vapi does not take
or a file over the cap is refused before anything is read or sent; so is a hidden file or folder below a root, and a
file holding a private key is never sent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.knowledge_kit import PRICE_LIST, multipart, roots_of
from tests.loopback import serving
from tests.mcp_kit import confirmed, connect, result_json, result_text
from tests.openapi import assert_valid, schema
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import Fault, ManualClock, Sandbox

PROTOCOLS = ["legacy", "auto"]
"""`legacy`: roots asked mid-call (2025-11-25); `auto`: asked in an InputRequiredResult, answered on the retry (2026-07-28)."""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The user's folder: a price list in it, and a secret beside it (outside)."""
    inside = tmp_path / "shop"
    inside.mkdir()
    (inside / "prices.txt").write_text(PRICE_LIST)
    (tmp_path / "secret.txt").write_text("the safe's combination is 12-34-56\n")
    return inside


def uploads(sandbox: Sandbox) -> list[Any]:
    return sandbox.requests_to("POST", "/file")


@pytest.mark.parametrize("mode", PROTOCOLS)
async def test_a_file_inside_the_clients_roots_is_uploaded_as_vapis_multipart_body(mode: str, settings: Settings, sandbox: Sandbox, folder: Path) -> None:
    async with connect(settings, sandbox, list_roots_callback=roots_of(folder), mode=mode) as client:
        result = await client.call_tool("upload_file", {"path": "prices.txt", "metadata": {"source": "front desk"}})
    assert not result.is_error, result_text(result)
    view = result_json(result)
    assert view["name"] == "prices.txt" and view["status"] == "processing" and view["bytes"] == len(PRICE_LIST.encode())
    assert "attach_file" in view["next"]
    [sent] = uploads(sandbox)
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = multipart(sent)
    assert parts["file"] == ("prices.txt", "text/plain", PRICE_LIST)
    assert parts["purpose"] == "knowledge-base-v2" and json.loads(parts["metadata"]) == {"source": "front desk"}
    assert_valid("CreateFileDTO", {**parts, "file": "(binary)"})


async def test_an_absolute_path_inside_a_root_is_read_and_one_outside_is_not(settings: Settings, sandbox: Sandbox, folder: Path) -> None:
    async with connect(settings, sandbox, list_roots_callback=roots_of(folder)) as client:
        inside = await client.call_tool("upload_file", {"path": str(folder / "prices.txt")})
        outside = await client.call_tool("upload_file", {"path": str(folder.parent / "secret.txt")})
    assert not inside.is_error, result_text(inside)
    assert outside.is_error and "leads outside the client's roots" in result_text(outside) and "nothing was read or sent" in result_text(outside)
    assert len(uploads(sandbox)) == 1


@pytest.mark.parametrize("mode", PROTOCOLS)
async def test_dot_dot_cannot_climb_out_of_a_root(mode: str, settings: Settings, sandbox: Sandbox, folder: Path) -> None:
    async with connect(settings, sandbox, list_roots_callback=roots_of(folder), mode=mode) as client:
        result = await client.call_tool("upload_file", {"path": "../secret.txt"})
        hidden = await client.call_tool("upload_file", {"path": "sub/../../secret.txt"})
    for refused in (result, hidden):
        assert refused.is_error and "`path`" in result_text(refused) and "leads outside" in result_text(refused)
    assert "combination" not in result_text(result) + result_text(hidden)
    assert uploads(sandbox) == []


async def test_a_symbolic_link_that_leads_outside_is_refused_and_one_that_stays_inside_is_followed(
    settings: Settings, sandbox: Sandbox, folder: Path
) -> None:
    (folder / "escape.txt").symlink_to(folder.parent / "secret.txt")
    (folder / "linked-dir").symlink_to(folder.parent)
    (folder / "current.txt").symlink_to(folder / "prices.txt")
    async with connect(settings, sandbox, list_roots_callback=roots_of(folder)) as client:
        escape = await client.call_tool("upload_file", {"path": "escape.txt"})
        through_dir = await client.call_tool("upload_file", {"path": "linked-dir/secret.txt"})
        inside = await client.call_tool("upload_file", {"path": "current.txt"})
    assert escape.is_error and "leads outside" in result_text(escape)
    assert through_dir.is_error and "leads outside" in result_text(through_dir)
    assert not inside.is_error, result_text(inside)
    [sent] = uploads(sandbox)
    assert multipart(sent)["file"] == ("current.txt", "text/plain", PRICE_LIST)


async def test_a_fifo_a_directory_and_a_missing_file_are_refused_without_reading(settings: Settings, sandbox: Sandbox, folder: Path) -> None:
    os.mkfifo(folder / "pipe.txt")  # opened for reading, a FIFO with no writer would block forever
    (folder / "notes.txt").mkdir()
    async with connect(settings, sandbox, list_roots_callback=roots_of(folder)) as client:
        fifo = await client.call_tool("upload_file", {"path": "pipe.txt"})
        directory = await client.call_tool("upload_file", {"path": "notes.txt"})
        missing = await client.call_tool("upload_file", {"path": "menu.txt"})
    assert fifo.is_error and "a named pipe (FIFO)" in result_text(fifo) and "regular files only" in result_text(fifo)
    assert directory.is_error and "is a directory" in result_text(directory)
    assert missing.is_error and "no such file" in result_text(missing)
    assert uploads(sandbox) == []


async def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path: Path, sandbox: Sandbox, folder: Path) -> None:
    capped = Settings.load(
        {}, audit_log=str(tmp_path / "audit.jsonl"), state_url=f"sqlite://{tmp_path / 'state.sqlite3'}", toolsets=("all",), upload_max_bytes=100
    )
    async with connect(capped, sandbox, list_roots_callback=roots_of(folder)) as client:
        result = await client.call_tool("upload_file", {"path": "prices.txt"})
    text = result_text(result)
    assert result.is_error and f"is {len(PRICE_LIST.encode())} bytes" in text and "at most 100 (VAPI_MCP_UPLOAD_MAX_BYTES)" in text
    assert "under 300 KB" in text and uploads(sandbox) == []


async def test_a_type_vapi_does_not_take_is_refused_naming_the_types(settings: Settings, sandbox: Sandbox, folder: Path) -> None:
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n")
    async with connect(settings, sandbox, list_roots_callback=roots_of(folder)) as client:
        result = await client.call_tool("upload_file", {"path": "logo.png"})
    assert result.is_error and "not a type Vapi's knowledge bases take" in result_text(result) and ".docx" in result_text(result)
    assert uploads(sandbox) == []


@pytest.mark.parametrize(
    "path", [".env.json", ".aws/credentials.json", "docs/.git/config.json", "alias.txt"], ids=["dotfile", "dot folder", "nested dot folder", "link to a dotfile"]
)
async def test_a_hidden_file_or_folder_is_never_read_even_inside_a_root(settings: Settings, sandbox: Sandbox, folder: Path, path: str) -> None:
    """A prompt-injected agent asked for the workspace's credentials: before, `.env.json` inside a root was read and sent
    to Vapi, where a knowledge base could speak it to any caller. Hidden names below a root are refused, links included."""
    for hidden in (".env.json", ".aws/credentials.json", "docs/.git/config.json"):
        (folder / hidden).parent.mkdir(parents=True, exist_ok=True)
        (folder / hidden).write_text('{"VAPI_API_KEY": "sk-live-123"}\n')
    (folder / "alias.txt").symlink_to(folder / ".env.json")
    async with connect(settings, sandbox, list_roots_callback=roots_of(folder)) as client:
        result = await client.call_tool("upload_file", {"path": path})
    assert result.is_error and "hidden" in result_text(result) and "starts with a dot" in result_text(result), result_text(result)
    assert "sk-live-123" not in result_text(result) and uploads(sandbox) == []


async def test_a_root_inside_a_hidden_folder_still_shares_its_files(settings: Settings, sandbox: Sandbox, tmp_path: Path) -> None:
    """Only names below the root count: a project the user keeps under a hidden folder is still theirs to share."""
    shop = tmp_path / ".projects" / "shop"
    shop.mkdir(parents=True)
    (shop / "prices.txt").write_text(PRICE_LIST)
    async with connect(settings, sandbox, list_roots_callback=roots_of(shop)) as client:
        result = await client.call_tool("upload_file", {"path": "prices.txt"})
    assert not result.is_error, result_text(result)


async def test_a_file_holding_a_private_key_is_read_but_never_sent(settings: Settings, sandbox: Sandbox, folder: Path) -> None:
    (folder / "notes.txt").write_text("deploy notes\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n")
    async with connect(settings, sandbox, list_roots_callback=roots_of(folder)) as client:
        result = await client.call_tool("upload_file", {"path": "notes.txt"})
    assert result.is_error and "private key" in result_text(result) and "b3BlbnNzaC1rZXktdjEAAAAA" not in result_text(result)
    assert uploads(sandbox) == []


async def test_a_client_without_roots_reads_only_in_the_directory_the_server_started_in(
    settings: Settings, sandbox: Sandbox, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(folder)
    async with connect(settings, sandbox) as client:
        inside = await client.call_tool("upload_file", {"path": "prices.txt"})
        outside = await client.call_tool("upload_file", {"path": str(folder.parent / "secret.txt")})
    assert not inside.is_error, result_text(inside)
    assert outside.is_error and "the directory the server was started in" in result_text(outside)
    assert len(uploads(sandbox)) == 1


async def test_roots_that_name_no_local_folder_put_nothing_in_reach(settings: Settings, sandbox: Sandbox, folder: Path) -> None:
    async with connect(settings, sandbox, list_roots_callback=roots_of("file://fileserver/share")) as remote:
        nothing = await remote.call_tool("upload_file", {"path": "prices.txt"})
    assert nothing.is_error and "shares no local folder" in result_text(nothing)
    async with connect(settings, sandbox, list_roots_callback=roots_of("file://fileserver/share", folder)) as client:
        local = await client.call_tool("upload_file", {"path": "prices.txt"})
        other_host = await client.call_tool("upload_file", {"path": "/share/prices.txt"})
    assert not local.is_error, result_text(local)
    assert other_host.is_error and "leads outside" in result_text(other_host)
    assert len(uploads(sandbox)) == 1


async def test_over_http_nothing_is_read_whatever_the_client_says_its_roots_are(settings: Settings, sandbox: Sandbox, folder: Path) -> None:
    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
        async with Client(f"{base}/mcp", list_roots_callback=roots_of(folder)) as client:
            result = await client.call_tool("upload_file", {"path": str(folder / "prices.txt")})
    assert result.is_error and "over HTTP the server's disk is not the user's" in result_text(result)
    assert uploads(sandbox) == []


async def test_metadata_longer_than_vapi_takes_is_refused(settings: Settings, sandbox: Sandbox, folder: Path) -> None:
    async with connect(settings, sandbox, list_roots_callback=roots_of(folder)) as client:
        result = await client.call_tool("upload_file", {"path": "prices.txt", "metadata": {"note": "x" * 5000}})
    assert result.is_error and "`metadata`" in result_text(result) and "at most 4096" in result_text(result)
    assert uploads(sandbox) == []


async def test_an_upload_that_fails_at_vapi_is_not_retried_and_says_how_to_check(settings: Settings, sandbox: Sandbox, folder: Path) -> None:
    sandbox.inject(Fault("POST", "/file", status=502))
    async with connect(settings, sandbox, list_roots_callback=roots_of(folder)) as client:
        result = await client.call_tool("upload_file", {"path": "prices.txt"})
    assert result.is_error and "may or may not have taken effect" in result_text(result) and "list_files" in result_text(result)
    assert len(uploads(sandbox)) == 1


async def test_dry_run_reads_the_file_but_sends_nothing(tmp_path: Path, sandbox: Sandbox, folder: Path) -> None:
    dry = Settings.load({}, audit_log=str(tmp_path / "audit.jsonl"), state_url=f"sqlite://{tmp_path / 'state.sqlite3'}", toolsets=("all",), dry_run=True)
    async with connect(dry, sandbox, list_roots_callback=roots_of(folder)) as client:
        result = await client.call_tool("upload_file", {"path": "prices.txt"})
    view = result_json(result)
    assert view["dryRun"] is True and view["wouldSend"]["body"]["file"] == {"filename": "prices.txt", "bytes": len(PRICE_LIST.encode()), "mimetype": "text/plain"}
    assert uploads(sandbox) == []


async def test_list_get_rename_and_a_guarded_delete(settings: Settings, sandbox: Sandbox, clock: ManualClock, folder: Path) -> None:
    async with connect(settings, sandbox, list_roots_callback=roots_of(folder)) as client:
        uploaded = result_json(await client.call_tool("upload_file", {"path": "prices.txt"}))
        clock.advance(10)
        listed = result_json(await client.call_tool("list_files", {}))
        got = await client.call_tool("get_file", {"id": uploaded["id"]})
        renamed = result_json(await client.call_tool("rename_file", {"id": uploaded["id"], "name": "Prices 2026"}))
        preview = result_json(await client.call_tool("delete_file", {"id": uploaded["id"]}))
        still_there = uploaded["id"] in sandbox.store.files
        deleted = result_json(await confirmed(client, "delete_file", {"id": uploaded["id"]}))
    assert listed["files"] == [{k: v for k, v in {**uploaded, "status": "done"}.items() if k in ("id", "name", "status", "bytes", "mimetype", "createdAt")}]
    assert sandbox.requests_to("GET", "/file")[0].query == {"purpose": "knowledge-base-v2"}
    view = result_json(got)
    assert view["status"] == "done" and view["parsedTextBytes"] == len(PRICE_LIST.encode())
    links = [block for block in got.content if block.type == "resource_link"]
    assert [link.name for link in links] == ["prices.txt", "prices.txt (text)"] and all("no expiry given" in link.description for link in links)
    assert renamed["name"] == "Prices 2026"
    assert_valid("UpdateFileDTO", sandbox.requests_to("PATCH", f"/file/{uploaded['id']}")[0].body)
    assert preview["confirmToken"] and '"Prices 2026"' in preview["summary"] and "stop answering from it" in preview["summary"] and still_there
    assert deleted["deleted"]["id"] == uploaded["id"] and uploaded["id"] not in sandbox.store.files


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("upload_file", {"path": ""}, "`path`"),
        ("upload_file", {"path": "prices.txt", "purpose": "avatar"}, "`purpose`"),
        ("get_file", {"id": "../call"}, "`id` must be a Vapi id"),
        ("rename_file", {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "name": "x" * 41}, "`name`"),
        ("delete_file", {"id": "12"}, "`id` must be a Vapi id"),
    ],
)
async def test_bad_input_is_refused_before_any_request(client: Client, sandbox: Sandbox, name: str, arguments: dict[str, Any], says: str) -> None:
    result = await client.call_tool(name, arguments)
    assert result.is_error and says in result_text(result)
    assert sandbox.requests == []


def test_the_upload_form_follows_the_document() -> None:
    from vapi_mcp.sandbox import files

    documented = schema("CreateFileDTO")["properties"]
    assert set(files.FORM.fields) | {"file"} == set(documented)
    assert files.PURPOSES == tuple(documented["purpose"]["enum"])
    assert files.FORM.fields["metadata"].max_len == documented["metadata"]["maxLength"]  # type: ignore[attr-defined]
