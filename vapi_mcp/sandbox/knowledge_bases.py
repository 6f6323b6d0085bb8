"""/v2/knowledge-base: knowledge bases, their files, and the tool that searches each one.

A knowledge base (KnowledgeBaseV2: `name`, `description`) holds files (KnowledgeBaseV2File, one per attached
file). As the document says of `KnowledgeBaseV2WithFiles.toolId`, each base gets a search tool when it is
created: a `knowledgeBase` tool (KnowledgeBaseTool: `knowledgeBaseId`, `function`) in /tool, which an assistant
uses through its `model.toolIds`; deleting the base deletes that tool (and the base's file links; the files stay).

Attaching a file (`POST .../file {fileId}`) starts indexing it: `indexing`, then, `INDEXING` after the file
itself is done processing (on the sandbox clock), `ready` when the sandbox could read its text, `failed` when not.
`POST .../file/{fileId}/retry` indexes a failed one again (it fails again while its text cannot be read).
`{fileId}` in the paths is the file's id (File.id), as the document names it.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import files
from .clock import iso, parse_iso
from .core import ApiError, body_of, collection_routes, paginate, path_id, query_of, sandbox_of, stamp
from .validation import Num, Obj, Rule, Str

if TYPE_CHECKING:
    from . import Sandbox

INDEXING = timedelta(seconds=5)
"""How long indexing takes on the sandbox clock once the file itself is done processing."""

_FIELDS: dict[str, Rule] = {"name": Str(min_len=1, max_len=80), "description": Str(max_len=1000, nullable=True)}
CREATE = Obj(_FIELDS, required=("name",))
"""CreateKnowledgeBaseV2DTO."""
UPDATE = Obj(_FIELDS)
"""UpdateKnowledgeBaseV2DTO."""
ATTACH = Obj({"fileId": Str()}, required=("fileId",))
"""AttachKnowledgeBaseV2FileDTO."""
LIST_QUERY: dict[str, Rule] = {"limit": Num(minimum=0, maximum=1000)}
"""GET /v2/knowledge-base's query parameters."""
WHAT = "Knowledge Base"


def search_tool(sb: Sandbox, base: dict[str, Any]) -> dict[str, Any]:
    """The `knowledgeBase` tool provisioned for a new base (KnowledgeBaseTool)."""
    slug = re.sub(r"[^a-zA-Z0-9_-]+", "_", base["name"]).strip("_")[:50] or "knowledge_base"
    return stamp(
        sb,
        type="knowledgeBase",
        knowledgeBaseId=base["id"],
        function={
            "name": f"search_{slug}",
            "description": f"Search the knowledge base {base['name']!r} for passages that answer the user's question.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string", "description": "What to look up, in the user's words."}},
                "required": ["query"],
            },
        },
    )


def tool_id(sb: Sandbox, base: dict[str, Any]) -> str | None:
    """The id of the base's search tool, or None when it has none (it was deleted)."""
    ident = base.get("_toolId")
    return ident if isinstance(ident, str) and ident in sb.store.tools else None


def settle(sb: Sandbox, link: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A base's file link with its status as of `now`: `indexing` turns `ready` or `failed` once its file is processed
    and INDEXING has passed (a file that was deleted meanwhile fails)."""
    if link.get("status") != "indexing":
        return link
    file = sb.store.files.get(link["fileId"])
    if file is None:
        link.update(status="failed", updatedAt=iso(now))
        return link
    files.settle(file, now)
    if file["status"] == "processing":
        return link
    ready_at = max(parse_iso(file["_readyAt"]), parse_iso(link["_since"])) + INDEXING
    if now >= ready_at:
        link.update(status="ready" if file["status"] == "done" else "failed", updatedAt=iso(ready_at))
    return link


def links_of(sb: Sandbox, base_id: str) -> list[dict[str, Any]]:
    """The base's file links, settled, oldest first."""
    now = sb.now()
    found = [settle(sb, link, now) for link in sb.store.knowledge_base_files.values() if link.get("knowledgeBaseV2Id") == base_id]
    return sorted(found, key=lambda link: link["createdAt"])


def ready_file_ids(sb: Sandbox, base_id: str) -> list[str]:
    """The files of a base that are indexed (`ready`), in the order they were attached."""
    return [link["fileId"] for link in links_of(sb, base_id) if link["status"] == "ready"]


def shown(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _base(sb: Sandbox, request: Request) -> dict[str, Any]:
    base = sb.store.knowledge_bases.get(path_id(request))
    if base is None:
        raise ApiError(404, f"Couldn't Get {WHAT}. {WHAT} Not Found.")
    return base


def _link(sb: Sandbox, base: dict[str, Any], request: Request) -> dict[str, Any]:
    """The link of the file `{fileId}` names in the base; 400 for a malformed id, 404 for a file not attached."""
    file_id = request.path_params["fileId"]
    try:
        uuid.UUID(file_id)
    except ValueError:
        raise ApiError(400, ["fileId must be a UUID"]) from None
    link = next((link for link in links_of(sb, base["id"]) if link["fileId"] == file_id), None)
    if link is None:
        raise ApiError(404, f"Couldn't Get {WHAT} File. File {file_id} is not attached to this knowledge base.")
    return link


async def create_base(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    body = await body_of(request, CREATE)
    base = stamp(sb, **{k: v for k, v in body.items() if k in _FIELDS})
    tool = search_tool(sb, base)
    sb.store.tools[tool["id"]] = tool
    base["_toolId"] = tool["id"]
    sb.store.knowledge_bases[base["id"]] = base
    return JSONResponse(shown(base), status_code=201)


async def get_base(request: Request) -> JSONResponse:
    """KnowledgeBaseV2WithFiles: the base, its files and its search tool's id."""
    sb = sandbox_of(request)
    base = _base(sb, request)
    return JSONResponse({**shown(base), "files": [shown(link) for link in links_of(sb, base["id"])], "toolId": tool_id(sb, base)})


async def delete_base(request: Request) -> JSONResponse:
    """The base goes with its search tool and its file links; the files stay."""
    sb = sandbox_of(request)
    base = _base(sb, request)
    for link_id, link in sb.store.knowledge_base_files.items():
        if link.get("knowledgeBaseV2Id") == base["id"]:
            del sb.store.knowledge_base_files[link_id]
    tool = tool_id(sb, base)
    if tool is not None:
        del sb.store.tools[tool]
    del sb.store.knowledge_bases[base["id"]]
    return JSONResponse(shown(base))


async def list_base_files(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    base = _base(sb, request)
    return JSONResponse([shown(link) for link in links_of(sb, base["id"])])


async def attach_file(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    base = _base(sb, request)
    body = await body_of(request, ATTACH)
    file = sb.store.files.get(body["fileId"])
    if file is None:
        raise ApiError(400, f"Couldn't Get File. `fileId` {body['fileId']} Not Found.")
    if any(link["fileId"] == file["id"] for link in links_of(sb, base["id"])):
        raise ApiError(409, f"File {file['id']} is already attached to this knowledge base.")
    now = sb.now()
    link = stamp(sb, knowledgeBaseV2Id=base["id"], fileId=file["id"], fileName=file.get("name"), mimetype=file.get("mimetype"), bytes=file.get("bytes"))
    link = {k: v for k, v in link.items() if v is not None}
    link.update(status="indexing", _since=iso(now))
    sb.store.knowledge_base_files[link["id"]] = link
    return JSONResponse(shown(settle(sb, link, now)), status_code=201)


async def detach_file(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    link = _link(sb, _base(sb, request), request)
    del sb.store.knowledge_base_files[link["id"]]
    return JSONResponse(shown(link))


async def retry_file(request: Request) -> JSONResponse:
    """Index a failed file again; a file that is not `failed` is refused."""
    sb = sandbox_of(request)
    link = _link(sb, _base(sb, request), request)
    if link["status"] != "failed":
        raise ApiError(400, f"Only a failed file can be retried; this one is {link['status']}.")
    now = sb.now()
    link.update(status="indexing", updatedAt=iso(now), _since=iso(now))
    return JSONResponse(shown(settle(sb, link, now)), status_code=201)


async def update_base(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    base = _base(sb, request)
    body = await body_of(request, UPDATE)
    base.update(body, updatedAt=iso(sb.now()))
    return JSONResponse(shown(base))


async def list_bases(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    query = query_of(request, LIST_QUERY)
    return JSONResponse(paginate([shown(base) for base in sb.store.knowledge_bases.values()], query))


routes = [
    *collection_routes("/v2/knowledge-base", create_base, list_bases, get_base, update_base, delete_base),
    Route("/v2/knowledge-base/{id}/file", list_base_files, methods=["GET"]),
    Route("/v2/knowledge-base/{id}/file", attach_file, methods=["POST"]),
    Route("/v2/knowledge-base/{id}/file/{fileId}", detach_file, methods=["DELETE"]),
    Route("/v2/knowledge-base/{id}/file/{fileId}/retry", retry_file, methods=["POST"]),
]
BODIES: dict[tuple[str, str], Rule] = {
    ("POST", "/v2/knowledge-base"): CREATE,
    ("PATCH", "/v2/knowledge-base/{id}"): UPDATE,
    ("POST", "/v2/knowledge-base/{id}/file"): ATTACH,
}
"""The request bodies this module validates, by route (the tests compare each with the document)."""
