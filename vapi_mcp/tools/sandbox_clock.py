"""The sandbox's clock: move it forward so scheduled calls, campaigns and simulations run now.

Offered only on the embedded sandbox (`sandbox_only`): with a real Vapi key the tool does not
exist. It sends the sandbox's own control request (`POST /sandbox/clock`, outside Vapi's API);
it dials nothing itself, so it is not a guarded action.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from ..errors import InputError, VapiMCPError
from ..guard import target_of
from .base import Args, ToolContext, ToolGroup

toolset = "calls"
tools = ToolGroup()

CLOCK_PATH = "/sandbox/clock"


class AdvanceClockArgs(Args):
    advanceSeconds: float | None = Field(None, gt=0, allow_inf_nan=False, description="Seconds forward (86400 = a day).")
    to: datetime | None = Field(None, description="Or the time to move to (ISO 8601), e.g. a call's schedulePlan.earliestAt.")


@tools.tool(title="Advance sandbox clock", read_only=False, open_world=False, sandbox_only=True, sends=(f"POST {CLOCK_PATH}",))
async def advance_sandbox_clock(args: AdvanceClockArgs, call: ToolContext) -> dict[str, Any]:
    """Sandbox only: move the sandbox clock forward (never back) so scheduled calls, campaigns and
    simulations run now; says what started."""
    if target_of(call.vapi) != "sandbox":
        raise VapiMCPError(
            "advance_sandbox_clock moves the embedded sandbox's clock only, and this request works on a real Vapi account "
            "(its X-Vapi-Key), whose clock nobody can move. Nothing was sent.",
            hint="Wait for the scheduled time, or delete the scheduled call and place it now.",
        )
    if (args.advanceSeconds is None) == (args.to is None):
        raise InputError("advanceSeconds", "give either advanceSeconds or to, not both")
    return await call.send("POST", CLOCK_PATH, args.body(), args=args, summary="Move the sandbox clock forward.")
