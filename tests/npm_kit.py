"""A package from the npm registry, installed once at test time into a cache folder kept between runs
(`VAPI_MCP_TEST_CACHE`, default `~/.cache/vapi-mcp-tests`). Without node and npm a test that needs one is
skipped outside CI and fails under CI (`.ci/run` installs both)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest


def cache() -> Path:
    return Path(os.environ.get("VAPI_MCP_TEST_CACHE") or Path.home() / ".cache" / "vapi-mcp-tests")


def npm_installed(package: str, version: str, why: str) -> Path:
    """The folder where `package@version` is installed (once), its `node_modules` inside; `why` says what for."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        reason = f"node and npm are needed {why} ({package} from npm)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; .ci/run installs them and CI must run these tests", pytrace=False)
        pytest.skip(reason)
    folder = cache() / f"{package.strip('@').replace('/', '-')}-{version}"
    if not (folder / "node_modules" / package / "package.json").exists():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text(json.dumps({"name": "vapi-mcp-test-tool", "private": True, "type": "module"}))
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", f"{package}@{version}"], cwd=folder, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            raise AssertionError(f"npm install {package}@{version} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return folder
