"""What the session keeps between turns: the question asked, when, and where the listener is in
its answer. Pure.

Session attributes come back from the device with every request, so they are read as untrusted
input: a question covers at most MAX_RANGE_DAYS days, offsets are bounded, venues and kinds
must be known ones, the moment of asking must be within a day of the request, and anything
else is refused (``pending_of`` returns None) before a single day is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from villages_sync.skill.catalog import Category, Venue, category_by_id, venue_by_id
from villages_sync.skill.dates import AskedDays, RangeKind
from villages_sync.skill.timeframe import PartOfDay

PENDING = "pending"  # the session attribute that holds a question with more to read
ASKED = "asked"  # the same, for a question answered to the end (kept for follow-ups)
MAX_RANGE_DAYS = 31  # a question read back from the session covers at most a month
MAX_OFFSET = 1000  # and points at most this far into its answer


@dataclass(frozen=True, slots=True)
class Question:
    days: AskedDays
    part: PartOfDay | None = None
    venue: Venue | None = None
    category: Category | None = None
    at: time | None = None  # "what's on at 7": what is on at, or starts in the hour after

    def as_attributes(self) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "first": self.days.first.isoformat(),
            "last": self.days.last.isoformat(),
            "asked_first": self.days.asked_first.isoformat(),
            "kind": str(self.days.kind),
            "part": str(self.part) if self.part else None,
            "venue": self.venue.id if self.venue else None,
            "category": self.category.id if self.category else None,
        }
        if self.days.evening_first:
            attributes["evening_first"] = True
        if self.at is not None:
            attributes["at"] = self.at.strftime("%H:%M")
        return attributes

    @classmethod
    def from_attributes(cls, data: Any) -> Question:
        """The question kept in the session, validated as untrusted input: raises ValueError
        for anything but a range of at most MAX_RANGE_DAYS days and known values."""
        if not isinstance(data, Mapping):
            raise ValueError("not a question")
        first, last = _date_of(data.get("first")), _date_of(data.get("last"))
        asked_first = _date_of(data.get("asked_first"))
        if not first <= last <= first + timedelta(days=MAX_RANGE_DAYS - 1):
            raise ValueError("range")
        if not first - timedelta(days=7) <= asked_first <= first:
            raise ValueError("asked_first")
        days = AskedDays(
            first,
            last,
            RangeKind(_short(data.get("kind"))),
            asked_first,
            evening_first=data.get("evening_first") is True,
        )
        part = PartOfDay(_short(data["part"])) if data.get("part") is not None else None
        venue = venue_by_id(_short(data["venue"])) if data.get("venue") is not None else None
        category = (
            category_by_id(_short(data["category"])) if data.get("category") is not None else None
        )
        at = time.fromisoformat(_short(data["at"])) if data.get("at") is not None else None
        if (data.get("venue") and venue is None) or (data.get("category") and category is None):
            raise ValueError("unknown venue or kind")
        return cls(days, part, venue, category, at)


def _short(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("not a short text")
    return value


def _date_of(value: Any) -> date:
    return date.fromisoformat(_short(value))


@dataclass(frozen=True, slots=True)
class Pending:
    """Where a listener is in an answer: the question, when it was asked, the page last said
    (``said``), the next page (``offset``), and a narrower question offered (``offer``)."""

    question: Question
    asked_at: datetime
    offset: int = 0
    said: int = 0
    offer: str | None = None  # a venue id: "shall I read those?"
    complete: bool = False  # read to the end (kept as ASKED, not PENDING)

    def as_attributes(self) -> dict[str, Any]:
        pending: dict[str, Any] = {
            "question": self.question.as_attributes(),
            "asked_at": self.asked_at.isoformat(),
            "offset": self.offset,
        }
        if self.said:
            pending["said"] = self.said
        if self.offer:
            pending["offer"] = self.offer
        return {ASKED if self.complete else PENDING: pending}

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, Any] | None, *, now: datetime) -> Pending:
        """Raises ValueError when the session holds nothing of ours, or anything out of bounds:
        the question (see ``Question``), a moment within a day of ``now``, offsets 0..MAX_OFFSET.
        """
        attributes = attributes if isinstance(attributes, Mapping) else {}
        complete = PENDING not in attributes
        pending = attributes.get(ASKED if complete else PENDING)
        if not isinstance(pending, Mapping):
            raise ValueError("nothing pending")
        question = Question.from_attributes(pending.get("question"))
        asked_at = datetime.fromisoformat(_short(pending.get("asked_at")))
        if asked_at.tzinfo is None or abs(asked_at - now) > timedelta(days=1):
            raise ValueError("asked_at")
        offset, said = pending.get("offset", 0), pending.get("said", 0)
        for number in (offset, said):
            if type(number) is not int or not 0 <= number <= MAX_OFFSET:
                raise ValueError("offset")
        offer = pending.get("offer")
        if offer is not None and (venue_by_id(_short(offer)) is None):
            raise ValueError("offer")
        return cls(question, asked_at, offset, said, offer, complete)


def pending_of(attributes: Mapping[str, Any] | None, *, now: datetime) -> Pending | None:
    """The session's pending question, or None when there is none we can trust."""
    try:
        return Pending.from_attributes(attributes, now=now)
    except (TypeError, KeyError, ValueError):
        return None
