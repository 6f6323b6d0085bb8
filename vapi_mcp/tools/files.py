"""Files (/file): upload a local file for a knowledge base, list, read, rename and delete them.

`upload_file` reads a file the user put in reach (`vapi_mcp.local_files`: the client's MCP roots, or the
directory the server was started in; never over HTTP), of a type Vapi's knowledge bases take and no larger than
VAPI_MCP_UPLOAD_MAX_BYTES, and sends it as Vapi's multipart POST /file. Vapi processes it (`processing`, then
`done` or `failed`); a knowledge base takes it with `attach_file`. Deleting a file passes the guard: assistants
whose knowledge bases or query tools use it stop answering from it.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from .. import local_files
from ..errors import InputError
from ..guard.facts import quoted
from ..ids import VapiId
from .base import Args, DeleteArgs, IdArgs, Link, Linked, Object, ToolContext, ToolGroup, delete_confirmed, non_empty, non_null

toolset = "knowledge"
tools = ToolGroup()

Purpose = Literal["knowledge-base-v2", "assistant", "composer-attachment"]
"""CreateFileDTO.purpose; this server uploads for knowledge bases unless told otherwise."""
KINDS = ", ".join(sorted(set(local_files.FILE_TYPES) - {".yml"}))


class UploadFileArgs(Args):
    path: str = Field(min_length=1, max_length=4096, description="The local file: absolute, or relative to the user's folder.")
    purpose: Purpose = "knowledge-base-v2"
    metadata: Object | None = None


class ListFilesArgs(Args):
    purpose: Purpose = "knowledge-base-v2"


class RenameFileArgs(Args):
    id: VapiId
    name: str = Field(min_length=1, max_length=40)


def file_row(file: dict[str, Any]) -> dict[str, Any]:
    """One compact line per file: its processing status first among its facts."""
    return non_null(
        {
            "id": file.get("id"),
            "name": file.get("name"),
            "status": file.get("status"),
            "bytes": file.get("bytes"),
            "mimetype": file.get("mimetype"),
            "createdAt": file.get("createdAt"),
        }
    )


def file_view(file: dict[str, Any]) -> dict[str, Any]:
    """A file: its row, where it came from, how much text Vapi read from it, and what its status means."""
    view = file_row(file) | non_empty(
        {
            "originalName": file.get("originalName") if file.get("originalName") != file.get("name") else None,
            "purpose": file.get("purpose"),
            "parsedTextBytes": file.get("parsedTextBytes"),
            "metadata": file.get("metadata"),
            "updatedAt": file.get("updatedAt"),
        }
    )
    status = file.get("status")
    if status == "processing":
        view["note"] = "Vapi is still reading this file; get_file again in a few seconds (attach_file takes it meanwhile)."
    elif status == "failed":
        view["note"] = "Vapi could not read this file's text: a knowledge base cannot answer from it. Upload it as plain text (.txt, .md) instead."
    return view


def file_links(file: dict[str, Any]) -> list[Link]:
    """The file as Vapi stores it, and the text it read from it (Vapi's stable URLs; no expiry given)."""
    out = []
    name = file.get("name") or file.get("id")
    if file.get("url"):
        out.append(Link(file["url"], str(name), f"The file {name} as Vapi stores it (Vapi's stable URL; no expiry given).", file.get("mimetype")))
    if file.get("parsedTextUrl"):
        out.append(Link(file["parsedTextUrl"], f"{name} (text)", f"The text Vapi read from {name} (Vapi's stable URL; no expiry given).", "text/plain"))
    return out


@tools.tool(title="Upload file", read_only=False, sends=("POST /file",))
async def upload_file(args: UploadFileArgs, call: ToolContext) -> dict[str, Any]:
    """Upload a local file for a knowledge base (Vapi POST /file). Reads only inside the client's roots (or the
    server's start folder); types .csv .doc .docx .json .log .md .pdf .tsv .txt .xml .yaml, at most
    VAPI_MCP_UPLOAD_MAX_BYTES (Vapi advises under 300 KB). Then attach_file."""
    metadata = None
    if args.metadata is not None:
        metadata = json.dumps(args.metadata, separators=(",", ":"), ensure_ascii=False)
        if len(metadata) > 4096:
            raise InputError("metadata", f"is {len(metadata)} characters as JSON; Vapi takes at most 4096")
    reach = await local_files.reach(call.mcp)
    local = local_files.read_within(reach, args.path, call.settings.upload_max_bytes)
    fields = non_null({"purpose": args.purpose, "metadata": metadata})
    file = await call.vapi.upload("/file", file=(local.name, local.content, local.mime_type), fields=fields, check="Look for it with list_files before uploading it again.")
    view = file_view(file)
    if len(local.content) > local_files.ADVISED_BYTES:
        view["advice"] = f"{len(local.content):,} bytes: Vapi advises knowledge-base files under 300 KB (quicker to process and to answer from)."
    view["next"] = "attach_file with a knowledge base's id (create_knowledge_base makes one) to answer from it."
    return view


@tools.tool(title="List files", read_only=True, sends=("GET /file",))
async def list_files(args: ListFilesArgs, call: ToolContext) -> dict[str, Any]:
    """Uploaded files of one purpose (default knowledge-base-v2), newest first: id, name, status
    (processing, done, failed), bytes."""
    found = await call.vapi.get("/file", params=args.body(), expect=list)
    return {"files": [file_row(f) for f in found], "count": len(found)}


@tools.tool(title="Get file", read_only=True, sends=("GET /file/{id}",))
async def get_file(args: IdArgs, call: ToolContext) -> Linked:
    """One uploaded file: status, size, how much text Vapi read, with links to the file and its text."""
    file = await call.vapi.get(f"/file/{args.id}")
    return Linked(file_view(file), file_links(file))


@tools.tool(title="Rename file", read_only=False, idempotent=True, sends=("PATCH /file/{id}",))
async def rename_file(args: RenameFileArgs, call: ToolContext) -> dict[str, Any]:
    """Rename an uploaded file (its name, up to 40 characters)."""
    body = {"name": args.name}
    return file_row(await call.send("PATCH", f"/file/{args.id}", body, args=args, summary=f"Rename file {args.id}."))


@tools.tool(title="Delete file", read_only=False, destructive=True, idempotent=True, sends=("GET /file/{id}", "DELETE /file/{id}"))
async def delete_file(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete an uploaded file (asks the user to confirm): knowledge bases and query tools that use it stop
    answering from it."""
    path = f"/file/{args.id}"
    file = await call.vapi.get(path)
    size = f", {int(file['bytes']):,} bytes" if isinstance(file.get("bytes"), int | float) else ""
    summary = (
        f"Delete the file {quoted(file.get('name') or '(unnamed)', 40)} ({args.id}{size}). Assistants whose knowledge bases "
        "or query tools use it stop answering from it."
    )
    deleted = await delete_confirmed(call, args, path, summary)
    return {"deleted": file_row(deleted if isinstance(deleted, dict) and deleted.get("id") else file)}
