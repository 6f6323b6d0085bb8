"""The documents a sandbox assistant answers from besides its prompt: its knowledge bases' files.

Every endpoint that holds a conversation (chat, eval runs, simulations, calls, campaign calls)
asks `documents_for(sb, assistant)` and hands the answer to the conversation engine
(`conversation.Agent(documents=...)`); a call keeps what it was given (`_documents`) so its
conversation, built later, answers from the same texts. The sandbox has no knowledge bases yet,
so there are none: when it has them, this function is the one place that reads an assistant's
(its `model.knowledgeBaseId`, its query tools' knowledge bases) into `{"name", "text"}` objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Sandbox


def documents_for(sb: Sandbox, assistant: Mapping[str, Any]) -> list[dict[str, str]]:
    """The assistant's knowledge-base files as `{"name", "text"}` (JSON, so a call can keep them): none yet."""
    return []
