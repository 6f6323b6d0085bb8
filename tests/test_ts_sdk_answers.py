"""The sandbox answers Vapi's own TypeScript server SDK (`@vapi-ai/server-sdk` from npm), a client no one here wrote.

`tests/tssdk/drive.mjs` (Node, no bundler) drives every resource the SDK and the sandbox share through the
SDK's methods, with the bodies its request types declare, against the sandbox served on loopback. The SDK
(2.x) returns answers unvalidated, so the driver holds each answer to the type the method declares, read
from the SDK's own `.d.mts` files (`tests/tssdk/shapes.mjs`): required properties, JSON types, enum
values. Each call is one check; a refusal by the sandbox, an error of the SDK or an answer of another
shape fails here, naming the method and what went wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from tests.loopback import on_loopback
from tests.npm_kit import npm_installed
from vapi_mcp.sandbox import Sandbox

VERSION = "2.0.1"
DRIVER = Path(__file__).parent / "tssdk" / "drive.mjs"


@pytest.fixture(scope="module")
def sdk() -> Path:
    return npm_installed("@vapi-ai/server-sdk", VERSION, "to drive the sandbox with Vapi's TypeScript SDK")


async def drive(sdk: Path, sandbox: Sandbox) -> list[dict]:
    async with on_loopback(sandbox.app) as base:
        with anyio.fail_after(300):
            done = await anyio.run_process(["node", str(DRIVER), str(sdk), base], check=False)
    checks = [json.loads(line) for line in done.stdout.decode().splitlines() if line.startswith("{")]
    assert checks, f"the driver printed no check (exit {done.returncode}): {done.stderr.decode()[-2000:]}"
    return checks


async def test_every_ts_sdk_call_is_answered_in_the_shape_the_sdk_declares(sdk: Path, sandbox: Sandbox) -> None:
    checks = await drive(sdk, sandbox)
    failed = [f"{c['method']}: {c['error']}" for c in checks if not c["ok"]]
    assert len(checks) >= 140, f"only {len(checks)} checks ran"
    assert not failed, f"{len(failed)} of {len(checks)} TypeScript SDK calls failed:\n" + "\n".join(failed)
