"""The `villages-sync` command run as a user runs it: a subprocess of this interpreter."""

from __future__ import annotations

import subprocess
import sys

CLI = [sys.executable, "-m", "villages_sync_ops.cli.main"]


def run_cli(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
