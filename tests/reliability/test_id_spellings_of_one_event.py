"""Guards against a bug found in review: two listings whose ids normalise to the same key
("0002000010" and 2000010: the scraper de-duplicated raw ids, the normaliser de-duplicates
normalised ones) kept only the first in API order, whatever it is. When the first was an
earlier-than-window copy, the in-window event was dropped as a "duplicate" and nothing kept its
item: two clean runs deleted it. No drift was flagged (the scraper counted two distinct raw ids).

Now the scraper and the normaliser share one id key (``event_ids``, review 2's M1): the two
listings are one event listed twice, so the run holds one event fewer than ``count`` says, as
for any row read twice, and is flagged: its sweep is refused and the event stays.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.feeds import filler, raw_event, stored, sync, today
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="the deletion rules on a hand-made feed, not of the emulator"
)


def test_in_window_event_is_not_dropped_for_an_earlier_listing_of_the_same_id(deployment):
    events = filler(60)
    with RunningCalendar(events) as calendar:
        sync(deployment, calendar.base_url)
        assert "2000010" in stored(deployment)

        # The same event listed once more, with a zero-padded id and last week's date (an old
        # occurrence, or a second record of it): it sorts first in API order (by start).
        stale_copy = raw_event("0002000010", today() - timedelta(days=7))
        calendar.set_events([*events, stale_copy])
        runs = [sync(deployment, calendar.base_url) for _ in range(2)]

    assert [(str(r.run.sweep_outcome), r.run.drift) for r in runs] == [("refused", True)] * 2
    assert all(
        "fetched 60 unique events but the API reported 61" in r.run.drift_reason for r in runs
    )
    assert "2000010" in stored(deployment), (
        f"deleted while listed in the window: rejects {runs[1].run.rejects}, "
        f"deleted {runs[1].run.deleted_count}"
    )
