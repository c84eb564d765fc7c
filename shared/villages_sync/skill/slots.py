"""A request's slots as plain choices, and what each choice names in the catalog.

Reads the ASK SDK's model objects by attribute (``slot.value``,
``slot.resolutions.resolutions_per_authority[].status.code``, ``...values[].value.id``) without
importing the SDK, so this stays pure and testable with the SDK's real objects or stand-ins.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from villages_sync.skill.catalog import (
    CATEGORIES,
    PARTS_OF_DAY,
    VENUES,
    Category,
    Venue,
    category_by_id,
    venue_by_id,
)
from villages_sync.skill.timeframe import PartOfDay

T = TypeVar("T")


class Resolution(enum.StrEnum):
    """Entity resolution status codes (``resolutionsPerAuthority[].status.code``)."""

    MATCH = "ER_SUCCESS_MATCH"
    NO_MATCH = "ER_SUCCESS_NO_MATCH"
    TIMEOUT = "ER_ERROR_TIMEOUT"
    EXCEPTION = "ER_ERROR_EXCEPTION"


@dataclass(frozen=True, slots=True)
class SlotChoice:
    spoken: str = ""  # what Alexa heard ("" when the slot was not filled)
    resolved_id: str | None = None  # the matched slot value's id
    status: Resolution | None = None  # None: the slot type has no entity resolution

    @property
    def filled(self) -> bool:
        return bool(self.spoken.strip())


def slot_choice(slot: Any) -> SlotChoice:
    """One ASK ``Slot`` (or None) as a SlotChoice: the first authority that matched wins."""
    if slot is None:
        return SlotChoice()
    spoken = str(getattr(slot, "value", None) or "")
    authorities = getattr(getattr(slot, "resolutions", None), "resolutions_per_authority", None)
    status: Resolution | None = None
    for authority in authorities or []:
        code = _status_code(authority)
        if code is Resolution.MATCH:
            values = getattr(authority, "values", None) or []
            value = getattr(values[0], "value", None) if values else None
            if value is not None and getattr(value, "id", None):
                return SlotChoice(spoken, str(value.id), Resolution.MATCH)
        if status is None or code is Resolution.NO_MATCH:
            status = code
    return SlotChoice(spoken, None, status)


def _status_code(authority: Any) -> Resolution | None:
    code = getattr(getattr(authority, "status", None), "code", None)
    raw = getattr(code, "value", code)  # the SDK's StatusCode enum, or a plain string
    try:
        return Resolution(str(raw))
    except ValueError:
        return None


def resolved_venue(choice: SlotChoice) -> Venue | None:
    """The venue a filled slot names; None when entity resolution found none."""
    if choice.resolved_id and (venue := venue_by_id(choice.resolved_id)):
        return venue
    return _by_words(choice, ((v, (v.name, *v.synonyms)) for v in VENUES))


def resolved_category(choice: SlotChoice) -> Category | None:
    if choice.resolved_id and (category := category_by_id(choice.resolved_id)):
        return category
    return _by_words(choice, ((c, (c.name, *c.synonyms)) for c in CATEGORIES))


def resolved_part(choice: SlotChoice) -> PartOfDay | None:
    if choice.resolved_id in PartOfDay.__members__:
        return PartOfDay[str(choice.resolved_id)]
    return _by_words(choice, ((PartOfDay[i], (name, *syn)) for i, name, syn in PARTS_OF_DAY))


def _by_words(choice: SlotChoice, entries: Iterable[tuple[T, tuple[str, ...]]]) -> T | None:
    """Our own match of the spoken words, only when resolution itself failed (ER_ERROR_*, or
    no resolutions at all): ER_SUCCESS_NO_MATCH is Alexa's answer, and stands."""
    if choice.status is Resolution.NO_MATCH or not choice.filled:
        return None
    wanted = _words(choice.spoken)
    for entry, names in entries:
        if wanted in {_words(name) for name in names}:
            return entry
    return None


def _words(text: str) -> str:
    words = text.casefold().replace("'s", "s").split()
    return " ".join(words[1:] if words[:1] == ["the"] else words)
