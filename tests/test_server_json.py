"""server.json, the official MCP Registry's listing: valid against the registry's published schema, and true
to this package (its name, version, transports, settings, and the README line PyPI ownership needs)."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import vapi_mcp

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests" / "schemas" / "mcp-registry-server-2025-12-11.schema.json"
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
SCHEMA_SHA256 = "3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0"
"""Of the file served at SCHEMA_URL (tests/schemas/README.md says where it comes from)."""


@pytest.fixture(scope="module")
def listing() -> dict[str, Any]:
    return json.loads((ROOT / "server.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    raw = SCHEMA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256, "tests/schemas holds the registry's schema byte for byte"
    schema = json.loads(raw)
    assert schema["$id"] == SCHEMA_URL
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def test_server_json_is_valid_against_the_published_schema(listing: dict[str, Any], validator: jsonschema.Draft7Validator) -> None:
    errors = sorted(validator.iter_errors(listing), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    assert listing["$schema"] == SCHEMA_URL


def test_the_validator_refuses_what_the_registry_refuses(listing: dict[str, Any], validator: jsonschema.Draft7Validator) -> None:
    """The check has teeth: a description over 100 characters, a name without its namespace, or a package
    without its transport are refused."""
    for broken in (
        {**listing, "description": "x" * 101},
        {**listing, "name": "vapi-mcp"},
        {**listing, "packages": [{k: v for k, v in listing["packages"][0].items() if k != "transport"}]},
    ):
        assert not validator.is_valid(broken)


def test_it_lists_the_pypi_package_for_uvx_over_both_transports(listing: dict[str, Any]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert listing["version"] == vapi_mcp.__version__
    transports = set()
    for package in listing["packages"]:
        assert package["registryType"] == "pypi" and package["identifier"] == project["name"]
        assert package["version"] == vapi_mcp.__version__, "server.json repeats vapi_mcp.__version__"
        assert package["runtimeHint"] == "uvx"
        assert package["packageArguments"][0] == {"type": "positional", "value": "serve"}
        transports.add(package["transport"]["type"])
    assert transports == {"stdio", "streamable-http"}
    http = next(p for p in listing["packages"] if p["transport"]["type"] == "streamable-http")
    args = {a.get("name"): a.get("value") for a in http["packageArguments"]}
    assert args["--transport"] == "http"
    assert http["transport"]["url"] == f"http://127.0.0.1:{args['--port']}/mcp", "the URL is where those arguments serve"


def test_every_variable_is_a_setting_of_ours_described_and_secret_when_it_is_one(listing: dict[str, Any]) -> None:
    """A variable the server does not read would mislead a user configuring it from the registry; a key, token,
    secret or URL that may carry a password must be marked secret so clients keep it out of view."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for package in listing["packages"]:
        for variable in package.get("environmentVariables", []):
            name = variable["name"]
            assert f"`{name}" in readme, f"{name} is not in the README's settings table"
            assert variable.get("description"), f"{name} has no description"
            secret = bool(re.search(r"KEY|TOKEN|SECRET|STATE_URL", name))
            assert variable.get("isSecret", False) is secret, f"{name}: isSecret should be {secret}"
        for header in package["transport"].get("headers", []):
            assert header["isSecret"] is True, f"the {header['name']} header carries a credential"


def test_the_readme_carries_the_mcp_name_line_pypi_verification_needs(listing: dict[str, Any]) -> None:
    """The registry checks that the PyPI package's description (our README) says `mcp-name: <name>`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = re.findall(r"mcp-name: (\S+?)(?:\s|-->)", readme)
    assert names == [listing["name"]]
