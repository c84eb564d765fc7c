"""What the commands print: progress on stderr, results on stdout (JSON with --json).

Tables and the live progress line come from ``rich``, which fits them to the terminal's width
(``COLUMNS`` when set, 80 when stdout is not a terminal). Without a terminal the output is plain
lines: no colour, no borders, no redrawn lines. ``rich`` is a command-line dependency only: the
Lambda handlers never import this module (tests/unit/test_handler_imports.py).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from villages_sync_ops.cli.interrupts import OutputClosed, close_stream

PLAIN_EVERY_SECONDS = 5.0  # without a terminal: one progress line per stage this often at most


_CLOSED: list[str] = []  # the streams whose reader went away, in the order found


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """A closed pipe stops the command as an interruption (a sync marks its run), the same
        for every command; later writes go to /dev/null."""
        close_stream(self.file)
        _CLOSED.append(getattr(self.file, "name", "output"))
        raise OutputClosed


def output_closed() -> bool:
    """Whether a reader went away, even where the write that found it was not on this thread
    (a live display refreshes from its own)."""
    return bool(_CLOSED)


PIPED_WIDTH = 100_000  # no terminal: nothing is folded or cut (grep, jq and cut see whole lines)


def stdout_console() -> Console:
    console = _Console(file=sys.stdout, highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = PIPED_WIDTH
    return console


class ProgressPrinter:
    """Stage messages as lines on stderr; batch counts (``N/M messages``) as a live bar on a
    terminal, or as a line every few seconds (and the last one) in a log."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self._stream = stream or sys.stderr
        self._quiet = quiet
        self._console = _Console(file=self._stream, highlight=False)
        self._tty = self._console.is_terminal
        self._started = time.monotonic()
        self._progress: Progress | None = None
        self._tasks: dict[str, Any] = {}
        self._last_plain: dict[str, float] = {}

    def __call__(self, stage: str, message: str) -> None:
        """A stage's message; ``count(stage, done, total)`` is for batch progress."""
        if output_closed():
            raise OutputClosed
        if self._quiet:
            return
        line = f"[{self.elapsed():6.1f}s] {stage:<9} {message}"
        if self._progress is not None:
            self._progress.console.print(line, highlight=False, markup=False)
        else:
            self._console.print(line, highlight=False, markup=False)

    def count(self, stage: str, done: int, total: int | None, failed: int = 0) -> None:
        if output_closed():
            raise OutputClosed
        if self._quiet:
            return
        of = f"{done}/{total}" if total else str(done)
        text = f"{of} messages" + (f", {failed} failed" if failed else "")
        if not self._tty:
            now = time.monotonic()
            finished = total is not None and done >= total
            if finished or now - self._last_plain.get(stage, 0.0) >= PLAIN_EVERY_SECONDS:
                self._last_plain[stage] = now
                self(stage, text)
            return
        if self._progress is None:
            self._progress = Progress(
                TextColumn("{task.description:<9}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TextColumn("messages"),
                # No elapsed-time column: the bar's clock started at its first batch, the
                # summary's stage time at the stage's start, and the two disagreed on screen.
                console=self._console,
                redirect_stdout=False,
                redirect_stderr=False,
                transient=False,
            )
            self._progress.start()
        # A stage with no known total (the sweep) shows its count, not "1/?".
        total = total if total is not None else done
        task = self._tasks.get(stage)
        if task is None:
            task = self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(task, completed=done, total=total)

    def retry(self, attempt: Any, wait: Any, problem: str) -> None:
        try:
            wait_text = f"{float(wait):.1f} s"
        except (TypeError, ValueError):
            wait_text = str(wait)
        self("retry", f"attempt {attempt} failed, next in {wait_text}: {problem[:24]}")

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def done(self) -> None:
        """Stop the live bar (quietly when its reader is gone: an interruption's bookkeeping
        comes next and must not be cut short)."""
        if self._progress is not None:
            progress, self._progress = self._progress, None
            self._tasks.clear()
            with contextlib.suppress(OutputClosed):
                progress.stop()


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


class _TextTable(Table):
    """A table whose cells are text, never markup: a calendar title like ``Bingo [/b] night``
    prints as it is (rich would fail on it), and ``[link=…]`` hides nothing."""

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        super().add_row(
            *(Text(cell) if isinstance(cell, str) else cell for cell in renderables), **kwargs
        )


def table(
    headers: Sequence[str], *, numeric: Sequence[str] = (), wrap: Sequence[str] = ()
) -> Table:
    """A table that fits the console: boxed on a terminal, bare aligned columns otherwise.
    Columns in ``wrap`` fold their text when the width runs out; the others stay on one line."""
    console = stdout_console()
    grid = _TextTable(
        box=box.SIMPLE_HEAD if console.is_terminal else None,
        show_edge=False,
        pad_edge=False,
        header_style="bold" if console.is_terminal else "",
        padding=(0, 1),
    )
    for header in headers:
        grid.add_column(
            header,
            justify="right" if header in numeric else "left",
            no_wrap=header not in wrap,
            overflow="fold" if header in wrap else "ellipsis",
        )
    return grid


def print_table(grid: Table) -> None:
    """On a terminal, fitted to its width; otherwise plain aligned columns, whole cells and no
    trailing spaces (what ``kubectl get`` prints into a pipe)."""
    console = stdout_console()
    if console.is_terminal:
        console.print(grid)
        return
    for line in plain_table_lines(grid):
        console.print(Text(line), overflow="ignore", crop=False)


def plain_table_lines(grid: Table) -> list[str]:
    columns = grid.columns
    headers = [str(column.header) for column in columns]
    cells = [[_plain(cell) for cell in column._cells] for column in columns]
    rows = [list(row) for row in zip(*cells, strict=True)] if cells else []
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    lines = []
    for row in [headers, *rows]:
        parts = [
            cell.rjust(width) if column.justify == "right" else cell.ljust(width)
            for cell, width, column in zip(row, widths, columns, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
    return lines


def _plain(cell: Any) -> str:
    text = cell.plain if isinstance(cell, Text) else str(cell)
    return " ".join(text.split("\n"))


def print_line(text: str) -> None:
    """One line of text, folded to the console's width."""
    stdout_console().print(text, highlight=False, markup=False, overflow="fold")
