"""`events --date` speaks the skill's date grammar (cli/dates.py over skill/dates.py)."""

from __future__ import annotations

from datetime import date

import pytest
from villages_sync.skill.dates import parse_amazon_date
from villages_sync_ops.cli.dates import parse_days
from villages_sync_ops.cli.errors import UsageError
from villages_sync_ops.skill.envelopes import amazon_date

WEDNESDAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("words", "days"),
    [
        ("today", [date(2026, 12, 2)]),
        ("tomorrow", [date(2026, 12, 3)]),
        ("Saturday", [date(2026, 12, 5)]),
        ("this weekend", [date(2026, 12, 5), date(2026, 12, 6)]),
        ("2026-W50-WE", [date(2026, 12, 12), date(2026, 12, 13)]),
        ("2026-01-01", [date(2026, 1, 1)]),  # a past day, given exactly: looking back is allowed
    ],
)
def test_parse_days_names_the_days(words, days):
    assert parse_days(words, today=WEDNESDAY) == days


@pytest.mark.parametrize("words", ["saturday", "this weekend", "next week", "next weekend"])
def test_parse_days_agrees_with_the_skill(words):
    asked = parse_amazon_date(amazon_date(words, today=WEDNESDAY), today=WEDNESDAY)
    assert parse_days(words, today=WEDNESDAY) == asked.days


@pytest.mark.parametrize("words", ["someday", "this year", "2026"])
def test_parse_days_refuses_what_it_cannot_answer_naming_the_grammar(words):
    with pytest.raises(UsageError, match="this/next weekend"):
        parse_days(words, today=WEDNESDAY)
