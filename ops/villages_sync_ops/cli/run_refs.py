"""Naming a run on the command line: its full id, ``latest``, or a unique prefix (as git takes
a commit). Run ids sort by start time, so a prefix is a range query on the runs index.

A reference is checked for its characters before it is used anywhere: it never becomes a
path (``logs --run ../../x`` is a usage error, not a file read).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from villages_sync.run_ids import RunId, is_run_id

from villages_sync_ops.cli.errors import CommandError, UsageError

LATEST = "latest"
_REFERENCE = re.compile(r"^[0-9]{4}[0-9TZa-f.\-]*$")  # the start of 20261124T161802.123456Z-1a2b3c
SHOWN_CANDIDATES = 5


def run_reference(text: str) -> str:
    """argparse type: a run id, ``latest`` or a prefix of at least four digits (exit 2 else)."""
    if text == LATEST or _REFERENCE.match(text):
        return text
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a run id (like 20261124T161802.123456Z-1a2b3c), a unique prefix of "
        "one (at least its year), or 'latest'"
    )


def resolve_run_id(runs: Any, reference: str) -> RunId:
    """The one run id ``reference`` names in the runs table (CommandError/UsageError else)."""
    if reference == LATEST:
        recent = runs.recent_runs(1)
        if not recent:
            raise CommandError("no runs yet: nothing is 'latest' (villages-sync sync makes one)")
        return RunId(str(recent[0].run_id))
    if is_run_id(reference):
        return reference  # a whole id: whether it exists is the caller's lookup
    matches = [r.run_id for r in runs.newer_runs(reference) if r.run_id.startswith(reference)]
    return RunId(_one_of(reference, matches, where="runs (see `villages-sync runs`)"))


def resolve_log_path(directory: Path, reference: str | None) -> Path | None:
    """A run's local log file by reference; the newest for None or ``latest``."""
    files = sorted(directory.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    if reference is None or reference == LATEST:
        return files[-1] if files else None
    matches = sorted(p.stem for p in files if p.stem.startswith(reference))
    if reference in matches:
        return directory / f"{reference}.jsonl"
    if not matches:
        return None
    return directory / f"{_one_of(reference, matches, where='local run logs')}.jsonl"


def _one_of(reference: str, matches: list[str], *, where: str) -> str:
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CommandError(f"no run matches {reference!r} in the {where}")
    shown = ", ".join(matches[:SHOWN_CANDIDATES])
    more = f" and {len(matches) - SHOWN_CANDIDATES} more" if len(matches) > SHOWN_CANDIDATES else ""
    raise UsageError(f"{reference!r} names {len(matches)} runs: {shown}{more}; give more of the id")
