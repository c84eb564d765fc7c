"""One event, told in full ("tell me about the second one"), and events found by their title
("when is line dancing?", "is the Saturday concert still on?"): pure, given stored items.

A look-up answers honestly: a cancelled event is said to be cancelled (never just left out),
and an event the calendar lists as rescheduled or postponed is said to be so, with its new time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.skill.catalog import CATEGORIES, spoken_location
from villages_sync.skill.selection import Offer
from villages_sync.skill.speech import say_date, say_time, spoken_text
from villages_sync.skill.timeframe import event_span

LOOKUP_DAYS = 14  # a title is looked up over the next two weeks
DESCRIPTION_CHARS = 300  # the most of a description said
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_FILLER = {"the", "a", "an", "still", "on", "at", "this", "next", "is", "event", "tonight"}
_MOVED = re.compile(r"\b(rescheduled|postponed|moved)\b", re.IGNORECASE)


def say_details(offer: Offer, *, today: date) -> str:
    """Title, day and time (the end only when the calendar gives one), place, and what the
    calendar says about it."""
    item, span = offer.item, offer.span
    title = spoken_text(str(item.get("title", "")))
    if span.all_day:
        when = "all day"
    else:
        when = f"from {say_time(span.start)} to {say_time(span.end)}"
        if not span.end_known:
            when = f"at {say_time(span.start)}"
    day = _say_day(offer.day, today)
    place = str(item.get("location", "")).strip()
    where = f" at {place}" if place else ""
    address = str(item.get("address", "")).strip()
    text = f"{title} is {day}, {when}{where}."
    if address:
        text += f" The address is {spoken_text(address, 120)}."
    description = _description(item)
    if description:
        text += f" {description}"
    return text


def _description(item: Mapping[str, Any]) -> str:
    text = spoken_text(str(item.get("description", "")), DESCRIPTION_CHARS)
    if text and text[-1] not in ".!?":
        text += "."
    return text


def _say_day(day: date, today: date) -> str:
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    return f"on {say_date(day)}"


def query_terms(query: str, today: date) -> tuple[list[str], date | None]:
    """The words to find in a title, and a day the query names ("the Saturday concert")."""
    words = re.findall(r"[a-z0-9']+", query.casefold())[:12]
    day = None
    terms = []
    for word in words:
        if word in _WEEKDAYS:
            day = today + timedelta(days=(_WEEKDAYS.index(word) - today.weekday()) % 7)
        elif word == "tomorrow":
            day = today + timedelta(days=1)
        elif word == "today":
            day = today
        elif word not in _FILLER:
            terms.append(word)
    return terms, day


def find_by_title(
    items: Iterable[Mapping[str, Any]],
    query: str,
    *,
    now: datetime,
    tz: ZoneInfo,
) -> list[tuple[Mapping[str, Any], datetime]]:
    """Items not yet over whose title holds every word of the query (or, for a kind of event
    such as "concert", that kind), cancelled ones included; soonest first, each once."""
    local_now = now.astimezone(tz)
    terms, day = query_terms(query, local_now.date())
    if not terms:
        return []
    asked = " ".join(terms)
    kinds = [c for c in CATEGORIES if c.narrow and asked in _names(c)]  # "concert", "golf"
    found: dict[str, tuple[Mapping[str, Any], datetime]] = {}
    for item in items:
        span = event_span(item, tz)
        if span is None or span.end <= local_now or int(item.get("ttl", 0)) <= now.timestamp():
            continue
        if day is not None and span.start.date() != day:
            continue
        title = " ".join(re.findall(r"[a-z0-9']+", str(item.get("title", "")).casefold()))
        by_title = all(re.search(rf"\b{re.escape(term[:6])}", title) for term in terms)
        if by_title or any(kind.matches(item) for kind in kinds):
            found.setdefault(str(item.get("event_id", "")), (item, span.start))
    return sorted(found.values(), key=lambda pair: pair[1])


def _names(category: Any) -> set[str]:
    """Every way of saying a kind of event, as whole phrases ("line dancing", "concert")."""
    return {" ".join(name.casefold().split()) for name in (category.name, *category.synonyms)}


def say_lookup(found: list[tuple[Mapping[str, Any], datetime]], query: str, *, today: date) -> str:
    """What a friendly neighbour says: when it is, or that it is cancelled or moved."""
    if not found:
        return (
            f"I don't see {spoken_text(query, 60)} in the calendar for the next two weeks. "
            "What else would you like to know?"
        )
    sentences = []
    for item, start in found[:3]:
        title = spoken_text(str(item.get("title", "")))
        place = spoken_location(str(item.get("location", "")).strip())
        when = f"{_say_day(start.date(), today)} at {say_time(start)}"
        if item.get("cancelled"):
            sentences.append(f"{title} {when} at {place} is cancelled.")
        elif _MOVED.search(title):
            sentences.append(f"{title} is listed as changed: it's now {when} at {place}.")
        else:
            sentences.append(f"{title} is {when} at {place}.")
    if len(found) > 3:
        sentences.append(f"And {len(found) - 3} more after that.")
    return " ".join(sentences) + " What else would you like to know?"
