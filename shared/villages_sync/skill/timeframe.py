"""Parts of the day and the time an event occupies, as wall-clock time in the calendar's zone.

Every boundary is built from a local date and a local clock time (``datetime.combine`` with the
zone), never by adding hours to midnight: on the days clocks change, "5 PM" is still 5 PM.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# An event whose end is unknown is taken to last this long, only to decide whether it is over:
# the end is never said (``Span.end_known``).
DEFAULT_DURATION = timedelta(hours=1)
# An all-day event is said to be on during the day, not at 11:30 PM: the local hours it counts
# as on for "now" and for what is left of today.
ALL_DAY_HOURS = (time(8, 0), time(21, 0))
# "Tonight" runs into the small hours: the evening ends when the morning begins.
SMALL_HOURS_END = time(5, 0)


class PartOfDay(enum.StrEnum):
    MORNING = "MORNING"
    AFTERNOON = "AFTERNOON"
    EVENING = "EVENING"  # "tonight": from 5 PM into the small hours (5 AM the next day)
    NOW = "NOW"  # in progress at the moment of asking


# Local clock hours [from, to) of each part; 24 and more are hours of the next day.
PART_HOURS = {
    PartOfDay.MORNING: (5, 12),
    PartOfDay.AFTERNOON: (12, 17),
    PartOfDay.EVENING: (17, 24 + SMALL_HOURS_END.hour),
}


@dataclass(frozen=True, slots=True)
class Span:
    """When an event takes place: [start, end), aware datetimes."""

    start: datetime
    end: datetime  # for an unknown end, start + DEFAULT_DURATION: never said
    all_day: bool
    end_known: bool = True  # the calendar gave an end after the start

    def on_at(self, moment: datetime) -> bool:
        """In progress at ``moment``; an all-day event only in ALL_DAY_HOURS of its days."""
        if not self.start <= moment < self.end:
            return False
        if not self.all_day:
            return True
        local = moment.astimezone(self.start.tzinfo)
        return ALL_DAY_HOURS[0] <= local.time() < ALL_DAY_HOURS[1]


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def day_window(day: date, part: PartOfDay | None, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The local interval of ``day`` (or of one part of it) that a question asks about.

    ``PartOfDay.NOW`` is not an interval: callers handle it with the moment of asking.
    """
    if part is None or part is PartOfDay.NOW:
        return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
    first, last = PART_HOURS[part]
    start = datetime.combine(day, time(first), tzinfo=tz)
    end_day = day + timedelta(days=last // 24)
    end = datetime.combine(end_day, time(last % 24), tzinfo=tz)
    return start, end


def event_span(item: Mapping[str, Any], tz: ZoneInfo) -> Span | None:
    """The interval a stored event occupies; None when its dates cannot be read.

    All-day events run from local midnight of ``event_date`` to the midnight after ``end_date``
    (or after ``event_date``). Timed events run from ``start_iso`` to ``end_iso``, or for
    DEFAULT_DURATION when the end is unknown or not after the start.
    """
    try:
        first = date.fromisoformat(str(item["event_date"]))
        if item.get("all_day"):
            last = date.fromisoformat(str(item.get("end_date") or item["event_date"]))
            return Span(
                local_midnight(first, tz),
                local_midnight(max(first, last) + timedelta(days=1), tz),
                all_day=True,
            )
        start = _instant(item.get("start_iso"), tz) or datetime.combine(
            first, time.fromisoformat(str(item["start_time"])), tzinfo=tz
        )
    except (KeyError, ValueError):
        return None
    end = _instant(item.get("end_iso"), tz)
    if end is None or end <= start:  # unknown, or no later than the start: not an end
        return Span(start, start + DEFAULT_DURATION, all_day=False, end_known=False)
    return Span(start, end, all_day=False)


def _instant(value: object, tz: ZoneInfo) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(tz)
