"""One page of the events API: what it holds and how its JSON is read."""

from __future__ import annotations

import json
from collections.abc import Callable, MutableSet
from dataclasses import dataclass
from typing import Any

from villages_sync.calendar_api.transport import CalendarError
from villages_sync.event_ids import id_key

API_ACCEPT = "application/json, text/plain, */*"
SNIPPET_CHARS = 60
# Python refuses to convert integers of more digits than this (sys.int_info): one absurd id in
# the feed must not make a whole page unreadable.
_MAX_INT_DIGITS = 4300


@dataclass(slots=True)
class Page:
    start_row: int
    events: list[Any]  # [] once streamed
    count: int
    rows: int = -1  # how many rows it held
    fresh: int = 0  # streamed: its events with a usable id no page had delivered before

    def __post_init__(self) -> None:
        if self.rows < 0:
            self.rows = len(self.events)


def parse_json_int(digits: str) -> int | str:
    """An integer, or its digits as text when Python would refuse to convert it."""
    return int(digits) if len(digits.lstrip("-")) <= _MAX_INT_DIGITS else digits


def parse_page(url: str, start_row: int, body: bytes, redact: Callable[[str], str]) -> Page:
    """The page's events and ``count``, or a ``CalendarError`` saying what is wrong with it
    (its first bytes quoted through ``redact``)."""
    try:
        data = json.loads(body, parse_int=parse_json_int)
    except (ValueError, RecursionError) as error:
        problem = f"response is not valid JSON ({error}); it starts {snippet(body, redact)}"
        raise CalendarError(url, problem) from None
    if not isinstance(data, dict):
        raise CalendarError(url, f"response is a JSON {type(data).__name__}, not an object")
    events, count = data.get("events"), data.get("count")
    if not isinstance(events, list):
        keys = ", ".join(sorted(str(k) for k in data)[:10]) or "none"
        raise CalendarError(url, f"response has no 'events' list (its keys: {keys})")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise CalendarError(url, f"response has no whole-number 'count' (got {count!r:.40})")
    return Page(start_row, events, count)


def snippet(body: bytes, redact: Callable[[str], str]) -> str:
    text = body[:SNIPPET_CHARS].decode("utf-8", errors="replace")
    return repr(redact(text))


def raw_id(event: object) -> object:
    """An upstream event's ``id`` as sent (any type), or None when it is not an object."""
    return event.get("id") if isinstance(event, dict) else None


def unique_by_id(pages: Any, seen: MutableSet[object] | None = None) -> list[dict[str, Any]]:
    """First occurrence of each id (``event_ids.id_key``: 12, "12" and 12.0 are one), in API
    order. Objects without a usable id pass through so that the normaliser counts and logs them
    as rejects instead of them vanishing here."""
    seen = set() if seen is None else seen
    unique: list[dict[str, Any]] = []
    for events in pages:
        for event in events:
            key = id_key(raw_id(event))
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            unique.append(event)
    return unique
