"""The package a newcomer installs: the wheel and sdist PyPI would accept, with every file the server reads
at run time, one version everywhere, and the demo running from the built wheel through uvx and pipx in an
empty directory with an empty HOME."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import vapi_mcp
from tests.package_kit import ROOT, Dist, explain, newcomer_env, run, tool

DEMO_DONE = re.compile(r"Done: \d+ steps, 0 errors\.")


def _tracked_package_files() -> set[str]:
    """Every file of the package in the checkout, as git knows it (what a wheel must carry)."""
    listed = subprocess.run(["git", "ls-files", "vapi_mcp"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return {name for name in listed if "__pycache__" not in name}


def test_wheel_and_sdist_pass_the_checks_pypi_runs(dist: Dist) -> None:
    done = subprocess.run([tool("twine"), "check", "--strict", str(dist.wheel), str(dist.sdist)], capture_output=True, text=True)
    assert done.returncode == 0, explain(done)
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_wheel_carries_every_file_of_the_package(dist: Dist) -> None:
    """Python modules, the MCP Apps confirmation view, py.typed: whatever git tracks under vapi_mcp/ is in the
    wheel (the wheel is built from the sdist, so the sdist holds them too)."""
    in_wheel = dist.wheel_names()
    missing = sorted(_tracked_package_files() - in_wheel)
    assert not missing, f"the wheel lacks files the package ships: {missing}"
    assert "vapi_mcp/guard/confirm.html" in in_wheel
    with zipfile.ZipFile(dist.wheel) as archive:
        view = archive.read("vapi_mcp/guard/confirm.html").decode()
    assert view == (ROOT / "vapi_mcp/guard/confirm.html").read_text(encoding="utf-8")


def test_the_metadata_says_what_pypi_shows(dist: Dist) -> None:
    with zipfile.ZipFile(dist.wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(name).decode())
        licenses = [n for n in archive.namelist() if n.endswith("licenses/LICENSE")]
    assert metadata["Name"] == "vapi-mcp"
    assert metadata["Version"] == vapi_mcp.__version__
    assert metadata["Requires-Python"] == ">=3.11"
    assert metadata["License-Expression"] == "MIT" and licenses, "the licence travels with the wheel"
    assert metadata["Description-Content-Type"] == "text/markdown"
    classifiers = metadata.get_all("Classifier")
    tested = sorted(c.rsplit(" ", 1)[1] for c in classifiers if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    assert tested == ["3.11", "3.12", "3.13"], "the README's supported versions and the classifiers agree"
    assert "mcp-name: " in metadata.get_payload(), "the README (the long description) carries the registry's ownership line"
    with tarfile.open(dist.sdist) as archive:
        names = {Path(n).relative_to(Path(n).parts[0]).as_posix() for n in archive.getnames() if len(Path(n).parts) > 1}
    assert {"LICENSE", "README.md", "server.json", "pyproject.toml", "vapi_mcp/guard/confirm.html"} <= names


def test_the_version_lives_in_one_place() -> None:
    """`vapi_mcp.__version__` is the one place: pyproject reads it, server.json repeats it (the registry wants it
    written there) and this test keeps the two equal, and the command line says it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    done = subprocess.run([sys.executable, "-m", "vapi_mcp", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"vapi-mcp {vapi_mcp.__version__}"


def test_uvx_runs_the_demo_from_the_wheel_in_an_empty_directory(dist: Dist, tmp_path: Path) -> None:
    """The one line of the README, on the wheel instead of the index: `uvx --from <wheel> vapi-mcp demo`."""
    empty, home = tmp_path / "empty", tmp_path / "home"
    empty.mkdir()
    env = newcomer_env(home)
    done = run([tool("uvx"), "--from", str(dist.wheel), "vapi-mcp", "demo"], cwd=empty, env=env)
    assert done.returncode == 0, explain(done)
    assert DEMO_DONE.search(done.stdout), explain(done)
    assert "assistant" in done.stdout and "get_call" in done.stdout
    assert list(empty.iterdir()) == [], "the demo writes nothing into the directory it runs in"


def test_pipx_installs_the_wheel_and_its_command_runs_the_demo(dist: Dist, tmp_path: Path) -> None:
    empty, home = tmp_path / "empty", tmp_path / "home"
    empty.mkdir()
    env = newcomer_env(home)
    env["PIPX_HOME"], env["PIPX_BIN_DIR"] = str(home / ".local" / "pipx"), str(home / ".local" / "bin")
    installed = run([tool("pipx"), "install", str(dist.wheel)], cwd=empty, env=env)
    assert installed.returncode == 0, explain(installed)
    command = home / ".local" / "bin" / "vapi-mcp"
    assert command.exists(), explain(installed)
    version = run([str(command), "--version"], cwd=empty, env=env)
    assert version.stdout.strip() == f"vapi-mcp {vapi_mcp.__version__}", explain(version)
    done = run([str(command), "demo"], cwd=empty, env=env)
    assert done.returncode == 0 and DEMO_DONE.search(done.stdout), explain(done)
