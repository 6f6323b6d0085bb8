"""Sandbox routes for Vapi tools (/tool), built by the tools family."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import Route

if TYPE_CHECKING:
    from . import Sandbox


def routes(sb: Sandbox) -> list[Route]:
    return []
