"""The documents a sandbox assistant answers from besides its prompt: the files its knowledge bases hold.

Every endpoint that holds a conversation (chat, eval runs, simulations, calls, campaign calls)
asks `documents_for(sb, assistant)` and hands the answer to the conversation engine
(`conversation.Agent(documents=...)`); a call keeps what it was given (`_documents`) so its
conversation, built later, answers from the same texts.

An assistant reaches files the ways Vapi's document gives it, through the tools of its model (`model.toolIds`
and inline `model.tools`):

- a `knowledgeBase` tool (the search tool each /v2/knowledge-base gets, `knowledgeBaseId`): the base's files
  that are indexed (`ready`);
- a `query` tool: the `fileIds` of each of its `knowledgeBases`, when the file is processed (`done`).

A model's `knowledgeBase` (CreateCustomKnowledgeBaseDTO) is a server of the user's that Vapi asks at call time;
the sandbox calls no one, so it reads nothing there. Each file is one document, named by the file's name, read
once however many tools reach it, in the order the tools name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import files, knowledge_bases

if TYPE_CHECKING:
    from . import Sandbox


def tools_of(sb: Sandbox, assistant: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The assistant's tools: the saved ones its model names (`toolIds`, in order), then its inline ones."""
    model = assistant.get("model") if isinstance(assistant.get("model"), Mapping) else {}
    found: list[Mapping[str, Any]] = []
    for ident in (model or {}).get("toolIds") or []:
        tool = sb.store.tools.get(ident) if isinstance(ident, str) else None
        if tool is not None:
            found.append(tool)
    found += [tool for tool in (model or {}).get("tools") or [] if isinstance(tool, Mapping)]
    return found


def file_ids(sb: Sandbox, assistant: Mapping[str, Any]) -> list[str]:
    """The ids of the files the assistant's tools reach, each once, in the order the tools name them."""
    out: list[str] = []
    for tool in tools_of(sb, assistant):
        if tool.get("type") == "knowledgeBase" and isinstance(tool.get("knowledgeBaseId"), str):
            if tool["knowledgeBaseId"] in sb.store.knowledge_bases:
                out += knowledge_bases.ready_file_ids(sb, tool["knowledgeBaseId"])
        elif tool.get("type") == "query":
            for base in tool.get("knowledgeBases") or []:
                out += [i for i in (base.get("fileIds") if isinstance(base, Mapping) else None) or [] if isinstance(i, str)]
    return list(dict.fromkeys(out))


def documents_for(sb: Sandbox, assistant: Mapping[str, Any]) -> list[dict[str, str]]:
    """The assistant's knowledge-base files as `{"name", "text"}` (JSON, so a call can keep them): those whose text
    the sandbox read (see `files`), in the order its tools reach them."""
    out = []
    for ident in file_ids(sb, assistant):
        text = files.text_of(sb, ident)
        if text is not None:
            file = sb.store.files.get(ident) or {}
            out.append({"name": str(file.get("name") or ident), "text": text})
    return out
