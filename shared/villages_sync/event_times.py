"""UTC instants of the calendar API to The Villages' local dates and times, and an item's
expiry. Pure (split from normalise, which builds an item from these and the cleaned fields)."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.models import MULTI_DAY_SPAN, TTL_DAYS_AFTER_EVENT

# A timed event ending after midnight but by this hour (a late dance) belongs to its first
# day only; one ending later on a later day is on every day it spans.
NIGHT_ENDS = time(6, 0)
_ONE_DAY = timedelta(hours=24)


def parse_instant(text: str) -> datetime | None:
    """An aware instant, or None when unparseable or outside 1970-9998 (epoch seconds and
    local-time conversion must both stay valid)."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if not 1970 <= parsed.year <= 9998:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def local_start(text: str, tz: ZoneInfo, *, all_day: bool) -> datetime | None:
    if all_day:
        # All-day starts are encoded inconsistently (local midnight in UTC, or a floating
        # midnight): the calendar date is the date part as written, never converted.
        try:
            day = date.fromisoformat(text.strip()[:10])
        except ValueError:
            return None
        return datetime.combine(day, time(0, 0), tzinfo=tz)
    instant = parse_instant(text)
    if instant is None:
        return None
    return instant.astimezone(tz)


def add_end(
    item: dict[str, Any],
    text: object,
    start: datetime,
    tz: ZoneInfo,
    *,
    all_day: bool,
    start_text: str = "",
) -> None:
    """End fields when the end parses and is not before the start.

    A wrong end is dropped rather than the event rejected: the event still happens, and the
    skill can still announce its start. An all-day event keeps only its end date (as written,
    like its start); a multi-day event gets ``span`` too, the key of the multi-day index.
    """
    if not isinstance(text, str):
        return
    if all_day:
        end_day = all_day_end(text, start_text, tz)
        if end_day is None or end_day <= start.date():
            return
        end = datetime.combine(end_day, time(0, 0), tzinfo=tz)
    else:
        instant = parse_instant(text)
        if instant is None:
            return
        end = instant.astimezone(tz)
        if end < start:
            return
        end_iso = end.isoformat()
        item["end_time"] = hh_mm(end_iso)
        item["end_iso"] = end_iso
    if end.date() > start.date():
        item["end_date"] = end.date().isoformat()
        if all_day or end - start >= _ONE_DAY or end.time() > NIGHT_ENDS:
            item["span"] = MULTI_DAY_SPAN  # on the days after its start too (multi-day index)


def all_day_end(text: str, start_text: str, tz: ZoneInfo) -> date | None:
    """The last day of an all-day event, from its end as written.

    An end written like the start (a bare date, or the same midnight encoding: ``T05:00Z``
    after a ``T05:00Z`` start) names the last day, read as written like the start's date.
    Any other time is the moment the event is over, as a local midnight in UTC or a floating
    one: ``2026-11-21T04:59:59Z`` and ``2026-11-20T23:59:59`` both end on the 20th, so the
    zone's offset and a second are taken away before the date is read.
    """
    written, start_written = text.strip(), start_text.strip()
    try:
        if len(written) <= 10 or written[10:19] == start_written[10:19]:
            return date.fromisoformat(written[:10])
        end = datetime.fromisoformat(written[:19])
    except ValueError:
        return None
    offset = abs(end.replace(tzinfo=tz).utcoffset() or timedelta(0))
    return (end - offset - timedelta(seconds=1)).date()


def hh_mm(iso: str) -> str:
    """strftime("%H:%M") of the moment whose isoformat() is ``iso``, at a fraction of the cost.

    isoformat() always starts ``YYYY-MM-DDTHH:MM`` (the year zero-padded to four digits), so
    the hour and minute are characters 11 to 16; the date is the first ten.
    """
    return iso[11:16]


@functools.lru_cache(maxsize=1024)  # a run's events fall on a few hundred days
def ttl_of(day: date, tz: ZoneInfo) -> int:
    expires = datetime.combine(day + timedelta(days=TTL_DAYS_AFTER_EVENT), time(0, 0), tzinfo=tz)
    return int(expires.timestamp())
