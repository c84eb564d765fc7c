"""The `villages-sync` command run as a user runs it: a subprocess of this interpreter.

A command that outlives its timeout fails the test with where it hung: its own threads'
stacks (Python's fault handler, on SIGABRT) and this process's (the session's moto server runs
in threads here), so a hang seen once under load can be read rather than guessed at.
"""

from __future__ import annotations

import collections
import json
import signal
import subprocess
import sys
import threading
import traceback
from pathlib import Path

CLI = [sys.executable, "-m", "villages_sync_ops.cli.main"]


class CliHung(AssertionError):
    """The command did not end within its timeout; the message holds both sides' stacks."""


def run_cli(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    command = [*CLI, *args]
    process = subprocess.Popen(
        command,
        env={**env, "PYTHONFAULTHANDLER": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        here = this_process_stacks()
        process.send_signal(signal.SIGABRT)
        try:
            stdout, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        raise CliHung(
            f"{' '.join(args)} did not end within {timeout:.0f} s.\n"
            f"--- its stderr (the fault handler's stacks last) ---\n{stderr[-20000:]}\n"
            f"--- the test process's threads (the moto server's among them) ---\n{here}\n"
            f"--- its functions' log lines ---\n{function_log_summary(env)}\n"
            f"--- processes ---\n{_processes()}"
        ) from None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def this_process_stacks() -> str:
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    return "\n".join(
        f"Thread {names.get(ident, ident)}:\n{''.join(traceback.format_stack(frame))}"
        for ident, frame in sys._current_frames().items()
    )


def function_log_summary(env: dict[str, str]) -> str:
    """The run logs the command wrote under its home: lines by function and message, and the
    last few lines whole."""
    home = env.get("VILLAGES_SYNC_HOME")
    logs = sorted(Path(home, "logs", "runs").glob("*.jsonl")) if home else []
    lines = [line for log in logs for line in log.read_text(errors="replace").splitlines()]
    counts: collections.Counter[str] = collections.Counter()
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        counts[f"{record.get('service')}: {record.get('message')}"] += 1
    return "\n".join([f"{n:6d}  {what}" for what, n in counts.most_common(30)] + lines[-15:])


def _processes() -> str:
    listing = subprocess.run(
        ["ps", "-eo", "pid,ppid,etimes,pcpu,args"], capture_output=True, text=True, check=False
    ).stdout
    return "\n".join(line[:200] for line in listing.splitlines() if "villages_sync" in line)
