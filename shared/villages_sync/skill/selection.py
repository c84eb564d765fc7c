"""Which stored events answer a question: pure, given the items read for the asked days.

An event is offered on the first asked day whose window it overlaps, once (a festival that
spans the whole weekend is one answer, not two; the same show listed twice under two ids is
said once). Cancelled events and items past their ttl never are (``visible_events``); neither
is an event that is already over when the question is asked, and "now" means in progress at
that moment, whatever day the event began (a dance from 9 PM to 12:30 AM is on at 12:10 AM).
An all-day event counts as on during ALL_DAY_HOURS of its days, not at 11:30 PM.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.skill.catalog import Category, Venue
from villages_sync.skill.dates import AskedDays
from villages_sync.skill.timeframe import (
    ALL_DAY_HOURS,
    PartOfDay,
    Span,
    day_window,
    event_span,
)
from villages_sync.visible_events import visible_events


@dataclass(frozen=True, slots=True)
class Offer:
    """One event as offered for one asked day."""

    item: dict[str, Any]
    day: date  # the asked day it is offered on
    span: Span
    day_start: datetime  # local midnight of ``day``
    asked_at: datetime

    @property
    def event_id(self) -> str:
        return str(self.item.get("event_id", ""))

    @property
    def continuing(self) -> bool:
        """Started on an earlier day (a multi-day event), or all day."""
        return self.span.all_day or self.span.start < self.day_start

    @property
    def in_progress(self) -> bool:
        return self.span.on_at(self.asked_at)

    @property
    def sort_key(self) -> tuple[Any, ...]:
        start = max(self.span.start, self.day_start)
        title = str(self.item.get("title", ""))
        return (self.day, not self.continuing, not self.span.all_day, start, title)


def days_to_read(days: AskedDays, part: PartOfDay | None, today: date) -> list[date]:
    """The days whose items can answer: the asked days, the day before today (a late show still
    running after midnight is dated yesterday) and, for evenings, the day after the last (a
    show at 12:30 AM is dated the next day but is tonight's)."""
    read = days.days
    if days.first == today:
        read = [today - timedelta(days=1), *read]
    if part is PartOfDay.EVENING or days.evening_first:
        read = [*read, days.last + timedelta(days=1)]
    return read


def select_offers(
    items: Iterable[Mapping[str, Any]],
    *,
    days: AskedDays,
    part: PartOfDay | None,
    venue: Venue | None,
    category: Category | None,
    now: datetime,
    tz: ZoneInfo,
) -> list[Offer]:
    """The events that answer the question, in the order they are said."""
    today = now.astimezone(tz).date()
    candidates = [
        item
        for item in visible_events(items, now=now.timestamp())
        if (venue is None or venue.hosts(str(item.get("location", ""))))
        and (category is None or category.matches(item))
    ]
    offers: dict[str, Offer] = {}
    said: set[tuple[str, datetime, str]] = set()
    for item in candidates:
        event_id = str(item.get("event_id", ""))
        span = event_span(item, tz)
        if span is None or event_id in offers:
            continue
        same_show = (_words(item.get("title")), span.start, _words(item.get("location")))
        if same_show in said:  # the calendar lists one show twice, under two ids
            continue
        for day in days.days:
            day_part = part
            if days.evening_first and day == days.first:
                if part not in (None, PartOfDay.EVENING, PartOfDay.NOW):
                    continue
                day_part = PartOfDay.EVENING if part is None else part
            if _offered_on(span, day, part=day_part, today=today, now=now, tz=tz):
                offers[event_id] = Offer(item, day, span, day_window(day, None, tz)[0], now)
                said.add(same_show)
                break
    return sorted(offers.values(), key=lambda offer: offer.sort_key)


def _words(value: object) -> str:
    return " ".join(str(value or "").casefold().split())


def _offered_on(
    span: Span,
    day: date,
    *,
    part: PartOfDay | None,
    today: date,
    now: datetime,
    tz: ZoneInfo,
) -> bool:
    if part is PartOfDay.NOW:
        # "Now" only means something today; asked of another day, the whole day is meant.
        if day == today:
            return span.on_at(now)
        part = None
    start, end = day_window(day, part, tz)
    if span.all_day:  # said to be on in the day's hours only
        start = max(start, datetime.combine(day, ALL_DAY_HOURS[0], tzinfo=tz))
        end = min(end, datetime.combine(day, ALL_DAY_HOURS[1], tzinfo=tz))
    if day == today:
        start = max(start, now)  # what is already over is not offered
    return start < end and span.start < end and span.end > start
