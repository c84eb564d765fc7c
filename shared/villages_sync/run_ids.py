"""Run ids: sortable by start time, so ``a < b`` means run ``a`` started before run ``b``.

``RunId`` is the type of a string known to be one; this module owns its format (the other
modules compare them with ``started_before`` and take a prefix from ``run_id_floor``)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import NewType, TypeGuard

RunId = NewType("RunId", str)

_FORMAT = "%Y%m%dT%H%M%S"
_RUN_ID = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}$")


def new_run_id(started: datetime) -> RunId:
    """``20261124T161802.123456Z-1a2b3c``: UTC start time (microseconds) and a random suffix."""
    return RunId(f"{run_id_floor(started)}-{secrets.token_hex(3)}")


def run_id_floor(moment: datetime) -> str:
    """The prefix every run id started at ``moment`` or later sorts at or above (no suffix)."""
    utc = moment.astimezone(UTC)
    return f"{utc.strftime(_FORMAT)}.{utc.microsecond:06d}Z"


def is_run_id(value: object) -> TypeGuard[RunId]:
    """True for a string in the form that ``new_run_id`` makes."""
    return isinstance(value, str) and _RUN_ID.match(value) is not None


def started_before(run_id: str, other: str) -> bool:
    """Run ``run_id`` started before run ``other`` (the ids sort by start time)."""
    return run_id < other


def run_started_at(run_id: str) -> datetime:
    """The UTC start time a run id carries; ValueError when it names no real moment."""
    return datetime.strptime(run_id[:23], f"{_FORMAT}.%fZ").replace(tzinfo=UTC)
