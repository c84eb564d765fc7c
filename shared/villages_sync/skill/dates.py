"""AMAZON.DATE slot values as the days a listener means.

Alexa resolves what was said into an ISO-8601-like value: a day (``2026-11-29``), an ISO week
(``2026-W48``, Monday to Sunday), a weekend (``2026-W48-WE``, Saturday and Sunday), a month
(``2026-11``), a year (``2026``), a season (``2026-WI``), a decade (``202X``), ``PRESENT_REF``
("now"), and values with unknown parts written as ``X`` (``XXXX-12-25``, ``2026-XX``). No value
means today. Pure: today is given.
"""

from __future__ import annotations

import calendar
import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta


class RangeKind(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    WEEKEND = "weekend"
    MONTH = "month"


class DateProblem(enum.StrEnum):
    """Why a date value cannot be answered (each has its own reply)."""

    UNCLEAR = "unclear"  # not a date, or a part is unknown (2026-XX)
    TOO_BROAD = "too_broad"  # a year, a season, a decade
    PAST = "past"  # over before today


@dataclass(frozen=True, slots=True)
class AskedDays:
    """The local days a question covers, both ends inclusive, never before today."""

    first: date
    last: date
    kind: RangeKind
    asked_first: date  # before clipping to today: "this week" said on a Wednesday
    now_requested: bool = False  # PRESENT_REF: "what's on now"
    # "This weekend" asked on a Friday: the first day (Friday) counts from the evening only.
    evening_first: bool = False

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


_DAY = re.compile(r"^(\d{4}|XXXX)-(\d{2})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4}|XXXX)-W(\d{1,2})(-WE)?$")
_MONTH = re.compile(r"^(\d{4}|XXXX)-(\d{2})$")
_TOO_BROAD = re.compile(r"^(\d{4}|\d{3}X|\d{2}XX|\d{4}-(WI|SP|SU|FA))$")


def parse_amazon_date(value: str | None, *, today: date) -> AskedDays | DateProblem:
    """The days ``value`` names, clipped to start today; or why it cannot be answered."""
    text = (value or "").strip().upper()
    if not text:
        return AskedDays(today, today, RangeKind.DAY, today)
    if text == "PRESENT_REF":
        return AskedDays(today, today, RangeKind.DAY, today, now_requested=True)
    asked = _parse(text, today)
    if not isinstance(asked, tuple):
        return asked
    first, last, kind = asked
    if last < today:
        return DateProblem.PAST
    if kind is RangeKind.WEEK and last == today:
        # "This week" asked on a Sunday means the coming days, not what is left of Sunday.
        return AskedDays(today, today + timedelta(days=6), kind, today)
    if kind is RangeKind.WEEKEND and first == today + timedelta(days=1):
        # "This weekend" asked on a Friday: Friday evening is the weekend's start.
        return AskedDays(today, last, kind, first, evening_first=True)
    return AskedDays(max(first, today), last, kind, first)


def _parse(text: str, today: date) -> tuple[date, date, RangeKind] | DateProblem:
    try:
        if match := _DAY.match(text):
            year, month, day = match.groups()
            if year == "XXXX":  # "December 25th": the next one
                return _next_occurrence(int(month), int(day), today)
            found = date(int(year), int(month), int(day))
            return found, found, RangeKind.DAY
        if match := _WEEK.match(text):
            year, week, weekend = match.groups()
            number = today.isocalendar().year if year == "XXXX" else int(year)
            if weekend:
                saturday = date.fromisocalendar(number, int(week), 6)
                return saturday, saturday + timedelta(days=1), RangeKind.WEEKEND
            monday = date.fromisocalendar(number, int(week), 1)
            return monday, monday + timedelta(days=6), RangeKind.WEEK
        if match := _MONTH.match(text):
            year, month = match.groups()
            number = int(year) if year != "XXXX" else _next_year_of_month(int(month), today)
            last_day = calendar.monthrange(number, int(month))[1]
            return date(number, int(month), 1), date(number, int(month), last_day), RangeKind.MONTH
    except ValueError:  # month 13, week 54, February 30th
        return DateProblem.UNCLEAR
    if _TOO_BROAD.match(text):
        return DateProblem.TOO_BROAD
    return DateProblem.UNCLEAR


def _next_occurrence(month: int, day: int, today: date) -> tuple[date, date, RangeKind]:
    for year in (today.year, today.year + 1, today.year + 2, today.year + 3, today.year + 4):
        try:
            found = date(year, month, day)
        except ValueError:  # February 29th outside a leap year
            continue
        if found >= today:
            return found, found, RangeKind.DAY
    raise ValueError(f"no date {month}-{day}")


def _next_year_of_month(month: int, today: date) -> int:
    return today.year if month >= today.month else today.year + 1
