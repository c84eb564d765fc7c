"""Run ids: sortable by start time, so ``a < b`` means run ``a`` started before run ``b``."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

_FORMAT = "%Y%m%dT%H%M%S"


def new_run_id(started: datetime) -> str:
    """``20261124T161802.123456Z-1a2b3c``: UTC start time (microseconds) and a random suffix."""
    utc = started.astimezone(UTC)
    return f"{utc.strftime(_FORMAT)}.{utc.microsecond:06d}Z-{secrets.token_hex(3)}"


def run_started_at(run_id: str) -> datetime:
    """The start time encoded in a run id; ValueError if it is not one."""
    stamp = run_id.split("Z-", 1)[0]
    return datetime.strptime(stamp, _FORMAT + ".%f").replace(tzinfo=UTC)
