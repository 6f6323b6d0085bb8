"""Record what a real MCP client sends a stdio server: `python bench/record.py LOG -- COMMAND...`.

Register this as the stdio server of the client to observe (for Claude Code:
`claude mcp add-json -s user probe '{"type":"stdio","command":"python","args":["bench/record.py",
"/tmp/session.jsonl","--","python","-m","vapi_mcp","serve"]}'`, then `claude mcp list` or
`claude -p hi`). It starts COMMAND, relays every line both ways unchanged, and appends each to
LOG as `{"t_ms", "dir", "line"}`. bench/handshakes/*.json were made from such recordings.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time


def main() -> int:
    log_path, command = sys.argv[1], sys.argv[sys.argv.index("--") + 1 :]
    began = time.monotonic()
    lock = threading.Lock()
    with open(log_path, "a") as log:

        def note(direction: str, line: bytes) -> None:
            entry = {"t_ms": round((time.monotonic() - began) * 1000, 1), "dir": direction, "line": line.decode("utf-8", "replace").rstrip("\n")}
            with lock:
                log.write(json.dumps(entry) + "\n")
                log.flush()

        note("start", " ".join(command).encode())
        server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert server.stdin is not None and server.stdout is not None

        def relay_out() -> None:
            for line in server.stdout:  # type: ignore[union-attr]
                note("server->client", line)
                sys.stdout.buffer.write(line)
                sys.stdout.buffer.flush()
            note("server-eof", b"")

        threading.Thread(target=relay_out, daemon=True).start()
        for line in sys.stdin.buffer:
            note("client->server", line)
            server.stdin.write(line)
            server.stdin.flush()
        note("client-eof", b"")
        server.stdin.close()
        code = server.wait()
        note("exit", str(code).encode())
        return code


if __name__ == "__main__":
    sys.exit(main())
