"""Building the distribution and running it the way a newcomer would: from an empty directory, with an empty HOME.

The wheel is built once per test session (`python -m build`: the sdist first, then the wheel from the
sdist, so a file missing from the sdist is missing from the wheel too). uv and pipx come from the test
extras; they resolve the wheel's dependencies from the package index this machine's pip and uv use
(PyPI, or what `PIP_INDEX_URL` / `UV_INDEX_URL` name), never from the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
"""The test environment's scripts: `uv`, `uvx`, `pipx`, `twine` are installed there by the test extras."""


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path

    def wheel_names(self) -> set[str]:
        with zipfile.ZipFile(self.wheel) as archive:
            return set(archive.namelist())


def build(out: Path) -> Dist:
    """`python -m build` of the checkout into `out`: an sdist, then the wheel built from that sdist."""
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], capture_output=True, text=True, timeout=600, env=_build_env()
    )
    if done.returncode != 0:
        raise AssertionError(f"python -m build failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, f"expected one wheel and one sdist in {out}: {sorted(p.name for p in out.iterdir())}"
    return Dist(wheels[0], sdists[0])


def _build_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def tool(name: str) -> str:
    """The path of a command-line tool installed by the test extras (uv, uvx, pipx, twine)."""
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        raise AssertionError(f"{name} is not installed; it comes with the test extras: pip install -e '.[test]'")
    return found


def newcomer_env(home: Path) -> dict[str, str]:
    """The environment of a newcomer's shell: an empty HOME (no caches, no config of ours), nothing of the
    test session's (no virtual environment, no XDG folders pointing elsewhere), this machine's package index.

    uv and pipx keep their tools, caches and Python downloads under HOME. uv may not download a Python
    (only the registries are reachable here): it uses the interpreter running the tests."""
    home.mkdir(parents=True, exist_ok=True)
    keep = ("PATH", "LANG", "LC_ALL", "TERM", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY")
    env = {k: v for k, v in os.environ.items() if k in keep or k.startswith(("PIP_", "UV_INDEX", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX"))}
    env["HOME"] = str(home)
    env["PATH"] = f"{home / '.local' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["UV_PYTHON"] = sys.executable
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["PIPX_DEFAULT_PYTHON"] = sys.executable
    return env


def run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a command with no standard input (as an MCP client or CI would) and its output captured."""
    return subprocess.run(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def explain(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n--- stdout ---\n{done.stdout[-3000:]}\n--- stderr ---\n{done.stderr[-3000:]}"
