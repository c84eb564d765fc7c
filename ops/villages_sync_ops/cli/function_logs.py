"""The functions' own logs, locally: one JSON-lines file per run under the state directory.

The local runtime sends a function's stdout and stderr here, as Lambda sends them to CloudWatch
Logs. Every line is stored as one JSON object: Powertools' JSON log lines as they are (EMF
metric lines too), anything else (a Python warning) wrapped as ``{"message": ...}``; each gets
``function_name`` when it lacks one. The file is named after the run as soon as a line names it
(the producer's correlation id), so ``villages-sync logs --run RUN_ID`` finds it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from villages_sync.run_ids import is_run_id

RUN_LOGS = "runs"  # under <state dir>/logs/
STANDARD_KEYS = {
    "level",
    "location",
    "message",
    "timestamp",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "correlation_id",
    "xray_trace_id",
    "sampling_rate",
    "exception_name",
}


def run_logs_dir(state_dir: Path) -> Path:
    return state_dir / "logs" / RUN_LOGS


class FunctionLogWriter(io.TextIOBase):
    """A text stream that stores what functions print as JSON lines, one file per run."""

    def __init__(
        self, directory: Path, *, on_record: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.path = directory / f"pending-{os.getpid()}.jsonl"
        self.run_id: str | None = None
        self._file = self.path.open("a", encoding="utf-8")
        self._partial = ""
        self._on_record = on_record

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        for line in lines:
            if line.strip():
                self._store(line)
        return len(text)

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if self._partial.strip():
            self._store(self._partial)
        self._partial = ""
        if not self._file.closed:
            self._file.close()
        if self.run_id is None and self.path.exists() and self.path.stat().st_size == 0:
            self.path.unlink()
        super().close()

    def name_after(self, run_id: str) -> None:
        """Name the file after ``run_id`` (the open file follows the rename)."""
        if self.run_id is not None or not is_run_id(run_id):
            return
        target = self.directory / f"{run_id}.jsonl"
        self.path.rename(target)
        self.path, self.run_id = target, run_id

    def _store(self, line: str) -> None:
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            record = {"level": "OUTPUT", "message": line}
        record.setdefault("function_name", os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""))
        correlation = record.get("correlation_id")
        if self.run_id is None and isinstance(correlation, str):
            self.name_after(correlation)
        self._file.write(json.dumps(record, default=str) + "\n")
        self._file.flush()
        if self._on_record is not None:
            self._on_record(record)


def read_records(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


def function_choice(text: str) -> str:
    """argparse type for ``logs --function``: a function's short name (``producer``) or its
    logical id in template.yaml (``ProducerFunction``), any case; the short name back. An
    unknown name is a usage error listing the known ones (it used to print nothing, exit 0)."""
    from villages_sync_ops.local.template import load_template

    logical_ids = sorted(
        name
        for name, resource in load_template()["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    )
    short = {name.removesuffix("Function").lower(): name for name in logical_ids}
    wanted = text.strip().lower()
    for name, logical_id in short.items():
        if wanted in (name, logical_id.lower()):
            return name
    raise argparse.ArgumentTypeError(
        f"no function {text!r}: choose one of {', '.join(short)} "
        f"(or its logical id: {', '.join(logical_ids)})"
    )


def matches_function(record: dict[str, Any], name: str | None) -> bool:
    """``name`` is a short name (function_choice): the last part of the function's name."""
    function = str(record.get("function_name", "")).rsplit("-", 1)[-1].lower()
    return not name or name.lower() == function


def is_metrics_line(record: dict[str, Any]) -> bool:
    return "_aws" in record  # an EMF metrics document, not a log line


def format_record(record: dict[str, Any], *, whole: bool = False) -> str:
    """``16:18:02 WARNING producer calendar request failed; retrying attempt=1 ...``"""
    when = str(record.get("timestamp", ""))
    try:
        stamp = datetime.fromisoformat(when.replace(",", "."))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)  # Powertools writes UTC
        when = stamp.astimezone(UTC).strftime("%H:%M:%SZ")  # the zone shown: Z is UTC
    except ValueError:
        when = (when[11:19] + "Z") if len(when) >= 19 else "--:--:--"
    function = str(record.get("function_name", "")).rsplit("-", 1)[-1] or "-"
    extras = " ".join(
        f"{key}={_short(value, whole=whole)}"
        for key, value in record.items()
        if key not in STANDARD_KEYS
    )
    text = f"{when} {record.get('level', '')!s:<7} {function:<8} {record.get('message', '')}"
    return f"{text} {extras}".rstrip()


def _short(value: Any, *, whole: bool = False) -> str:
    """A field's value, cut at 120 characters on a terminal; whole when ``whole`` (piped)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if whole or len(text) <= 120 else text[:117] + "..."
