"""Scenario 6: import time of each handler module (a fresh interpreter each time) and the size of
each deployment artifact (tools/package.py --json)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import median

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = ("producers.scrape_handler", "consumers.upsert_handler", "consumers.sweep_handler")


def import_ms(module: str) -> tuple[float, list[str]]:
    """Cumulative import time of ``module`` (ms) and which of aiohttp/bs4 it loaded."""
    code = (
        f"import sys, {module}; print(' '.join(m for m in ('aiohttp', 'bs4') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    pattern = re.compile(rf"^import time:\s+\d+ \|\s+(\d+) \| {re.escape(module)}$", re.M)
    match = pattern.search(done.stderr)
    if match is None:
        raise RuntimeError(f"no importtime line for {module}")
    return int(match.group(1)) / 1000, done.stdout.split()


def measure_imports(runs: int) -> dict[str, tuple[float, list[str]]]:
    figures = {}
    for module in HANDLERS:
        samples = [import_ms(module) for _ in range(runs)]
        figures[module] = (median([ms for ms, _ in samples]), samples[0][1])
    return figures


def artifact_sizes() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-package-") as out:
        done = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "package.py"), "--json", "--out", out],
            capture_output=True,
            text=True,
            timeout=300,
        )
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"tools/package.py failed: {done.stderr[-500:]}")
    return json.loads(done.stdout)
