"""The one date grammar of the command line: ``events --date`` takes what ``skill ask`` takes.

Words go through the skill's own path (``amazon_date``: the AMAZON.DATE value Alexa would send
for them, then ``parse_amazon_date``: the days that value covers), so ``saturday``,
``this weekend``, ``next week`` or ``2026-W49-WE`` mean the same days in both commands. A plain
``YYYY-MM-DD`` is that day even when it is past (an operator may look back).
"""

from __future__ import annotations

from datetime import date

from villages_sync.skill.dates import DateProblem, parse_amazon_date

from villages_sync_ops.cli.errors import UsageError
from villages_sync_ops.skill.envelopes import amazon_date

GRAMMAR = (
    "today, tomorrow, a weekday (saturday), this/next week, this/next weekend, "
    "this/next month, YYYY-MM-DD or an AMAZON.DATE value (2026-W49-WE)"
)
MOST_DAYS = 31  # a month at most: one read per day


def parse_days(text: str, *, today: date) -> list[date]:
    """The local days ``text`` names, in order (UsageError naming the grammar otherwise)."""
    said = text.strip()
    try:
        return [date.fromisoformat(said)]
    except ValueError:
        pass
    asked = parse_amazon_date(amazon_date(said, today=today), today=today)
    if isinstance(asked, DateProblem):
        raise UsageError(f"--date {text!r}: {_problem(asked)}; say {GRAMMAR}")
    days = asked.days
    if len(days) > MOST_DAYS:
        raise UsageError(f"--date {text!r} covers {len(days)} days; at most {MOST_DAYS}")
    return days


def _problem(problem: DateProblem) -> str:
    if problem == DateProblem.PAST:
        return "that is over (give YYYY-MM-DD to look back)"
    if problem == DateProblem.TOO_BROAD:
        return "too broad"
    return "not a date this command knows"
