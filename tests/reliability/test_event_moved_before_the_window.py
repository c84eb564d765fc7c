"""Guards against a bug found in review: an event the calendar still lists, whose start now reads
earlier than the run's window (moved into the past, or a partial shape change that parses to an old
date), is neither upserted nor kept: two clean runs later its item is deleted, and no run is
degraded or refused.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.feeds import filler, raw_event, stored, sync, today
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="the deletion rules on a hand-made feed, not of the emulator"
)

X = 3_000_001


@pytest.mark.parametrize("shift_days", [-2, -400], ids=["moved-to-2-days-ago", "garbled-year"])
def test_listed_event_whose_start_reads_earlier_than_the_window_keeps_its_item(
    deployment, shift_days
):
    events = filler(40)
    x = raw_event(X, today() + timedelta(days=5))
    with RunningCalendar([*events, x]) as calendar:
        first = sync(deployment, calendar.base_url)
        assert str(X) in stored(deployment), first.producer_error

        # The calendar still lists X (same id), but its start now reads as before the window.
        moved = raw_event(X, today() + timedelta(days=shift_days))
        calendar.set_events([*events, moved])
        second = sync(deployment, calendar.base_url)
        third = sync(deployment, calendar.base_url)

    runs = [second.run, third.run]
    # Moved 2 days back: both runs clean (completed, swept, not degraded, no drift). A garbled
    # year (400 days back) is no date the calendar means (issue 18, case 1): an implausible_date
    # reject, counted toward the degraded ratio (1 of 41 here, over 2%), never a refresh.
    clean = shift_days > -31
    expected = (
        ("completed", "swept", False, False) if clean else ("completed", "refused", True, False)
    )
    assert [(str(r.status), str(r.sweep_outcome), r.degraded, r.drift) for r in runs] == [
        expected
    ] * 2
    if not clean:
        assert second.run.rejects.get("implausible_date") == 1
    # The promise: an event the calendar lists (by id) never disappears from the table.
    assert str(X) in stored(deployment), (
        f"X deleted: run 2 missed={second.run.missed_count}, run 3 "
        f"deleted={third.run.deleted_count}, rejects={third.run.rejects}"
    )
