"""Knowledge bases (/v2/knowledge-base): the files an assistant answers from, and connecting them to it.

A knowledge base holds files (each `indexing`, then `ready` or `failed`: `get_knowledge_base` shows every one).
Vapi gives each base a search tool when it is created (`KnowledgeBaseV2WithFiles.toolId`, a `knowledgeBase`
tool), which an assistant uses through its `model.toolIds`: `connect_knowledge_base` adds it there (the
document's other ways, a `query` tool whose `knowledgeBases` list file ids, or a model's custom
`knowledgeBase` server, are `create_tool` and `update_assistant`). Deleting a base, or detaching a file, passes
the guard: the assistants that search it stop answering from it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from pydantic import Field

from ..errors import InputError, VapiMCPError
from ..guard.facts import quoted
from ..ids import VapiId
from .base import Args, DeleteArgs, Guarded, IdArgs, ListArgs, ToolContext, ToolGroup, delete_confirmed, non_empty, non_null

toolset = "knowledge"
tools = ToolGroup()

STATUSES = ("indexing", "ready", "failed")
"""KnowledgeBaseV2File.status, in the order a file goes through them."""


class CreateKnowledgeBaseArgs(Args):
    name: str = Field(min_length=1, max_length=80)
    description: str | None = Field(None, max_length=1000)


class UpdateKnowledgeBaseArgs(Args):
    id: VapiId
    name: str | None = Field(None, min_length=1, max_length=80)
    description: str | None = Field(None, max_length=1000)

    local_fields: ClassVar[frozenset[str]] = frozenset({"id"})


class BaseFileArgs(Args):
    knowledgeBaseId: VapiId
    fileId: VapiId

    local_fields: ClassVar[frozenset[str]] = frozenset({"knowledgeBaseId"})


class DetachFileArgs(Guarded):
    knowledgeBaseId: VapiId
    fileId: VapiId


class ConnectArgs(Guarded):
    assistantId: VapiId
    knowledgeBaseId: VapiId
    disconnect: bool = Field(False, description="Remove the connection instead.")


def base_row(base: dict[str, Any]) -> dict[str, Any]:
    """One compact line per knowledge base."""
    return non_null({"id": base.get("id"), "name": base.get("name"), "description": base.get("description"), "createdAt": base.get("createdAt")})


def file_row(link: dict[str, Any]) -> dict[str, Any]:
    """One file of a knowledge base, with its processing status (indexing, ready, failed)."""
    return non_null({"fileId": link.get("fileId"), "name": link.get("fileName"), "status": link.get("status"), "bytes": link.get("bytes")})


def base_view(base: dict[str, Any]) -> dict[str, Any]:
    """A knowledge base with each file's status, the counts by status, its search tool, and what to do next."""
    files = [file_row(link) for link in base.get("files") or [] if isinstance(link, dict)]
    counts = Counter(f.get("status") for f in files)
    view = base_row(base) | non_empty({"toolId": base.get("toolId"), "files": files, "byStatus": {s: counts[s] for s in STATUSES if counts[s]}})
    if not files:
        view["note"] = "No files yet: upload_file, then attach_file."
    elif counts["indexing"]:
        view["note"] = f"{counts['indexing']} file(s) still indexing: an assistant answers only from ready files. get_knowledge_base again in a few seconds."
    elif counts["failed"]:
        view["note"] = "Failed files were not indexed (their text could not be read): retry_file, or upload them as plain text (.txt, .md)."
    return view


async def _base(call: ToolContext, ident: str) -> dict[str, Any]:
    found: dict[str, Any] = await call.vapi.get(f"/v2/knowledge-base/{ident}")
    return found


@tools.tool(title="Create knowledge base", read_only=False, sends=("POST /v2/knowledge-base",))
async def create_knowledge_base(args: CreateKnowledgeBaseArgs, call: ToolContext) -> dict[str, Any]:
    """Create a knowledge base (name, description): then attach_file, and connect_knowledge_base to make an
    assistant answer from it."""
    summary = f"Create the knowledge base {quoted(args.name, 80)}."
    check = "Look for it with list_knowledge_bases before creating it again."
    created = await call.send("POST", "/v2/knowledge-base", args.body(), args=args, summary=summary, check=check)
    return {**base_row(created), "next": "attach_file for each uploaded file, then connect_knowledge_base with the assistant."}


@tools.tool(title="List knowledge bases", read_only=True, sends=("GET /v2/knowledge-base",))
async def list_knowledge_bases(args: ListArgs, call: ToolContext) -> dict[str, Any]:
    """Knowledge bases, newest first: id, name, description (get_knowledge_base shows their files)."""
    found = await call.vapi.get("/v2/knowledge-base", params=args.body(), expect=list)
    return {"knowledgeBases": [base_row(b) for b in found], "count": len(found)}


@tools.tool(title="Get knowledge base", read_only=True, sends=("GET /v2/knowledge-base/{id}",))
async def get_knowledge_base(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """A knowledge base: each file's status (indexing, ready, failed), counts by status, and its search tool's id."""
    return base_view(await _base(call, args.id))


@tools.tool(title="Update knowledge base", read_only=False, idempotent=True, sends=("PATCH /v2/knowledge-base/{id}",))
async def update_knowledge_base(args: UpdateKnowledgeBaseArgs, call: ToolContext) -> dict[str, Any]:
    """Rename a knowledge base or change its description."""
    body = args.body()
    if not body:
        raise InputError("id", "give a name or a description to change")
    changed = await call.send("PATCH", f"/v2/knowledge-base/{args.id}", body, args=args, summary=f"Change the knowledge base {args.id}.")
    return {**base_row(changed), "changed": sorted(body)}


@tools.tool(
    title="Delete knowledge base", read_only=False, destructive=True, idempotent=True, sends=("GET /v2/knowledge-base/{id}", "DELETE /v2/knowledge-base/{id}")
)
async def delete_knowledge_base(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete a knowledge base and its search tool (asks the user to confirm); its files stay uploaded.
    Assistants that search it stop answering from it."""
    path = f"/v2/knowledge-base/{args.id}"
    base = await _base(call, args.id)
    count = len(base.get("files") or [])
    summary = (
        f"Delete the knowledge base {quoted(base.get('name') or '(unnamed)', 40)} ({args.id}) and its search tool; its {count} "
        f"file{'' if count == 1 else 's'} stay uploaded. Assistants that search it stop answering from it."
    )
    deleted = await delete_confirmed(call, args, path, summary)
    return {"deleted": base_row(deleted if isinstance(deleted, dict) and deleted.get("id") else base)}


@tools.tool(title="Attach file", read_only=False, sends=("POST /v2/knowledge-base/{id}/file",))
async def attach_file(args: BaseFileArgs, call: ToolContext) -> dict[str, Any]:
    """Add an uploaded file to a knowledge base; Vapi indexes it (indexing, then ready or failed:
    get_knowledge_base shows it)."""
    summary = f"Attach file {args.fileId} to knowledge base {args.knowledgeBaseId}."
    link = await call.send("POST", f"/v2/knowledge-base/{args.knowledgeBaseId}/file", args.body(), args=args, summary=summary)
    return {**file_row(link), "knowledgeBaseId": args.knowledgeBaseId, "next": "get_knowledge_base shows when it is ready; then connect_knowledge_base."}


@tools.tool(
    title="Detach file",
    read_only=False,
    destructive=True,
    idempotent=True,
    sends=("GET /v2/knowledge-base/{id}", "DELETE /v2/knowledge-base/{id}/file/{fileId}"),
)
async def detach_file(args: DetachFileArgs, call: ToolContext) -> dict[str, Any]:
    """Remove a file from a knowledge base (asks the user to confirm); the file stays uploaded."""
    base = await _base(call, args.knowledgeBaseId)
    link = next((f for f in base.get("files") or [] if isinstance(f, dict) and f.get("fileId") == args.fileId), None)
    name = quoted(base.get("name") or "(unnamed)", 40)
    if link is None:
        attached = ", ".join(f"{quoted(f.get('fileName') or '?', 40)} ({f.get('fileId')})" for f in base.get("files") or []) or "none"
        raise InputError("fileId", f"is not attached to the knowledge base {name} (its files: {attached})")
    summary = (
        f"Detach the file {quoted(link.get('fileName') or '(unnamed)', 40)} ({args.fileId}) from the knowledge base {name} "
        f"({args.knowledgeBaseId}); the file stays uploaded. Assistants that search the base stop answering from it."
    )
    path = f"/v2/knowledge-base/{args.knowledgeBaseId}/file/{args.fileId}"
    action = args.action(call, kind="destroy", summary=summary, method="DELETE", path=path, body=None)
    detached = await call.send_guarded(action, ids=lambda _: [args.fileId])
    return {"detached": file_row(detached if isinstance(detached, dict) and detached.get("fileId") else link), "knowledgeBaseId": args.knowledgeBaseId}


@tools.tool(title="Retry file", read_only=False, sends=("POST /v2/knowledge-base/{id}/file/{fileId}/retry",))
async def retry_file(args: BaseFileArgs, call: ToolContext) -> dict[str, Any]:
    """Index a knowledge base's failed file again."""
    path = f"/v2/knowledge-base/{args.knowledgeBaseId}/file/{args.fileId}/retry"
    link = await call.send("POST", path, None, args=args, summary=f"Retry indexing file {args.fileId}.")
    return {**file_row(link), "knowledgeBaseId": args.knowledgeBaseId}


@tools.tool(
    title="Connect knowledge base",
    read_only=False,
    idempotent=True,
    sends=("GET /v2/knowledge-base/{id}", "GET /assistant/{id}", "PATCH /assistant/{id}"),
)
async def connect_knowledge_base(args: ConnectArgs, call: ToolContext) -> dict[str, Any]:
    """Make an assistant answer from a knowledge base: adds the base's search tool (toolId) to the
    assistant's model.toolIds (disconnect: removes it). Then chat_with_assistant to check the answers."""
    base = await _base(call, args.knowledgeBaseId)
    tool = base.get("toolId")
    name = quoted(base.get("name") or "(unnamed)", 40)
    if not isinstance(tool, str) or not tool:
        raise VapiMCPError(
            f"The knowledge base {name} has no search tool (its toolId is null), so no assistant can search it; nothing was changed.",
            hint="Vapi makes the tool when a base is created: create a new knowledge base and attach the files to it.",
        )
    path = f"/assistant/{args.assistantId}"
    assistant = await call.vapi.get(path)
    model = assistant.get("model")
    who = quoted(assistant.get("name") or "(unnamed)", 40)
    if not isinstance(model, dict) or not model.get("provider"):
        raise InputError("assistantId", f"the assistant {who} has no model to give the search tool to; set its model with update_assistant first")
    ids = [i for i in model.get("toolIds") or [] if isinstance(i, str)]
    ready = sum(1 for f in base.get("files") or [] if isinstance(f, dict) and f.get("status") == "ready")
    outcome = {"assistantId": args.assistantId, "knowledgeBaseId": args.knowledgeBaseId, "toolId": tool, "connected": not args.disconnect}
    if (tool in ids) != args.disconnect:
        return {**outcome, "unchanged": True, **_readiness(base, ready, args.disconnect)}
    tool_ids = [i for i in ids if i != tool] if args.disconnect else [*ids, tool]
    verb, word, change = ("Disconnect", "from", "lose") if args.disconnect else ("Connect", "to", "gain")
    summary = (
        f"{verb} the knowledge base {name} ({args.knowledgeBaseId}) {word} the assistant {who} ({args.assistantId}): "
        f"its model's toolIds {change} the base's search tool {tool}."
    )
    await call.send("PATCH", path, {"model": {**model, "toolIds": tool_ids}}, args=args, summary=summary)
    return {**outcome, **_readiness(base, ready, args.disconnect)}


def _readiness(base: dict[str, Any], ready: int, disconnect: bool) -> dict[str, Any]:
    if disconnect:
        return {}
    files = len(base.get("files") or [])
    out: dict[str, Any] = {"readyFiles": ready}
    if ready < files:
        out["note"] = f"{files - ready} of {files} file(s) are not ready yet: the assistant answers only from ready ones (get_knowledge_base)."
    out["next"] = "chat_with_assistant with a question the files answer, to check it quotes them."
    return out
