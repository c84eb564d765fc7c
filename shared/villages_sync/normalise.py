"""Upstream API events to stored items: local dates and times, clean text, validation. Pure.

The API gives UTC instants (``2025-11-14T22:00:00.000Z``); the skill wants The Villages' local
date and time, so an evening show 22:00Z-02:00Z in November is 17:00-21:00 on the 14th.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, MutableSet
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from villages_sync.event_fields import (
    SHORT_TEXT_MAX_CHARS,
    add_optional,
    address_of,
    clean_url,
    flag_of,
    lower_clean,
    part_of,
    snippet,
    subcategories_of,
)
from villages_sync.event_ids import stored_id, too_long
from villages_sync.event_times import add_end, hh_mm, local_start, ttl_of
from villages_sync.messages import MessageFormatError, validate_event_item
from villages_sync.models import (
    CONTENT_HASH_BYTES,
    DESCRIPTION_MAX_CHARS,
    PLAUSIBLE_DAYS_AFTER_WINDOW,
    PLAUSIBLE_DAYS_BEFORE_WINDOW,
    PLAUSIBLE_SEASON_DAYS,
    TITLE_MAX_CHARS,
    DateWindow,
    EventItem,
    RejectReason,
)
from villages_sync.text import clean_text

_UNHASHED = ("last_updated", "ttl", "content_hash")
# One encoder for every hash: json.dumps with options builds a new one per call.
_HASH_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Rejection:
    event_id: str | None  # the usable id, when the event has one
    reason: RejectReason
    detail: str
    item: EventItem | None = None  # OUTSIDE_WINDOW: the valid item, to refresh a stored copy
    content: str | None = None  # no usable id: its content key, to protect a stored item


@dataclass(slots=True)
class NormaliseResult:
    items: list[EventItem] = field(default_factory=list)  # to upsert
    rejects: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    # Seen but not upserted, so that the sweep never deletes them (the run saw them):
    refresh: list[EventItem] = field(default_factory=list)  # valid, dated outside the window
    keep: list[str] = field(default_factory=list)  # ids of invalid events
    # Content keys (``content_key``) of events without a usable id: the sweep keeps the stored
    # item each matches (an existing event whose id turned odd), whatever its id.
    unidentified: list[str] = field(default_factory=list)
    duplicates: int = 0  # later events with an id already seen: the first one counts

    @property
    def invalid(self) -> int:
        """Events refused as invalid; those merely outside the window are not rejects."""
        return invalid_count(self.rejects)


# Rejects that name no usable id: matched to stored items by content instead (the sweep keeps
# the item whose date, start time, title and venue one carries); one that matches nothing
# cannot be an event we store, so it is only a counted reject.
UNIDENTIFIED = frozenset({RejectReason.NOT_AN_OBJECT, RejectReason.MISSING_ID, RejectReason.BAD_ID})


def unidentified_count(rejects: Mapping[str, int]) -> int:
    return sum(n for reason, n in rejects.items() if reason in UNIDENTIFIED)


def invalid_count(rejects: Mapping[str, int]) -> int:
    """How many rejects were invalid events (outside the window is not invalid)."""
    return sum(n for reason, n in rejects.items() if reason != RejectReason.OUTSIDE_WINDOW)


def window_for(now: datetime, tz: ZoneInfo, days_ahead: int) -> DateWindow:
    """Local today .. today + ``days_ahead``, both inclusive."""
    today = now.astimezone(tz).date()
    return DateWindow(first=today, last=today + timedelta(days=days_ahead))


def normalise_events(
    raws: Iterable[object],
    *,
    tz: ZoneInfo,
    window: DateWindow,
    last_updated: int,
    seen: MutableSet[str] | None = None,
) -> NormaliseResult:
    """Every raw event normalised or rejected with a reason; duplicates of an id kept once.

    A rejected event with a usable id is still one the run saw: its item goes to ``refresh``
    when it is valid but dated outside the window (moved, or far ahead), its id to ``keep``
    otherwise; never to deletion. Each costs one conditional write a run, the price of never
    deleting an event the calendar still lists.
    """
    result = NormaliseResult()
    seen = set() if seen is None else seen  # a caller's: de-duplicate across calls (streaming)
    counts: Counter[str] = Counter()
    for raw in raws:
        outcome = normalise_event(raw, tz=tz, window=window, last_updated=last_updated)
        event_id = outcome.event_id if isinstance(outcome, Rejection) else outcome["event_id"]
        if event_id is not None and event_id in seen:
            result.duplicates += 1
            continue
        if event_id is not None:
            seen.add(event_id)
        if not isinstance(outcome, Rejection):
            result.items.append(outcome)
            continue
        counts[str(outcome.reason)] += 1
        result.rejections.append(outcome)
        if outcome.content is not None:
            result.unidentified.append(outcome.content)
        if outcome.item is not None:
            result.refresh.append(outcome.item)
        elif event_id is not None:
            # Invalid: listed all the same, so its stored copy (last good content) is kept.
            result.keep.append(event_id)
    result.rejects = dict(counts)
    return result


def normalise_event(
    raw: object, *, tz: ZoneInfo, window: DateWindow, last_updated: int
) -> EventItem | Rejection:
    """One API event as a stored item, or the reason it cannot be one. Never raises, whatever
    JSON value it is given, and applies exactly the rules the consumer checks
    (``messages.validate_event_item``), so every item it returns is accepted downstream."""
    if type(raw) is not dict and not isinstance(raw, Mapping):  # dict: no ABC check
        return Rejection(None, RejectReason.NOT_AN_OBJECT, f"got {type(raw).__name__}")
    event_id: str | None = None
    try:
        raw_id = raw.get("id")
        if raw_id is None:
            return Rejection(
                None, RejectReason.MISSING_ID, "id is missing", content=content_key(raw, tz)
            )
        event_id = stored_id(raw_id)
        if event_id is None:
            reason = RejectReason.ID_TOO_LONG if too_long(raw_id) else RejectReason.BAD_ID
            return Rejection(
                None, reason, f"id {snippet(raw_id)} is not an id", content=content_key(raw, tz)
            )
        outcome = _normalise(raw, event_id, tz=tz, window=window, last_updated=last_updated)
    except Exception as error:  # a last line of defence: one odd event must not stop a run
        outcome = Rejection(
            event_id, RejectReason.INVALID, f"{type(error).__name__}: {error}"[:200]
        )
    if isinstance(outcome, Rejection) and outcome.reason not in _DATED_REASONS:
        # An invalid event whose start still reads outside the window is outside the window:
        # it is not in this run's judgement (the degraded ratio), only its id is kept.
        start = _readable_start(raw, tz)
        if start is not None and start not in window:
            reason = (
                RejectReason.OUTSIDE_WINDOW
                if plausible(start, window)
                else RejectReason.IMPLAUSIBLE_DATE  # no date the calendar means: counted
            )
            return Rejection(event_id, reason, f"{start}, and {outcome.detail}")
    return outcome


def plausible(day: date, window: DateWindow, *, last_day: date | None = None) -> bool:
    """Dates a calendar entry can mean for a run over ``window``: an event that ended at most
    a month before it (moved into the recent past), started at most a year before it (a
    season still running), and neither starts nor ends years after it. The epoch a null date
    serialises to, or a garbled year, is none of these."""
    last = day if last_day is None else last_day
    latest = window.last + timedelta(days=PLAUSIBLE_DAYS_AFTER_WINDOW)
    return (
        window.first - timedelta(days=PLAUSIBLE_SEASON_DAYS) <= day <= latest
        and window.first - timedelta(days=PLAUSIBLE_DAYS_BEFORE_WINDOW) <= last <= latest
    )


# Rejections that already account for the start: no second look at the window needed.
_DATED_REASONS = frozenset(
    {
        RejectReason.OUTSIDE_WINDOW,
        RejectReason.MISSING_START,
        RejectReason.BAD_START,
        RejectReason.IMPLAUSIBLE_DATE,
    }
)


def content_key(raw: Mapping[str, Any], tz: ZoneInfo) -> str | None:
    """The seed's identity of an event, as a stored item would carry it: local date, start
    time, title and venue (``stored_content_key`` of the item). None when it has no title or
    readable start: then it matches nothing."""
    try:
        title = clean_text(raw.get("title"), TITLE_MAX_CHARS)
        start_text = part_of(raw, "start").get("date")
        if not title or not isinstance(start_text, str):
            return None
        all_day = flag_of(raw.get("allDay")) is True or part_of(raw, "start").get("type") == "date"
        start = local_start(start_text, tz, all_day=all_day)
        if start is None:
            return None
        location = clean_text(part_of(raw, "location").get("title"), SHORT_TEXT_MAX_CHARS)
        iso = start.isoformat()
        return stored_content_key(iso[:10], hh_mm(iso), title, location)
    except Exception:  # a last line of defence, like normalise_event's: never raises
        return None


def stored_content_key(event_date: str, start_time: str, title: str, location: str) -> str:
    return "\x1f".join((event_date, start_time, title, location))


def _readable_start(raw: Mapping[str, Any], tz: ZoneInfo) -> date | None:
    """The local start date, when it can be read whatever else is wrong with the event."""
    start_text = part_of(raw, "start").get("date")
    if not isinstance(start_text, str):
        return None
    all_day = flag_of(raw.get("allDay")) is True or part_of(raw, "start").get("type") == "date"
    start = local_start(start_text, tz, all_day=all_day)
    return start.date() if start is not None else None


def _normalise(
    raw: Mapping[str, Any], event_id: str, *, tz: ZoneInfo, window: DateWindow, last_updated: int
) -> EventItem | Rejection:
    title = clean_text(raw.get("title"), TITLE_MAX_CHARS)
    if not title:
        return Rejection(event_id, RejectReason.MISSING_TITLE, "title is empty")
    all_day_flag = flag_of(raw.get("allDay"))
    cancelled = flag_of(raw.get("cancelled"))
    featured = flag_of(raw.get("featured"))
    if all_day_flag is None or cancelled is None or featured is None:
        key = "allDay" if all_day_flag is None else "cancelled" if cancelled is None else "featured"
        return Rejection(
            event_id, RejectReason.BAD_FLAG, f"{key} {snippet(raw.get(key))} is not a boolean"
        )
    start_part = part_of(raw, "start")
    all_day = all_day_flag or start_part.get("type") == "date"
    start_text = start_part.get("date")
    if not isinstance(start_text, str) or not start_text.strip():
        return Rejection(event_id, RejectReason.MISSING_START, "start.date is missing")
    start = local_start(start_text, tz, all_day=all_day)
    if start is None:
        return Rejection(event_id, RejectReason.BAD_START, f"start.date {snippet(start_text)}")
    first_day = start.date()
    start_iso = start.isoformat()
    location = part_of(raw, "location")
    item: dict[str, Any] = {
        "event_id": event_id,
        "title": title,
        "description": clean_text(
            raw.get("description") or raw.get("excerpt"), DESCRIPTION_MAX_CHARS
        ),
        "event_date": start_iso[:10],  # what first_day.isoformat() gives
        "start_time": hh_mm(start_iso),
        "location": clean_text(location.get("title"), SHORT_TEXT_MAX_CHARS),
        "category": lower_clean(raw.get("category"), SHORT_TEXT_MAX_CHARS),
        "last_updated": int(last_updated),
        "ttl": 0,  # set below, from the last day (here for the key's place in the item)
        "start_iso": start_iso,
        "all_day": all_day,
        "cancelled": cancelled,
        "featured": featured,
        "subcategories": subcategories_of(raw.get("subcategories")),
    }
    add_end(
        item, part_of(raw, "end").get("date"), start, tz, all_day=all_day, start_text=start_text
    )
    add_optional(item, "url", clean_url(raw.get("url")))
    add_optional(item, "venue_category", clean_text(location.get("category"), 100))
    add_optional(item, "address", address_of(part_of(raw, "address")))
    last_day = date.fromisoformat(item["end_date"]) if "end_date" in item else first_day
    if not plausible(first_day, window, last_day=last_day):
        # Its stored copy (the last good one) is kept, never moved to this date: a ttl taken
        # from the epoch is already past, and DynamoDB would delete the item within days.
        return Rejection(
            event_id,
            RejectReason.IMPLAUSIBLE_DATE,
            f"{first_day}..{last_day} is not a date for a run over {window.first}..{window.last}",
        )
    # Expire 90 days after the last day, not the first: a season-long event stays while it runs.
    item["ttl"] = ttl_of(last_day, tz)
    item["content_hash"] = content_hash_of(item)
    try:
        validate_event_item(item)
    except MessageFormatError as error:
        return Rejection(event_id, RejectReason.INVALID, str(error))
    event_item = cast(EventItem, item)  # validate_event_item checked every field
    if first_day > window.last or last_day < window.first:
        # Valid but dated outside the window: a stored copy (dated inside it) is refreshed to
        # the new date, so the skill stops announcing the old one and the sweep never takes it.
        return Rejection(
            event_id,
            RejectReason.OUTSIDE_WINDOW,
            f"{first_day}..{last_day} not in {window.first}..{window.last}",
            item=event_item,
        )
    return event_item


def content_hash_of(item: Mapping[str, Any]) -> str:
    """A short stable hash of what the skill would say: tells "updated" from "unchanged"."""
    hashed = dict(item)  # a copy less three keys: cheaper than filtering every key
    for key in _UNHASHED:
        hashed.pop(key, None)
    encoded = _HASH_ENCODER.encode(hashed)
    return hashlib.blake2b(encoded.encode(), digest_size=CONTENT_HASH_BYTES).hexdigest()
