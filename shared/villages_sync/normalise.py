"""Upstream API events to stored items: local dates and times, clean text, validation. Pure.

The API gives UTC instants (``2025-11-14T22:00:00.000Z``); the skill wants The Villages' local
date and time, so an evening show 22:00Z-02:00Z in November is 17:00-21:00 on the 14th.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.models import (
    CONTENT_HASH_BYTES,
    DESCRIPTION_MAX_CHARS,
    SUBCATEGORIES_MAX,
    SUBCATEGORY_MAX_CHARS,
    TITLE_MAX_CHARS,
    TTL_DAYS_AFTER_EVENT,
    URL_MAX_CHARS,
    DateWindow,
    EventItem,
    RejectReason,
)
from villages_sync.text import clean_text

SHORT_TEXT_MAX_CHARS = 200
_UNHASHED = ("last_updated", "ttl", "content_hash")


@dataclass(frozen=True, slots=True)
class Rejection:
    event_id: str | None
    reason: RejectReason
    detail: str


@dataclass(slots=True)
class NormaliseResult:
    items: list[EventItem] = field(default_factory=list)
    rejects: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)


def window_for(now: datetime, tz: ZoneInfo, days_ahead: int) -> DateWindow:
    """Local today .. today + ``days_ahead``, both inclusive."""
    today = now.astimezone(tz).date()
    return DateWindow(first=today, last=today + timedelta(days=days_ahead))


def normalise_events(
    raws: Iterable[object], *, tz: ZoneInfo, window: DateWindow, last_updated: int
) -> NormaliseResult:
    """Every raw event normalised or rejected with a reason; duplicates of an id kept once."""
    result = NormaliseResult()
    seen: set[str] = set()
    counts: Counter[str] = Counter()
    for raw in raws:
        outcome = normalise_event(raw, tz=tz, window=window, last_updated=last_updated)
        if isinstance(outcome, Rejection):
            counts[str(outcome.reason)] += 1
            result.rejections.append(outcome)
        elif outcome["event_id"] not in seen:
            seen.add(outcome["event_id"])
            result.items.append(outcome)
    result.rejects = dict(counts)
    return result


def normalise_event(
    raw: object, *, tz: ZoneInfo, window: DateWindow, last_updated: int
) -> EventItem | Rejection:
    """One API event as a stored item, or the reason it cannot be one. Never raises."""
    if not isinstance(raw, Mapping):
        return Rejection(None, RejectReason.NOT_AN_OBJECT, f"got {type(raw).__name__}")
    event_id = _event_id(raw.get("id"))
    if event_id is None:
        return Rejection(None, RejectReason.MISSING_ID, f"id is {raw.get('id')!r:.40}")
    title = clean_text(raw.get("title"), TITLE_MAX_CHARS)
    if not title:
        return Rejection(event_id, RejectReason.MISSING_TITLE, "title is empty")
    all_day = raw.get("allDay") is True or _part(raw, "start").get("type") == "date"
    start_text = _part(raw, "start").get("date")
    if not isinstance(start_text, str) or not start_text.strip():
        return Rejection(event_id, RejectReason.MISSING_START, "start.date is missing")
    start = _local_start(start_text, tz, all_day=all_day)
    if start is None:
        return Rejection(event_id, RejectReason.BAD_START, f"start.date {start_text!r:.40}")
    if start.date() not in window:
        return Rejection(
            event_id,
            RejectReason.OUTSIDE_WINDOW,
            f"{start.date()} not in {window.first}..{window.last}",
        )
    item: dict[str, Any] = {
        "event_id": event_id,
        "title": title,
        "description": clean_text(
            raw.get("description") or raw.get("excerpt"), DESCRIPTION_MAX_CHARS
        ),
        "event_date": start.date().isoformat(),
        "start_time": start.strftime("%H:%M"),
        "location": clean_text(_part(raw, "location").get("title"), SHORT_TEXT_MAX_CHARS),
        "category": clean_text(raw.get("category"), SHORT_TEXT_MAX_CHARS).lower(),
        "last_updated": int(last_updated),
        "ttl": _ttl(start.date(), tz),
        "start_iso": start.isoformat(),
        "all_day": all_day,
        "cancelled": raw.get("cancelled") is True,
        "featured": raw.get("featured") is True,
        "subcategories": _subcategories(raw.get("subcategories")),
    }
    if not all_day:
        _add_end(item, _part(raw, "end").get("date"), start, tz)
    _add_optional(item, "url", _url(raw.get("url")))
    _add_optional(item, "venue_category", clean_text(_part(raw, "location").get("category"), 100))
    _add_optional(item, "address", _address(_part(raw, "address")))
    item["content_hash"] = content_hash_of(item)
    return item  # type: ignore[return-value]


def content_hash_of(item: Mapping[str, Any]) -> str:
    """A short stable hash of what the skill would say: tells "updated" from "unchanged"."""
    hashed = {k: v for k, v in item.items() if k not in _UNHASHED}
    encoded = json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(encoded.encode(), digest_size=CONTENT_HASH_BYTES).hexdigest()


def _event_id(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.strip().isdecimal() and value.strip().isascii():
        return str(int(value.strip()))
    return None


def _part(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, Mapping) else {}


def _parse_instant(text: str) -> datetime | None:
    """An aware instant, or None when unparseable or outside 1970-9998 (epoch seconds and
    local-time conversion must both stay valid)."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if not 1970 <= parsed.year <= 9998:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _local_start(text: str, tz: ZoneInfo, *, all_day: bool) -> datetime | None:
    if all_day:
        # All-day starts are encoded inconsistently (local midnight in UTC, or a floating
        # midnight): the calendar date is the date part as written, never converted.
        try:
            day = date.fromisoformat(text.strip()[:10])
        except ValueError:
            return None
        return datetime.combine(day, time(0, 0), tzinfo=tz)
    instant = _parse_instant(text)
    if instant is None:
        return None
    return instant.astimezone(tz)


def _add_end(item: dict[str, Any], text: object, start: datetime, tz: ZoneInfo) -> None:
    """End fields when the end parses and is not before the start.

    A wrong end is dropped rather than the event rejected: the event still happens, and the
    skill can still announce its start.
    """
    if not isinstance(text, str):
        return
    instant = _parse_instant(text)
    if instant is None:
        return
    end = instant.astimezone(tz)
    if end < start:
        return
    item["end_time"] = end.strftime("%H:%M")
    item["end_iso"] = end.isoformat()
    if end.date() > start.date():
        item["end_date"] = end.date().isoformat()


def _ttl(day: date, tz: ZoneInfo) -> int:
    expires = datetime.combine(day + timedelta(days=TTL_DAYS_AFTER_EVENT), time(0, 0), tzinfo=tz)
    return int(expires.timestamp())


def _subcategories(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    cleaned = (clean_text(v, SUBCATEGORY_MAX_CHARS).lower() for v in value[:SUBCATEGORIES_MAX])
    return [v for v in cleaned if v]


def _url(value: object) -> str:
    """A usable http(s) URL as given, or "". Not cleaned like prose: entity decoding would turn
    a query such as ``?a=1&copy=2`` into ``?a=1©=2``."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    usable = (
        url.startswith(("https://", "http://"))
        and len(url) <= URL_MAX_CHARS
        and not any(ch.isspace() or ch in '<>"' or not ch.isprintable() for ch in url)
    )
    return url if usable else ""


def _address(parts: Mapping[str, Any]) -> str:
    street = clean_text(parts.get("streetAddress"), 100)
    locality = clean_text(parts.get("locality"), 100)
    region = " ".join(
        p
        for p in (clean_text(parts.get("region"), 20), clean_text(parts.get("postalCode"), 20))
        if p
    )
    return ", ".join(p for p in (street, locality, region) if p)


def _add_optional(item: dict[str, Any], key: str, value: str) -> None:
    if value:
        item[key] = value
