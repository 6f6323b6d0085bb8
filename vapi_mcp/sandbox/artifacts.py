"""A call's artifacts beyond the transcript: the call log, the SIP packet capture, their downloads, and performance metrics.

`GET /call/{id}/call-logs` answers as Vapi's document says, with a 302 to a short-lived
presigned URL; that URL needs no API key (it is refused, as S3 refuses it, when one is sent
as well) and expires an hour after it was issued, on the sandbox clock. As at Vapi, the URL is on
a storage host of its own (`storage_base`), which this same sandbox serves: a client that follows
the redirect, as Vapi's SDKs do, drops its API key on the way (httpx does across origins). Every ended call has
a log: JSON lines `{"time", "level", "message"}` with the call's progress, its turns' timing,
a warning for a slow turn, and for a call that failed the error that ended it. Ended calls
also carry `artifact.logUrl`, `artifact.presignedLogUrl` with `presignedUrlsExpiresAt`, and,
once they talked, `artifact.performanceMetrics` (turn latencies, deterministic per call). A phone call on a
`vapi` or `byo-phone-number` number (ArtifactPlan.pcapEnabled not false) also has a packet capture:
`artifact.pcapUrl` and `presignedPcapUrl`, and `GET /call/{id}/pcap` redirects to it (a valid pcap file without
packets: the sandbox has no SIP trunk to capture).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import struct
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .clock import iso, parse_iso
from .core import BASE_URL, ApiError, error_response, find, sandbox_of

if TYPE_CHECKING:
    from . import Sandbox

PRESIGNED_PREFIX = "/presigned/"
"""Where presigned downloads are served: no API key, a signature and an expiry in the query."""
STORAGE_PREFIX = "storage."
LOOPBACK_PAIRS = {"127.0.0.1": "localhost", "localhost": "127.0.0.1", "::1": "localhost"}
EXPIRES = timedelta(hours=1)
SLOW_TURN_MS = 1500
PHONE_CALLS = ("outboundPhoneCall", "inboundPhoneCall")
PCAP_PROVIDERS = ("vapi", "byo-phone-number")
"""The numbers whose calls Vapi captures SIP packets of (Artifact.pcapUrl)."""
_KEY = secrets.token_bytes(32)

ERRORS = {
    "call.in-progress.error-providerfault-openai-llm-failed": "OpenAI request failed: 500 Internal Server Error (model {model}). No fallback model configured.",
    "customer-did-not-answer": None,
    "customer-busy": None,
}
"""The error line a failed call's log ends with ({model}: the call's assistant's model); reasons not listed here that
look like errors get a generic one."""


def _sign(path: str, expires: int) -> str:
    return hmac.new(_KEY, f"{path}:{expires}".encode(), hashlib.sha256).hexdigest()


def storage_base(base: str) -> str:
    """The storage origin beside the sandbox at `base`: another origin that reaches this same sandbox.

    `storage.<host>` for a named host (in-process every name reaches the app); on loopback, where a
    served sandbox listens, `localhost` and `127.0.0.1` stand for each other (`::1` becomes `localhost`)."""
    parts = urlsplit(base)
    host = parts.hostname or ""
    if host in LOOPBACK_PAIRS:
        other = LOOPBACK_PAIRS[host]
    elif host.startswith(STORAGE_PREFIX):
        other = host
    else:
        other = STORAGE_PREFIX + host
    netloc = f"{other}:{parts.port}" if parts.port else other
    return urlunsplit((parts.scheme, netloc, "/", "", ""))


def presigned(base: str, path: str, now: datetime) -> tuple[str, datetime]:
    """A presigned download URL for `path` (under PRESIGNED_PREFIX) on the storage host beside `base`, and when it expires."""
    expires = now + EXPIRES
    epoch = int(expires.timestamp())
    query = urlencode({"expires": epoch, "signature": _sign(path, epoch)})
    return f"{storage_base(base).rstrip('/')}{path}?{query}", expires


def _seed(call_id: str, *parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join([call_id, *map(str, parts)]).encode()).digest()[:4], "big")


def performance(call_id: str, messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """PerformanceMetrics for the assistant's answers (every bot turn after the first message)."""
    answers = [m for m in messages if m.get("role") == "bot"][1:]
    if not answers:
        return None
    turns = []
    slow = min(3, len(answers) - 1)  # the fourth answer is slow in every call (the last, in a shorter one)
    for i, _ in enumerate(answers):
        seed = _seed(call_id, i)
        model = 300 + seed % 500 + (1200 if i == slow else 0)
        voice = 120 + (seed >> 9) % 160
        transcriber = 80 + (seed >> 17) % 120
        endpointing = 200 + (seed >> 23) % 150
        turns.append(
            {"modelLatency": model, "voiceLatency": voice, "transcriberLatency": transcriber, "endpointingLatency": endpointing, "turnLatency": model + voice + transcriber + endpointing}
        )
    avg = lambda key: round(sum(t[key] for t in turns) / len(turns), 1)  # noqa: E731
    return {
        "turnLatencies": turns,
        "modelLatencyAverage": avg("modelLatency"),
        "voiceLatencyAverage": avg("voiceLatency"),
        "transcriberLatencyAverage": avg("transcriberLatency"),
        "endpointingLatencyAverage": avg("endpointingLatency"),
        "turnLatencyAverage": avg("turnLatency"),
        "fromTransportLatencyAverage": 21.0,
        "toTransportLatencyAverage": 18.0,
        "numUserInterrupted": 0,
        "numAssistantInterrupted": len(turns) // 8,
    }


def captured(call: dict[str, Any]) -> bool:
    """Whether Vapi keeps a SIP packet capture of the call: a phone call on a `vapi` or `byo-phone-number` number whose
    assistant's `artifactPlan.pcapEnabled` is not false (ArtifactPlan.pcapEnabled, Artifact.pcapUrl)."""
    plan = (call.get("_assistant") or {}).get("artifactPlan") or {}
    return call.get("type") in PHONE_CALLS and call.get("phoneCallProvider") in PCAP_PROVIDERS and plan.get("pcapEnabled") is not False


def decorate(out: dict[str, Any], call: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Add an ended call's log links (and packet capture's, when it has one) and performance metrics to the Call `out` as served at `now`."""
    artifact = out.setdefault("artifact", {})
    url, expires = presigned(BASE_URL.get(), f"{PRESIGNED_PREFIX}call-logs/{call['id']}", now)
    artifact.update(logUrl=f"https://storage.vapi.ai/sandbox/{call['id']}-logs.jsonl", presignedLogUrl=url, presignedUrlsExpiresAt=iso(expires))
    if captured(call):
        pcap, _ = presigned(BASE_URL.get(), f"{PRESIGNED_PREFIX}pcap/{call['id']}", now)
        artifact.update(pcapUrl=f"https://storage.vapi.ai/sandbox/{call['id']}.pcap", presignedPcapUrl=pcap)
    metrics = performance(call["id"], artifact.get("messages") or [])
    if metrics:
        artifact["performanceMetrics"] = metrics
    return out


def log_lines(call: dict[str, Any], model: str = "unknown") -> list[dict[str, Any]]:
    """The call log of an ended call (as served live), oldest first; `model` is its assistant's model."""
    created = parse_iso(call["createdAt"])
    ended = parse_iso(call["endedAt"])
    reason = call.get("endedReason") or ""
    lines: list[tuple[datetime, str, str]] = [
        (created, "info", f"Call {call['id']} created ({call.get('type')}), customer {(call.get('customer') or {}).get('number') or 'web'}"),
        (created, "debug", "Pipeline starting: transcriber, model and voice connected"),
    ]
    if call.get("type") != "webCall":
        lines.append((created + timedelta(seconds=1), "info", "Dialing; ringing"))
    if call.get("startedAt"):
        started = parse_iso(call["startedAt"])
        lines.append((started, "info", "Call answered; assistant speaking first message"))
        metrics = (call.get("artifact") or {}).get("performanceMetrics") or {}
        answers = [m for m in call.get("messages") or [] if m.get("role") == "bot"][1:]
        for i, (turn, message) in enumerate(zip(metrics.get("turnLatencies") or [], answers, strict=False)):
            at = started + timedelta(seconds=message.get("secondsFromStart") or 0)
            lines.append((at, "debug", f"Turn {i + 1}: model {turn['modelLatency']} ms, voice {turn['voiceLatency']} ms, total {turn['turnLatency']} ms"))
            if turn["turnLatency"] > SLOW_TURN_MS:
                lines.append((at, "warn", f"Slow turn {i + 1}: {turn['turnLatency']} ms to answer (model {turn['modelLatency']} ms)"))
    if reason == "customer-did-not-answer":
        lines.append((ended, "warn", "No answer: the callee's phone rang out"))
    elif reason == "customer-busy":
        lines.append((ended, "warn", "Callee busy (SIP 486 Busy Here)"))
    elif reason in ERRORS or "error" in reason or "failed" in reason:
        lines.append((ended, "error", (ERRORS.get(reason) or f"Call failed: {reason}").replace("{model}", model)))
    lines.append((ended, "info", f"Call ended: {reason}"))
    return [{"time": iso(at), "level": level, "message": message} for at, level, message in lines]


def model_of(sb: Sandbox, call: dict[str, Any]) -> str:
    """The model of the call's assistant as it was when the call was made (or the saved one), as its log names it."""
    assistant = call.get("_assistant") or call.get("assistant") or sb.store.assistants.get(call.get("assistantId") or "") or {}
    return str((assistant.get("model") or {}).get("model") or "unknown")


async def call_logs(request: Request) -> Response:
    """GET /call/{id}/call-logs: a 302 to the log's presigned download (404 until the call has ended)."""
    from .calls import live

    sb = sandbox_of(request)
    call = find(sb.store.calls, request, "Call")
    now = sb.now()
    if live(call, now)["status"] != "ended":
        raise ApiError(404, "Artifact not found.")
    url, _ = presigned(str(request.base_url), f"{PRESIGNED_PREFIX}call-logs/{call['id']}", now)
    return RedirectResponse(url, status_code=302)


def _refused(request: Request) -> Response | None:
    """Why a presigned download is refused, as S3 refuses one (a second auth, a bad signature, expired); None if it is good."""
    if request.headers.get("authorization"):
        return JSONResponse({"Code": "InvalidArgument", "Message": "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"}, status_code=400)
    try:
        expires = int(request.query_params.get("expires", ""))
    except ValueError:
        expires = 0
    if not hmac.compare_digest(request.query_params.get("signature", ""), _sign(request.url.path, expires)):
        return JSONResponse({"Code": "SignatureDoesNotMatch", "Message": "The request signature does not match."}, status_code=403)
    if sandbox_of(request).now().timestamp() >= expires:
        return JSONResponse({"Code": "AccessDenied", "Message": "Request has expired"}, status_code=403)
    return None


async def download(request: Request) -> Response:
    """The presigned download of a call log."""
    from .calls import live

    sb = sandbox_of(request)
    refused = _refused(request)
    if refused is not None:
        return refused
    call = sb.store.calls.get(request.path_params["id"])
    if call is None:
        return error_response(404, "Artifact not found.")
    body = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in log_lines(live(call, sb.now()), model_of(sb, call)))
    return Response(body, media_type="application/x-ndjson")


PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
"""A pcap file's global header (libpcap 2.4, Ethernet): the sandbox's capture holds no packets (it has no SIP trunk)."""


async def pcap(request: Request) -> Response:
    """GET /call/{id}/pcap: a 302 to the capture's presigned download, for an ended call that has one; 404 otherwise."""
    from .calls import live

    sb = sandbox_of(request)
    call = find(sb.store.calls, request, "Call")
    now = sb.now()
    if live(call, now, full=False)["status"] != "ended" or not captured(call):
        raise ApiError(404, "Artifact not found.")
    url, _ = presigned(str(request.base_url), f"{PRESIGNED_PREFIX}pcap/{call['id']}", now)
    return RedirectResponse(url, status_code=302)


async def pcap_download(request: Request) -> Response:
    """The presigned download of a packet capture."""
    refused = _refused(request)
    if refused is not None:
        return refused
    if request.path_params["id"] not in sandbox_of(request).store.calls:
        return error_response(404, "Artifact not found.")
    return Response(PCAP_HEADER, media_type="application/vnd.tcpdump.pcap")


routes = [
    Route("/call/{id}/call-logs", call_logs, methods=["GET"]),
    Route("/call/{id}/pcap", pcap, methods=["GET"]),
    Route(PRESIGNED_PREFIX + "call-logs/{id}", download, methods=["GET"]),
    Route(PRESIGNED_PREFIX + "pcap/{id}", pcap_download, methods=["GET"]),
]
