"""Calls: list, inspect (the call family's issue completes this module)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..client import vapi_id
from .base import Args, ToolContext, ToolGroup

tools = ToolGroup()

Timestamp = str


class ListCallsArgs(Args):
    assistantId: str | None = Field(None, description="Only calls of this assistant.")
    phoneNumberId: str | None = Field(None, description="Only calls through this phone number.")
    createdAtGt: Timestamp | None = None
    createdAtLt: Timestamp | None = None
    createdAtGe: Timestamp | None = Field(None, description="ISO 8601; likewise createdAtGt/Lt/Le and updatedAt*.")
    createdAtLe: Timestamp | None = None
    updatedAtGt: Timestamp | None = None
    updatedAtLt: Timestamp | None = None
    updatedAtGe: Timestamp | None = None
    updatedAtLe: Timestamp | None = None
    limit: int = Field(20, ge=1, le=1000, description="Most recent first.")


class GetCallArgs(Args):
    id: str = Field(description="The call id.")
    include: list[Literal["transcript", "analysis", "recording", "cost", "raw"]] | None = Field(
        None, description="Only these parts (default: all but raw). 'raw' returns Vapi's whole object."
    )

    local_fields = frozenset({"include"})


def _seconds(call: dict[str, Any]) -> float | None:
    from datetime import datetime

    started, ended = call.get("startedAt"), call.get("endedAt")
    if not (started and ended):
        return None
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return round((parse(ended) - parse(started)).total_seconds(), 1)


def call_row(call: dict[str, Any]) -> dict[str, Any]:
    """One compact line per call for list results."""
    customer = call.get("customer") or {}
    row = {
        "id": call.get("id"),
        "status": call.get("status"),
        "type": call.get("type"),
        "customer": customer.get("number") or customer.get("name"),
        "assistantId": call.get("assistantId"),
        "startedAt": call.get("startedAt"),
        "seconds": _seconds(call),
        "endedReason": call.get("endedReason"),
        "cost": call.get("cost"),
    }
    return {k: v for k, v in row.items() if v is not None}


def call_view(call: dict[str, Any], include: list[str] | None = None) -> dict[str, Any]:
    """The compact view of one call: its transcript once, as turns."""
    if include and "raw" in include:
        return {"call": call}
    parts = set(include or ("transcript", "analysis", "recording", "cost"))
    view = call_row(call)
    view["createdAt"] = call.get("createdAt")
    view["phoneNumberId"] = call.get("phoneNumberId")
    view["endedAt"] = call.get("endedAt")
    if "transcript" in parts:
        turns = [
            {"role": m.get("role"), "text": m.get("message")}
            for m in (call.get("messages") or (call.get("artifact") or {}).get("messages") or [])
            if m.get("role") in ("assistant", "bot", "user") and m.get("message")
        ]
        if turns:
            view["transcript"] = [{"role": "assistant" if t["role"] == "bot" else t["role"], "text": t["text"]} for t in turns]
    if "recording" in parts:
        artifact = call.get("artifact") or {}
        recording = artifact.get("recording") or {}
        urls = {
            "recordingUrl": artifact.get("recordingUrl") or recording.get("stereoUrl"),
            "stereoRecordingUrl": artifact.get("stereoRecordingUrl"),
        }
        urls = {k: v for k, v in urls.items() if v}
        if urls:
            view["recording"] = urls
    if "analysis" in parts:
        analysis = call.get("analysis") or {}
        picked = {k: analysis[k] for k in ("summary", "successEvaluation", "structuredData") if analysis.get(k) is not None}
        if picked:
            view["analysis"] = picked
    if "cost" in parts and call.get("costBreakdown"):
        view["costBreakdown"] = {k: v for k, v in call["costBreakdown"].items() if isinstance(v, int | float) and v}
    return {k: v for k, v in view.items() if v is not None}


@tools.tool(title="List calls", read_only=True)
async def list_calls(args: ListCallsArgs, call: ToolContext) -> dict[str, Any]:
    """List recent Vapi calls, newest first, one compact row each (id, status, type, customer,
    assistant, start, seconds, endedReason, cost). Filter by assistant, phone number or
    createdAt/updatedAt range. Use get_call for a transcript."""
    for name in ("assistantId", "phoneNumberId"):
        if getattr(args, name):
            vapi_id(getattr(args, name), name)
    calls = await call.vapi.get("/call", params=args.body())
    return {"calls": [call_row(c) for c in calls], "count": len(calls)}


@tools.tool(title="Get call", read_only=True)
async def get_call(args: GetCallArgs, call: ToolContext) -> dict[str, Any]:
    """Get one call: status, endedReason, duration, transcript (once, as turns), recording URLs,
    summary and analysis, cost breakdown. Narrow it with `include`, e.g. ["transcript"]."""
    data = await call.vapi.get(f"/call/{vapi_id(args.id)}")
    return call_view(data, args.include)
