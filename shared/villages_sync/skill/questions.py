"""What a WhatsOnIntent's slots ask: the ``Question`` they fill in, or what could not be
understood (``NotUnderstood``), and the time of day a bare hour means. Pure. Split from
``conversation``, which answers the question (and re-exports these names for its callers)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any

from villages_sync.skill.dates import AskedDays, DateProblem, RangeKind, parse_amazon_date
from villages_sync.skill.session import Question
from villages_sync.skill.slots import (
    SlotChoice,
    resolved_category,
    resolved_part,
    resolved_venue,
)
from villages_sync.skill.speech import echo
from villages_sync.skill.timeframe import PartOfDay


class SlotProblem(enum.StrEnum):
    """A slot other than the date that named nothing the skill knows."""

    VENUE = "venue"
    CATEGORY = "category"
    PART = "part"
    TIME = "time"


@dataclass(frozen=True, slots=True)
class NotUnderstood:
    problem: DateProblem | SlotProblem
    spoken: str
    # What was understood: kept in the session so that a one-word answer completes it.
    understood: Question | None = field(default=None, compare=False)


# ------------------------------------------------------------------------------ questions


def understand(
    slots: Mapping[str, SlotChoice], *, today: date, base: Question | None = None
) -> Question | NotUnderstood:
    """The question a WhatsOnIntent's slots ask, or what could not be understood. With
    ``base`` (a one-word follow-up), the filled slots change that question and the rest stays.
    """
    question = base or Question(AskedDays(today, today, RangeKind.DAY, today))
    date_choice = slots.get("date", SlotChoice())
    if date_choice.filled or base is None:
        days = parse_amazon_date(date_choice.spoken, today=today)
        if isinstance(days, DateProblem):
            return NotUnderstood(days, echo(date_choice.spoken), question)
        part = PartOfDay.NOW if days.now_requested else None
        question = replace(question, days=days, part=part if base is None else question.part)
        if days.now_requested:
            question = replace(question, part=PartOfDay.NOW, at=None)
    for name, resolve, attribute, unknown in (
        ("venue", resolved_venue, "venue", SlotProblem.VENUE),
        ("category", resolved_category, "category", SlotProblem.CATEGORY),
        ("partOfDay", resolved_part, "part", SlotProblem.PART),
    ):
        choice = slots.get(name, SlotChoice())
        if not choice.filled:
            continue
        value = resolve(choice)
        if value is None:
            return NotUnderstood(unknown, echo(choice.spoken), question)
        changed: dict[str, Any] = {attribute: value}  # the field the slot fills
        question = replace(question, **changed)
        if attribute == "part":
            question = replace(question, at=None)
    time_choice = slots.get("time", SlotChoice())
    if time_choice.filled:
        asked = _asked_time(time_choice.spoken)
        if isinstance(asked, PartOfDay):
            question = replace(question, part=asked, at=None)
        elif asked is None:
            return NotUnderstood(SlotProblem.TIME, echo(time_choice.spoken), question)
        else:
            question = replace(question, at=asked, part=None)
    return question


_TIME_WORDS = {
    "MO": PartOfDay.MORNING,
    "AF": PartOfDay.AFTERNOON,
    "EV": PartOfDay.EVENING,
    "NI": PartOfDay.EVENING,
}


def _asked_time(value: str) -> time | PartOfDay | None:
    """An AMAZON.TIME value: ``19:00``, ``07:00``, or a part of day (``EV``)."""
    text = value.strip().upper()
    if text in _TIME_WORDS:
        return _TIME_WORDS[text]
    try:
        return time.fromisoformat(text[:5])
    except ValueError:
        return None


def meant_time(question: Question, now: datetime) -> Question:
    """ "What's on at 7": 7 in the evening when 7 in the morning is over, or is a small hour."""
    at = question.at
    if at is None or at.hour >= 12:
        return question
    passed = question.days.first == now.date() and at < now.time()
    if passed or 1 <= at.hour <= 6:
        return replace(question, at=at.replace(hour=at.hour + 12))
    return question
