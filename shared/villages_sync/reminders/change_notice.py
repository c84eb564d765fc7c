"""The change feed's events, as the reminders read them: a small typed reader of the Detail
that CONTRACT.md (docs/architecture.md, "change feed") defines. Pure.

Only what a reminder needs is read (the event's id, the change's id, and the listener view's
title, date, time, place, all-day flag); anything else in the Detail is ignored, so fields the
feed adds later change nothing here. A Detail that lacks what is needed raises
``UnreadableChange``: the record fails and, retried, ends in the queue's DLQ for an operator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum
from typing import Any

SOURCE = "villages-sync.events"
_CHANGE_ID = re.compile(r"^[0-9a-f]{64}$")
_EVENT_ID = re.compile(r"^[0-9]{1,20}$")
MAX_TEXT_CHARS = 300  # a title or place longer than this is cut (a reminder says it aloud)


class ChangeKind(StrEnum):
    """The detail-types a reminder follows; the rest of the feed (Added, Updated) is not read."""

    MOVED = "Event Moved"
    CANCELLED = "Event Cancelled"
    REMOVED = "Event Removed"


class UnreadableChange(ValueError):
    """The event is not a change this reader understands; names what is wrong (never a value
    longer than a few characters: the text is the sender's)."""


@dataclass(frozen=True, slots=True)
class ListenerView:
    """The part of the feed's listener view a reminder says or schedules by."""

    title: str
    event_date: date
    start_time: time | None  # None for an all-day event
    location: str
    all_day: bool

    @classmethod
    def read(cls, data: Any, *, name: str) -> ListenerView:
        if not isinstance(data, Mapping):
            raise UnreadableChange(f"{name} is not an object")
        try:
            event_date = date.fromisoformat(_text(data, "event_date", name))
            all_day = data.get("all_day") is True
            start = None if all_day else time.fromisoformat(_text(data, "start_time", name))
        except ValueError as error:
            if isinstance(error, UnreadableChange):
                raise
            raise UnreadableChange(f"{name} has no usable date or start time") from None
        return cls(
            title=_text(data, "title", name)[:MAX_TEXT_CHARS],
            event_date=event_date,
            start_time=start,
            location=str(data.get("location") or "")[:MAX_TEXT_CHARS],
            all_day=all_day,
        )


@dataclass(frozen=True, slots=True)
class EventChange:
    kind: ChangeKind
    change_id: str  # the feed's idempotency key: a redelivered change carries the same one
    event_id: str
    before: ListenerView
    after: ListenerView | None  # None when removed


def read_change(event: Mapping[str, Any]) -> EventChange:
    """An EventBridge event (as the rule delivers it to the queue: ``source``,
    ``detail-type``, ``detail``) as an ``EventChange``; raises ``UnreadableChange``."""
    if event.get("source") != SOURCE:
        raise UnreadableChange("not from the change feed (source)")
    try:
        kind = ChangeKind(str(event.get("detail-type")))
    except ValueError:
        raise UnreadableChange("not a change a reminder follows (detail-type)") from None
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise UnreadableChange("detail is not an object")
    change_id, event_id = detail.get("change_id"), detail.get("event_id")
    if not isinstance(change_id, str) or not _CHANGE_ID.match(change_id):
        raise UnreadableChange("change_id is not a sha256 hex digest")
    if not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
        raise UnreadableChange("event_id is not a decimal string")
    before = ListenerView.read(detail.get("before"), name="before")
    after = None
    if kind is not ChangeKind.REMOVED:
        after = ListenerView.read(detail.get("after"), name="after")
    return EventChange(kind, change_id, event_id, before, after)


def _text(data: Mapping[str, Any], key: str, name: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise UnreadableChange(f"{name}.{key} is missing")
    return value.strip()
