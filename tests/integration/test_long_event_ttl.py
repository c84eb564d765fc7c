"""Guards against a bug found in review: a multi-day event is given ``ttl`` = 90 days after its
*start*, so an event that runs longer than that (a season, a long exhibition) is past its ttl while
the calendar lists it and it is still on: the skill's read path hides it at once, and DynamoDB's TTL
deletes it (each run re-adds it with the same expired ttl, and it goes again).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from support.feeds import filler, raw_event, stored, sync, today
from villages_sync.visible_events import visible_events
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="the deletion rules on a hand-made feed, not of the emulator"
)

SEASON = 3_200_001


@pytest.mark.parametrize("started_days_ago", [100, 30], ids=["started-100-days-ago", "in-30-days"])
def test_long_running_event_is_listed_while_it_is_on(deployment, started_days_ago):
    first_day = today() - timedelta(days=started_days_ago)
    # A winter season: all-day, written as the calendar writes all-day events
    # (docs/calendar-contract.md, "The response"), 150 days long.
    season = raw_event(SEASON, first_day, allDay=True, title="Winter Farmers Market season")
    season["start"] = {"date": f"{first_day.isoformat()}T05:00:00.000Z", "type": "date"}
    last_day = first_day + timedelta(days=150)
    season["end"] = {"date": f"{last_day.isoformat()}T05:00:00.000Z", "type": "date"}
    with RunningCalendar([*filler(20), season]) as calendar:
        report = sync(deployment, calendar.base_url)
    assert str(report.run.sweep_outcome) == "swept", report.producer_error

    item = stored(deployment)[str(SEASON)]
    assert item["end_date"] == last_day.isoformat()
    # On its 100th day (today, in the first case) it is on and the calendar lists it.
    day = first_day + timedelta(days=100)
    on_that_day = time.mktime(day.timetuple()) + 12 * 3600
    listed = visible_events(deployment.events.events_on(day), now=on_that_day)
    assert str(SEASON) in {e["event_id"] for e in listed}, (
        f"hidden on {day}: ttl {item['ttl']} is {int((item['ttl'] - on_that_day) / 86400)} days "
        f"from that day, but the event runs until {item['end_date']}"
    )
