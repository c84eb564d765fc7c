"""Guards against a bug found in review: an event the calendar moved into the past keeps its
stored copy with the *old* date (``keep`` refreshes only the marker), so the skill goes on
announcing it on a day the calendar no longer lists it for, until the old date's ttl.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.feeds import filler, raw_event, sync, today
from villages_sync.visible_events import visible_events
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="the deletion rules on a hand-made feed, not of the emulator"
)

X = 3_400_001


def test_event_moved_into_the_past_is_no_longer_announced_on_its_old_day(deployment):
    events = filler(40)
    old_day = today() + timedelta(days=5)
    with RunningCalendar([*events, raw_event(X, old_day)]) as calendar:
        sync(deployment, calendar.base_url)
        calendar.set_events([*events, raw_event(X, today() - timedelta(days=2))])
        runs = [sync(deployment, calendar.base_url) for _ in range(2)]

    assert all(str(r.run.sweep_outcome) == "swept" for r in runs)
    listed = {e["event_id"] for e in visible_events(deployment.events.events_on(old_day), now=0)}
    assert str(X) not in listed, f"still announced on {old_day}, the calendar says 2 days ago"
