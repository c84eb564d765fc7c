"""Guards against a bug found in review: an evening event that ends after local midnight (a 9 PM -
12:30 AM dance) is stored as a multi-day event (``end_date`` the next day, ``span`` set), so
``events --date`` (the skill's read path) lists last night's dance among tomorrow's events.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.feeds import filler, raw_event, stored, sync, today
from villages_sync.visible_events import visible_events
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="the deletion rules on a hand-made feed, not of the emulator"
)

DANCE = 3_300_001


def test_dance_ending_after_midnight_is_not_listed_the_next_day(deployment):
    night = today() + timedelta(days=3)
    dance = raw_event(DANCE, night, hour=21, hours=3.5, title="Moonlight Dance")
    with RunningCalendar([*filler(20), dance]) as calendar:
        sync(deployment, calendar.base_url)

    item = stored(deployment)[str(DANCE)]
    next_day = [
        e["event_id"]
        for e in visible_events(deployment.events.events_on(night + timedelta(days=1)), now=0)
    ]
    assert str(DANCE) not in next_day, (
        f"listed on {night + timedelta(days=1)}: stored as span={item.get('span')!r} "
        f"{item['event_date']} {item['start_time']} .. "
        f"{item.get('end_date')} {item.get('end_time')}"
    )
