"""Helpers of the skill's tests: calendar events in the API's raw shape, on chosen local times,
and the handler asked through the local Lambda runtime.

Imported as ``support.skill``.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.models import DateWindow
from villages_sync.normalise import normalise_event
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync.skill.reader import read_days
from villages_sync.skill.settings import SkillSettings
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions
from villages_sync_ops.skill.envelopes import (
    LOCAL_SKILL_ID,
    amazon_date,
    launch_request,
    spoken_request,
)

TZ = ZoneInfo(DEFAULT_TIMEZONE)
SS = "Spanish Springs Town Square"
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
    """The handler's response envelope; fails the test when the invocation failed. The skill
    knows as far ahead as these tests' syncs keep (DAYS_AHEAD=366)."""
    options = SyncOptions(function_log=io.StringIO(), extra_env={"DAYS_AHEAD": "366", **extra_env})
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


# ------------------------------------------------------------------------------ conversations


def stored(raw: dict[str, Any], today: date) -> dict[str, Any]:
    """A raw calendar event as the sync stores it (the real normaliser)."""
    window = DateWindow(today - timedelta(days=30), today + timedelta(days=400))
    item = normalise_event(raw, tz=TZ, window=window, last_updated=0)
    assert isinstance(item, dict), item
    return item


class ItemsTable:
    """The events table's ``events_on`` over a list: the date index (items dated ``day``) and
    the multi-day index (items with ``span`` that began earlier and end on or after ``day``).
    ``fails`` makes every read raise as an unreachable table would."""

    def __init__(self, items: list[dict[str, Any]], *, fails: bool = False) -> None:
        self.items, self.fails, self.days_read = items, fails, 0

    def events_on(self, day: date) -> list[dict[str, Any]]:
        self.days_read += 1
        if self.fails:
            raise ConnectionError("could not connect to the endpoint URL")
        text = day.isoformat()
        return [
            item
            for item in self.items
            if item["event_date"] == text
            or ("span" in item and item["event_date"] < text <= item.get("end_date", ""))
        ]


@dataclass
class Turn:
    """What Alexa said and showed for one thing a resident said."""

    said: str  # the speech, as plain words
    reprompt: str | None
    card_title: str | None
    card: str | None
    screen: dict[str, Any] | None  # the APL RenderDocument directive, when one was sent
    ends: bool
    attributes: dict[str, Any]
    ssml: str


class Resident:
    """A resident talking to the skill: each turn is a real Alexa envelope through the real ASK
    SDK skill (``skill_handler``), with the session attributes Alexa carries between turns and
    the table read from ``items``. The clock is set by ``now``."""

    def __init__(
        self,
        items: list[dict[str, Any]],
        *,
        now: datetime,
        screen: bool = False,
        days_ahead: int = 90,
        table: ItemsTable | None = None,
    ) -> None:
        from skill import skill_handler as handler

        self.handler, self.now, self.screen = handler, now, screen
        self.table = table or ItemsTable(items)
        self.settings = SkillSettings(
            table_name="events", skill_id=LOCAL_SKILL_ID, days_ahead=days_ahead
        )
        self.attributes: dict[str, Any] = {}
        self.new = True

    def opens(self) -> Turn:
        return self._send(launch_request(now=self.now, screen=self.screen))

    def says(self, intent: str, **spoken: str | None) -> Turn:
        """``says("WhatsOnIntent", venue="brownwood", date="tomorrow")``: dates as words are
        turned into the AMAZON.DATE value Alexa gives for them."""
        if spoken.get("date"):
            spoken["date"] = amazon_date(str(spoken["date"]), today=self.now.date())
        envelope = spoken_request(
            intent,
            now=self.now,
            spoken=spoken,
            attributes=self.attributes,
            new=self.new,
            screen=self.screen,
        )
        return self._send(envelope)

    def _send(self, envelope: dict[str, Any]) -> Turn:
        reader = self.handler.reader
        self.handler.reader = lambda settings: partial(read_days, self.table)
        try:
            response = self.handler.skill_handler(self.settings)(envelope, None)
        finally:
            self.handler.reader = reader
            # lambda_handler's log_metrics flushes these in Lambda; called below it, drop them
            # (Powertools keeps one metric set a process, which the next real flush would print)
            self.handler.metrics.clear_metrics()
        body = response["response"]
        ssml = body["outputSpeech"]["ssml"] if "outputSpeech" in body else ""
        card = body.get("card") or {}
        directives = [
            d for d in body.get("directives") or [] if d["type"].startswith("Alexa.Presentation")
        ]
        reprompt = body.get("reprompt", {}).get("outputSpeech", {}).get("ssml")
        ends = body.get("shouldEndSession", True) is not False
        self.attributes = {} if ends else dict(response.get("sessionAttributes") or {})
        self.new = ends
        return Turn(
            said=_words_of(ssml),
            reprompt=_words_of(reprompt) if reprompt else None,
            card_title=card.get("title"),
            card=card.get("content"),
            screen=directives[0] if directives else None,
            ends=ends,
            attributes=dict(response.get("sessionAttributes") or {}),
            ssml=ssml,
        )


def _words_of(ssml: str) -> str:
    return "".join(ET.fromstring(ssml).itertext()) if ssml else ""
