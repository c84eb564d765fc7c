"""Running the command under a pseudo-terminal of a given size, as a person at tmux would."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time

from support.cli import CLI

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def run_in_terminal(
    *args: str, env: dict[str, str], columns: int = 80, rows: int = 24, timeout: float = 180
) -> tuple[int, str]:
    """Exit code and what the terminal showed (escape sequences removed, lines split on CR/LF)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    process = subprocess.Popen(
        [*CLI, *args],
        env={**env, "COLUMNS": str(columns), "LINES": str(rows), "TERM": "xterm"},
        stdin=follower, stdout=follower, stderr=follower,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            elif process.poll() is not None:
                break
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    return code, _ANSI.sub("", seen.decode("utf-8", "replace")).replace("\r\n", "\n")
