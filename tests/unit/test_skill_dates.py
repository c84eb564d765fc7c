"""AMAZON.DATE values as the days a listener means (pure; today is given)."""

from __future__ import annotations

from datetime import date

import pytest
from villages_sync.skill.dates import AskedDays, DateProblem, RangeKind, parse_amazon_date

TODAY = date(2026, 11, 25)  # a Wednesday, ISO week 48


@pytest.mark.parametrize(
    ("value", "first", "last", "kind"),
    [
        (None, TODAY, TODAY, RangeKind.DAY),
        ("", TODAY, TODAY, RangeKind.DAY),
        ("2026-11-29", date(2026, 11, 29), date(2026, 11, 29), RangeKind.DAY),
        ("2026-W48", TODAY, date(2026, 11, 29), RangeKind.WEEK),  # clipped: Monday is past
        ("2026-W49", date(2026, 11, 30), date(2026, 12, 6), RangeKind.WEEK),
        ("2026-W48-WE", date(2026, 11, 28), date(2026, 11, 29), RangeKind.WEEKEND),
        ("2026-W53-WE", date(2027, 1, 2), date(2027, 1, 3), RangeKind.WEEKEND),
        ("2026-11", TODAY, date(2026, 11, 30), RangeKind.MONTH),
        ("2027-02", date(2027, 2, 1), date(2027, 2, 28), RangeKind.MONTH),
        ("XXXX-12-25", date(2026, 12, 25), date(2026, 12, 25), RangeKind.DAY),
        ("XXXX-01-02", date(2027, 1, 2), date(2027, 1, 2), RangeKind.DAY),
    ],
)
def test_parse_amazon_date_known_shapes_give_local_days(value, first, last, kind):
    asked = parse_amazon_date(value, today=TODAY)

    assert isinstance(asked, AskedDays)
    assert (asked.first, asked.last, asked.kind) == (first, last, kind)
    assert asked.days[0] == first and asked.days[-1] == last


def test_parse_amazon_date_week_keeps_the_monday_it_was_asked_from():
    asked = parse_amazon_date("2026-W48", today=TODAY)

    assert asked.asked_first == date(2026, 11, 23)
    assert len(asked.days) == 5


def test_parse_amazon_date_present_ref_means_now():
    asked = parse_amazon_date("PRESENT_REF", today=TODAY)

    assert asked.now_requested and asked.first == asked.last == TODAY


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2026-XX", DateProblem.UNCLEAR),
        ("2026-XX-XX", DateProblem.UNCLEAR),
        ("2026-02-30", DateProblem.UNCLEAR),
        ("2026-W54", DateProblem.UNCLEAR),
        ("2026-13", DateProblem.UNCLEAR),
        ("tomorrow", DateProblem.UNCLEAR),
        ("2026", DateProblem.TOO_BROAD),
        ("2026-WI", DateProblem.TOO_BROAD),
        ("202X", DateProblem.TOO_BROAD),
        ("2026-11-24", DateProblem.PAST),
        ("2026-W47", DateProblem.PAST),
        ("2026-10", DateProblem.PAST),
    ],
)
def test_parse_amazon_date_unanswerable_values_say_why(value, problem):
    assert parse_amazon_date(value, today=TODAY) is problem
