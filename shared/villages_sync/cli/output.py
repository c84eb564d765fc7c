"""What the commands print: progress on stderr, results on stdout (JSON with --json)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO


class ProgressPrinter:
    """One line per stage change on stderr; repeated batch updates overwrite on a terminal."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self._stream = stream or sys.stderr
        self._quiet = quiet
        self._tty = self._stream.isatty()
        self._started = time.monotonic()
        self._last_stage = ""
        self._counts: dict[str, int] = {}

    def __call__(self, stage: str, message: str) -> None:
        if self._quiet:
            return
        elapsed = time.monotonic() - self._started
        if message.startswith("batch of"):
            self._counts[stage] = self._counts.get(stage, 0) + 1
            line = f"[{elapsed:6.1f}s] {stage:<9} {self._counts[stage]} batches ({message})"
            if self._tty:
                self._stream.write("\r\033[K" + line)
                self._stream.flush()
                self._last_stage = stage
                return
            if self._counts[stage] % 25 != 1:
                return  # in a log, every 25th batch is enough
        elif self._tty and self._last_stage:
            self._stream.write("\n")
        self._last_stage = ""
        self._stream.write(f"[{elapsed:6.1f}s] {stage:<9} {message}\n")
        self._stream.flush()

    def done(self) -> None:
        if self._tty and self._last_stage and not self._quiet:
            self._stream.write("\n")
            self._last_stage = ""


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
