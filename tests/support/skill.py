"""Helpers of the skill's tests: calendar events in the API's raw shape, on chosen local times,
and the handler asked through the local Lambda runtime.

Imported as ``support.skill``.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.local.pipeline import LocalPipeline, SyncOptions
from villages_sync.settings import DEFAULT_TIMEZONE

TZ = ZoneInfo(DEFAULT_TIMEZONE)
SKILL = "SkillFunction"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local wall-clock time (built with the zone, so right on the days clocks change)."""
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def raw_event(
    event_id: int,
    title: str,
    venue: str,
    start: datetime | date,
    end: datetime | date | None = None,
    *,
    category: str = "entertainment",
    cancelled: bool = False,
) -> dict[str, Any]:
    """One event as the calendar API lists it; a ``date`` start makes it all-day."""
    all_day = not isinstance(start, datetime)
    if all_day:
        last = end or start
        start_text, end_text = f"{start.isoformat()}T05:00:00.000Z", f"{last}T05:00:00.000Z"
    else:
        start_text = _utc(start)
        end_text = _utc(end if isinstance(end, datetime) else start + timedelta(hours=2))
    kind = "date" if all_day else "time"
    return {
        "id": event_id,
        "title": title,
        "description": f"{title} at {venue}.",
        "category": category,
        "subcategories": [category],
        "start": {"date": start_text, "type": kind},
        "end": {"date": end_text, "type": kind},
        "allDay": all_day,
        "cancelled": cancelled,
        "featured": False,
        "location": {"id": "L", "title": venue, "category": "town-squares", "complexId": "c"},
        "address": {"streetAddress": "Main Street", "locality": "The Villages", "region": "FL"},
        "url": "",
    }


def ask(deployment: Any, envelope: dict[str, Any], **extra_env: str) -> dict[str, Any]:
    """The handler's response envelope; fails the test when the invocation failed."""
    options = SyncOptions(function_log=io.StringIO(), extra_env=extra_env)
    invocation = LocalPipeline(deployment, options).invoke_function(SKILL, envelope)
    assert invocation.succeeded, invocation.error_text
    return invocation.payload


def speech_of(response: dict[str, Any]) -> str:
    return response["response"]["outputSpeech"]["ssml"]


def days_after(today: date, count: int) -> list[date]:
    return [today + timedelta(days=n) for n in range(1, count + 1)]


def dst_change(today: date, *, spring: bool) -> date:
    """The next local day (after today, within a year) on which the clocks go forward (spring)
    or back: its noon's UTC offset differs from the day before's."""
    for day in days_after(today, 366):
        before, after = at(day - timedelta(days=1), 12).utcoffset(), at(day, 12).utcoffset()
        if before != after and (after > before) == spring:  # type: ignore[operator]
            return day
    raise AssertionError("no DST change within a year")


def month_end_saturday(today: date) -> date:
    """The next Saturday that is the last day of its month (its weekend spans two months)."""
    for day in days_after(today, 358):
        if day.weekday() == 5 and (day + timedelta(days=1)).month != day.month:
            return day
    raise AssertionError("no Saturday at a month's end within a year")


def month_spanning_monday(today: date) -> date:
    """The next Monday whose week (Monday to Sunday) ends in the next month."""
    for day in days_after(today, 60):
        if day.weekday() == 0 and (day + timedelta(days=6)).month != day.month:
            return day
    raise AssertionError("no week across a month boundary within 60 days")
