"""What a listener would hear had changed: one DynamoDB stream record in, zero or one Change out.

Pure: no I/O. The events table is rewritten on every run (the run marker, miss counts, strikes,
``last_updated``, ``ttl``, a ``content_hash`` recomputed over unheard fields); none of that is a
change. Only the *listener view* (title, date, times, venue, category, all-day, cancelled: the
fields ``ListenerView`` names) is compared, before and after, and a change is named by what differs:

* ``Event Added``: a new item, or a tombstone brought back to life;
* ``Event Removed``: the sweep made the item a tombstone (``deleted_by`` set), or a REMOVE that
  is not a TTL expiry (an operator deleted it by hand);
* ``Event Cancelled``: ``cancelled`` went false -> true;
* ``Event Moved``: the date, the start time or the venue changed (and it was not cancelled);
* ``Event Updated``: any other field of the listener view changed.

A TTL expiry (the stream names the DynamoDB service as the identity) and the expiry or rewrite
of a tombstone are never changes. The change's id is a digest of the event, the run whose write
caused it and the two views: a redelivered stream record yields the same id (consumers drop the
second), while the same move made again by a later run (A -> B, back, then A -> B again) is a
new change with a new id.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from boto3.dynamodb.types import TypeDeserializer

CHANGE_SOURCE = "villages-sync.events"
TOMBSTONE_MARK = "deleted_by"  # the sweep's tombstone (see aws/events_table.py)
TTL_PRINCIPAL = "dynamodb.amazonaws.com"
TTL_IDENTITY_TYPE = "Service"

_MOVE_FIELDS = frozenset({"event_date", "start_time", "location"})


class ChangeKind(enum.StrEnum):
    """The detail-type of the event put on the changes bus."""

    ADDED = "Event Added"
    MOVED = "Event Moved"
    CANCELLED = "Event Cancelled"
    UPDATED = "Event Updated"
    REMOVED = "Event Removed"


class ListenerView(TypedDict):
    """What a listener hears about an event: the only fields a change is made of."""

    title: str
    event_date: str
    start_time: str
    end_time: str | None
    all_day: bool
    location: str
    category: str
    cancelled: bool
    start_iso: str


_VIEW_FIELDS = tuple(ListenerView.__annotations__)


class ChangeDetail(TypedDict):
    change_id: str
    event_id: str
    run_id: str | None
    changed: list[str]
    before: ListenerView | None
    after: ListenerView | None


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    detail: ChangeDetail

    @property
    def change_id(self) -> str:
        return self.detail["change_id"]


class UnreadableRecordError(ValueError):
    """A stream record this module cannot read: the mapping's on-failure queue gets it."""


_deserializer = TypeDeserializer()


def change_from_record(record: Mapping[str, Any]) -> Change | None:
    """The calendar change one stream record (Lambda's DynamoDB event record) stands for."""
    try:
        name = record["eventName"]
        stream = record["dynamodb"]
        keys = _plain_image(stream["Keys"]) or {}
        event_id = str(keys["event_id"])
        old = _plain_image(stream.get("OldImage"))
        new = _plain_image(stream.get("NewImage"))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UnreadableRecordError(f"not a DynamoDB stream record: {error!r}") from error
    if name == "REMOVE" and is_ttl_expiry(record):
        return None
    if name not in ("INSERT", "MODIFY", "REMOVE"):
        raise UnreadableRecordError(f"unknown eventName {name!r}")
    before = _view_of(old) if name != "INSERT" else None
    after = _view_of(new) if name != "REMOVE" else None
    if before is None and after is None:
        return None  # a tombstone written, rewritten or expired: nothing a listener hears
    if before == after:
        return None  # the marker, misses, strikes, last_updated, ttl, content_hash only
    kind, changed = _kind(before, after)
    run_id = _causing_run(new)  # None for a REMOVE: nothing names who deleted it
    detail: ChangeDetail = {
        "change_id": change_id(event_id, run_id, before, after),
        "event_id": event_id,
        "run_id": run_id,
        "changed": changed,
        "before": before,
        "after": after,
    }
    return Change(kind, detail)


def is_ttl_expiry(record: Mapping[str, Any]) -> bool:
    """DynamoDB's TTL deletes carry the service as their identity (documented shape)."""
    identity = record.get("userIdentity")
    return (
        isinstance(identity, Mapping)
        and identity.get("type") == TTL_IDENTITY_TYPE
        and identity.get("principalId") == TTL_PRINCIPAL
    )


def change_id(
    event_id: str, run_id: str | None, before: ListenerView | None, after: ListenerView | None
) -> str:
    """Stable over redelivery: the same record always digests to the same id."""
    payload = json.dumps(
        [event_id, run_id, before, after], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def listener_view(item: Mapping[str, Any]) -> ListenerView:
    """The listener view of a live events-table item (ValueError when it lacks a field)."""
    try:
        end_time = item.get("end_time")
        return {
            "title": str(item["title"]),
            "event_date": str(item["event_date"]),
            "start_time": str(item["start_time"]),
            "end_time": None if end_time in (None, "") else str(end_time),
            "all_day": bool(item.get("all_day", False)),
            "location": str(item.get("location", "")),
            "category": str(item.get("category", "")),
            "cancelled": bool(item.get("cancelled", False)),
            "start_iso": str(item.get("start_iso", "")),
        }
    except KeyError as error:
        raise UnreadableRecordError(f"item lacks {error}") from error


def _view_of(item: Mapping[str, Any] | None) -> ListenerView | None:
    if not item or TOMBSTONE_MARK in item:
        return None
    return listener_view(item)


def _kind(before: ListenerView | None, after: ListenerView | None) -> tuple[ChangeKind, list[str]]:
    if before is None:
        return ChangeKind.ADDED, []
    if after is None:
        return ChangeKind.REMOVED, []
    changed = sorted(name for name in _VIEW_FIELDS if after.get(name) != before.get(name))
    if after["cancelled"] and not before["cancelled"]:
        return ChangeKind.CANCELLED, changed
    if _MOVE_FIELDS.intersection(changed) and not after["cancelled"]:
        return ChangeKind.MOVED, changed
    return ChangeKind.UPDATED, changed


def _causing_run(new: Mapping[str, Any] | None) -> str | None:
    """The run whose write made the new image: its tombstone mark, else its marker."""
    if not new:
        return None
    run = new.get(TOMBSTONE_MARK) or new.get("run_id")
    return str(run) if run else None


def _plain_image(image: Any) -> dict[str, Any] | None:
    """A stream image (DynamoDB JSON) as plain values; None when absent."""
    if image is None:
        return None
    if not isinstance(image, Mapping):
        raise TypeError(f"image is {type(image).__name__}, not a map")
    return {key: _deserializer.deserialize(value) for key, value in image.items()}
