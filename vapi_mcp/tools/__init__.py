"""Tool families, one module each. `FAMILIES` is the catalogue order of tools/list."""

from __future__ import annotations

from . import analytics, assistants, calls, campaigns, chat, evals, numbers, simulations, structured_outputs, vapi_tools

FAMILIES = (calls, chat, numbers, assistants, vapi_tools, evals, simulations, structured_outputs, campaigns, analytics)
