"""The skill's one adapter: the stored items of some days, through ``EventReads.events_on``.

``events_on(day)`` returns every item in progress on ``day`` (the date index, plus the
multi-day index for events that began earlier): Queries only, never a Scan. A multi-day event
comes back once per day it spans; ``select_offers`` keeps it once. Days are read in parallel
(boto3 clients are thread-safe) so that a month's 31 Queries fit in a voice request's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any, Protocol

MAX_PARALLEL_DAYS = 8


class DayReader(Protocol):
    def events_on(self, day: date) -> list[dict[str, Any]]: ...


def read_days(table: DayReader, days: Sequence[date]) -> list[dict[str, Any]]:
    """The items of every day in ``days``, in day order (an item may repeat across days)."""
    if len(days) <= 1:
        return [item for day in days for item in table.events_on(day)]
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_DAYS, len(days))) as pool:
        per_day = list(pool.map(table.events_on, days))
    return [item for items in per_day for item in items]
