"""Which stored events answer a question: pure, given the items read for the asked days.

An event is offered on the first asked day whose window it overlaps, once (a festival that
spans the whole weekend is one answer, not two). Cancelled events and items past their ttl
never are (``visible_events``); neither is an event that is already over when the question is
asked, and "now" means in progress at that moment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.skill.catalog import Category, Venue
from villages_sync.skill.dates import AskedDays
from villages_sync.skill.timeframe import PartOfDay, Span, day_window, event_span
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
        return self.span.start <= self.asked_at < self.span.end

    @property
    def sort_key(self) -> tuple[Any, ...]:
        start = max(self.span.start, self.day_start)
        title = str(self.item.get("title", ""))
        return (self.day, not self.continuing, not self.span.all_day, start, title)


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
        and (category is None or str(item.get("category", "")) == category.id)
    ]
    offers: dict[str, Offer] = {}
    for item in candidates:
        event_id = str(item.get("event_id", ""))
        span = event_span(item, tz)
        if span is None or event_id in offers:
            continue
        for day in days.days:
            if _offered_on(span, day, part=part, today=today, now=now, tz=tz):
                offers[event_id] = Offer(item, day, span, day_window(day, None, tz)[0], now)
                break
    return sorted(offers.values(), key=lambda offer: offer.sort_key)


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
            return span.start <= now < span.end
        part = None
    start, end = day_window(day, part, tz)
    if day == today:
        start = max(start, now)  # what is already over is not offered
    return start < end and span.start < end and span.end > start
