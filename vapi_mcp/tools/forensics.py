"""Why a call went wrong: its log summarised, its turn latencies, and links to its recordings and log.

`get_call` adds these on request (`include: ["logs", "latency"]`). The log comes from
`GET /call/{id}/call-logs`, which Vapi answers with a redirect to a presigned URL
(`VapiClient.download` follows it without the API key). Vapi's document does not describe the
log's format, so lines are read as JSON (`level`/`severity`, `time`/`timestamp`,
`message`/`msg`) or, failing that, as text with a level word (ERROR, WARN).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import VapiError, VapiMCPError
from .base import Link, Linked

if TYPE_CHECKING:
    from .base import ToolContext

PROBLEMS_SHOWN = 20
LAST_LINES = 8
MESSAGE_CHARS = 300
TURNS_SHOWN = 50

_LEVELS = {"warning": "warn", "err": "error", "fatal": "error", "critical": "error", "crit": "error", "emerg": "error", "alert": "error"}
_PINO = {10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "error"}
_TEXT_LEVEL = re.compile(r"\b(ERROR|ERR|FATAL|CRITICAL|WARN(?:ING)?|INFO|DEBUG|TRACE)\b", re.IGNORECASE)
_TEXT_TIME = re.compile(r"^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\]?\s*")


def _level(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _PINO.get(int(value) // 10 * 10, "info")
    text = str(value or "info").strip().lower()
    return _LEVELS.get(text, text)


def log_entry(line: str) -> dict[str, str]:
    """One log line as {time, level, message}."""
    try:
        data = json.loads(line)
    except ValueError:
        data = None
    if isinstance(data, dict):
        level = next((data[k] for k in ("level", "severity", "levelname", "lvl") if k in data), "info")
        when = next((data[k] for k in ("time", "timestamp", "ts", "@timestamp", "t") if k in data), "")
        message = next((data[k] for k in ("message", "msg", "text", "log") if k in data), None)
        text = message if isinstance(message, str) else json.dumps(data, ensure_ascii=False)
        return {"time": str(when), "level": _level(level), "message": text[:MESSAGE_CHARS]}
    time_match = _TEXT_TIME.match(line)
    level_match = _TEXT_LEVEL.search(line)
    return {
        "time": time_match.group(1) if time_match else "",
        "level": _level(level_match.group(1)) if level_match else "info",
        "message": line[time_match.end() if time_match else 0 :].strip()[:MESSAGE_CHARS],
    }


def _shown(entry: dict[str, str]) -> str:
    return " ".join(part for part in (entry["time"], entry["level"].upper(), entry["message"]) if part)


def summarize_log(text: str) -> dict[str, Any]:
    """Errors and warnings with their times, and the last lines: what an agent reads first when a call failed."""
    entries = [log_entry(line) for line in text.splitlines() if line.strip()]
    errors = [e for e in entries if e["level"] == "error"]
    warnings = [e for e in entries if e["level"] == "warn"]
    problems = [e for e in entries if e["level"] in ("error", "warn")]
    out: dict[str, Any] = {"lines": len(entries), "errors": len(errors), "warnings": len(warnings)}
    if problems:
        out["problems"] = [_shown(e) for e in problems[:PROBLEMS_SHOWN]]
        if len(problems) > PROBLEMS_SHOWN:
            out["problems"].append(f"... and {len(problems) - PROBLEMS_SHOWN} more")
    out["last"] = [_shown(e) for e in entries[-LAST_LINES:]]
    return out


async def logs_part(call: ToolContext, data: dict[str, Any]) -> dict[str, Any]:
    """The call log, summarised; a note instead when there is none (yet)."""
    if data.get("status") != "ended":
        return {"note": f"Vapi writes the call log when the call ends (status now: {data.get('status')})."}
    try:
        text = await call.vapi.download(f"/call/{data['id']}/call-logs")
    except VapiError as exc:
        if exc.status == 404:
            return {"note": "Vapi has no log for this call (Artifact not found). Logs are kept when the assistant's artifactPlan.loggingEnabled is on."}
        return {"error": exc.text()}
    except VapiMCPError as exc:
        return {"error": exc.text()}
    return summarize_log(text)


def latency_part(data: dict[str, Any]) -> dict[str, Any]:
    """performanceMetrics, compact: averages in ms, each turn's total, the slowest turns broken down."""
    metrics = (data.get("artifact") or {}).get("performanceMetrics")
    if not isinstance(metrics, dict):
        return {"note": "Vapi recorded no performanceMetrics for this call (it may not have connected, or not ended yet)."}
    averages = {
        name: round(metrics[f"{name}LatencyAverage"])
        for name in ("turn", "model", "voice", "transcriber", "endpointing")
        if isinstance(metrics.get(f"{name}LatencyAverage"), int | float)
    }
    turns = [t for t in metrics.get("turnLatencies") or [] if isinstance(t, dict)]
    out: dict[str, Any] = {"averageMs": averages, "turns": len(turns)}
    totals = [t.get("turnLatency") for t in turns]
    if turns:
        out["turnMs"] = [round(v) if isinstance(v, int | float) else None for v in totals[:TURNS_SHOWN]]
        timed = {i: v for i, v in enumerate(totals) if isinstance(v, int | float)}
        ranked = sorted(timed, key=lambda i: -timed[i])[:3]
        out["slowest"] = [
            {
                "turn": i + 1,
                "ms": round(timed[i]),
                **{k.removesuffix("Latency"): round(v) for k, v in turns[i].items() if k != "turnLatency" and isinstance(v, int | float)},
            }
            for i in ranked
        ]
    interruptions = {k: metrics[k] for k in ("numUserInterrupted", "numAssistantInterrupted") if metrics.get(k) is not None}
    if interruptions:
        out["interruptions"] = interruptions
    return out


LINKS = (
    # (presigned field, stable field, name, mime type, part of the view it belongs to)
    ("presignedMonoUrl", "recordingUrl", "recording", "audio/wav", "recording"),
    ("presignedStereoUrl", "stereoRecordingUrl", "stereo recording", "audio/wav", "recording"),
    ("presignedLogUrl", "logUrl", "call log", "application/x-ndjson", "logs"),
    ("presignedPcapUrl", "pcapUrl", "packet capture", "application/vnd.tcpdump.pcap", "pcap"),
)
PCAP_MIME = "application/vnd.tcpdump.pcap"


def links(data: dict[str, Any], parts: set[str]) -> list[Link]:
    """Recording and log links; a presigned one says when it expires."""
    artifact = data.get("artifact") or {}
    expires = artifact.get("presignedUrlsExpiresAt")
    out = []
    for presigned, stable, name, mime, part in LINKS:
        if part not in parts:
            continue
        if artifact.get(presigned):
            out.append(Link(artifact[presigned], name, f"The {name} of call {data.get('id')}; this link expires at {expires} (get_call again for a fresh one).", mime))
        elif artifact.get(stable):
            out.append(Link(artifact[stable], name, f"The {name} of call {data.get('id')} (Vapi's stable URL; no expiry given).", mime))
    return out


async def pcap_part(call: ToolContext, data: dict[str, Any]) -> tuple[dict[str, Any], list[Link]]:
    """The SIP packet capture (for SIP and transfer failures): a link from the call's artifact, or else the one
    `GET /call/{id}/pcap` redirects to (handed on, never fetched); a note when Vapi has none."""
    artifact = data.get("artifact") or {}
    if artifact.get("presignedPcapUrl") or artifact.get("pcapUrl"):
        return {"note": "The packet capture is linked below (open it with Wireshark)."}, []
    if data.get("status") != "ended":
        return {"note": f"Vapi keeps the packet capture when the call ends (status now: {data.get('status')})."}, []
    try:
        url = await call.vapi.redirect(f"/call/{data['id']}/pcap")
    except VapiError as exc:
        if exc.status == 404:
            return {"note": PCAP_NONE}, []
        return {"error": exc.text()}, []
    except VapiMCPError as exc:
        return {"error": exc.text()}, []
    description = f"The SIP packet capture of call {data.get('id')}; a short-lived presigned link (get_call again for a fresh one)."
    return {"note": "The packet capture is linked below (open it with Wireshark)."}, [Link(url, "packet capture", description, PCAP_MIME)]


PCAP_NONE = (
    "Vapi has no packet capture for this call: it keeps one for phone calls on a vapi or byo-phone-number number, "
    "unless the assistant's artifactPlan.pcapEnabled is false."
)


async def add(view: dict[str, Any], data: dict[str, Any], include: Sequence[str] | None, call: ToolContext) -> dict[str, Any] | Linked:
    """`view` with the forensic parts `include` asks for, and recording/log/packet-capture links when those parts are shown."""
    parts = set(include or ("transcript", "analysis", "recording", "cost"))
    extra: list[Link] = []
    if "logs" in parts:
        view["logs"] = await logs_part(call, data)
    if "latency" in parts:
        view["latency"] = latency_part(data)
    if "pcap" in parts:
        view["pcap"], extra = await pcap_part(call, data)
    found = links(data, parts) + extra
    if not found:
        return view
    artifact = data.get("artifact") or {}
    if any(link.uri == artifact.get(presigned) for link in found for presigned, *_ in LINKS):
        view["linksExpireAt"] = artifact.get("presignedUrlsExpiresAt")
    return Linked(view, found)
