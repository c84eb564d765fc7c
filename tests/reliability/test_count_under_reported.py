"""Guards against a bug found in review: the scraper read rows up to ``count`` and never looked past
it. An API whose ``count`` is a little lower than the rows it serves (docs/calendar-contract.md:
nothing verifies ``count``; e.g. a count that leaves out cancelled events while the list includes
them, or a cached count) hid the last rows, the furthest-future events in API order, from every run:
no drift was flagged (``len(events) < count`` cannot fire), the cap and the baseline passed, and two
clean runs later those live events were deleted.

Fixed: the scraper asks for one page past ``count``; rows there that it has not seen are read,
stored, and flag the run, so its sweep is refused (an operator can accept it once the count is
understood).
"""

from __future__ import annotations

import pytest
from support.feeds import filler, stored, sync
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="the deletion rules on a hand-made feed, not of the emulator"
)

UNDER_REPORTED = 3


def test_rows_beyond_an_under_reported_count_are_not_deleted(deployment):
    events = filler(60)
    with RunningCalendar(events) as calendar:
        sync(deployment, calendar.base_url, PAGE_SIZE="25")
        before = set(stored(deployment))

        calendar.faults.count_offset = -UNDER_REPORTED  # every row is still served on request
        runs = [sync(deployment, calendar.base_url, PAGE_SIZE="25") for _ in range(2)]

    assert [(str(r.run.sweep_outcome), r.run.drift) for r in runs] == [("refused", True)] * 2
    assert all("3 more events than its count of 57" in r.run.drift_reason for r in runs)
    lost = before - set(stored(deployment))
    assert not lost, (
        f"{len(lost)} live events deleted (the calendar serves them at rows "
        f"{len(events) - UNDER_REPORTED}..{len(events) - 1}): {sorted(lost)}"
    )
