"""vapi tools tools (built by this family's issue)."""

from __future__ import annotations

from .base import ToolGroup

tools = ToolGroup()
