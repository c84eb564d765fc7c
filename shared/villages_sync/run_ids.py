"""Run ids: sortable by start time, so ``a < b`` means run ``a`` started before run ``b``."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

_FORMAT = "%Y%m%dT%H%M%S"
_RUN_ID = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}$")


def new_run_id(started: datetime) -> str:
    """``20261124T161802.123456Z-1a2b3c``: UTC start time (microseconds) and a random suffix."""
    utc = started.astimezone(UTC)
    return f"{utc.strftime(_FORMAT)}.{utc.microsecond:06d}Z-{secrets.token_hex(3)}"


def is_run_id(value: object) -> bool:
    """True for a string in the form that ``new_run_id`` makes."""
    return isinstance(value, str) and _RUN_ID.match(value) is not None


def run_started_at(run_id: str) -> datetime:
    """The UTC start time a run id carries; ValueError when it names no real moment."""
    return datetime.strptime(run_id[:23], f"{_FORMAT}.%fZ").replace(tzinfo=UTC)
