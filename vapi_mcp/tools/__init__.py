"""Tool families, one module each. `FAMILIES` is the catalogue order of tools/list."""

from __future__ import annotations

from . import calls

FAMILIES = (calls,)
