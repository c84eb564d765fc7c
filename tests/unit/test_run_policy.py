"""The producer's rules over a scrape's tallies: empty calendars and degraded runs."""

from __future__ import annotations

from datetime import date

import pytest
from villages_sync.models import RejectReason
from villages_sync.run_policy import (
    MAX_UNIDENTIFIED,
    degraded_reason,
    nothing_fetched,
    nothing_valid,
)


def test_nothing_fetched_only_when_no_event_came():
    assert nothing_fetched(0, 7) == "the calendar returned no events (count=7)"
    assert nothing_fetched(1, 0) == ""


def test_nothing_valid_names_the_window_and_the_rejects():
    rejects = {str(RejectReason.OUTSIDE_WINDOW): 4}
    reason = nothing_valid(4, 0, date(2026, 12, 6), date(2027, 3, 5), rejects)
    assert reason == (
        "none of the 4 events fetched is valid and inside 2026-12-06..2027-03-05 "
        f"(rejects: {rejects})"
    )
    assert nothing_valid(4, 1, date(2026, 12, 6), date(2027, 3, 5), rejects) == ""


OUTSIDE = str(RejectReason.OUTSIDE_WINDOW)
INVALID = str(RejectReason.INVALID)


@pytest.mark.parametrize(
    ("rejects", "valid", "degraded"),
    [
        ({}, 100, False),
        ({INVALID: 10}, 90, False),  # 10% is the limit itself
        ({INVALID: 11}, 89, True),
        ({OUTSIDE: 500, INVALID: 1}, 99, False),  # outside the window is not invalid
        ({INVALID: 5}, 0, True),
        ({}, 0, False),  # nothing judged: empty, not degraded
    ],
)
def test_degraded_reason_table(rejects, valid, degraded):
    assert bool(degraded_reason(rejects, valid, 0.10)) is degraded


def test_degraded_reason_too_many_unidentified_even_under_the_ratio():
    unidentified = str(RejectReason.MISSING_ID)
    reason = degraded_reason({unidentified: MAX_UNIDENTIFIED + 1}, 10**6, 0.10)
    assert reason.startswith(f"{MAX_UNIDENTIFIED + 1} fetched event(s) have no usable id")
