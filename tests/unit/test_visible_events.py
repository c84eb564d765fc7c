"""The skill's read rules: cancelled and expired events hidden, time order, venue filter."""

from __future__ import annotations

from villages_sync.visible_events import visible_events

NOW = 1_800_000_000


def _event(event_id, start_time, **fields):
    return {
        "event_id": event_id,
        "start_time": start_time,
        "location": "Spanish Springs Town Square",
        "ttl": NOW + 3600,
        **fields,
    }


def test_visible_events_hides_cancelled_and_expired_keeps_time_order():
    # Given a day with a cancelled event, an expired item and two live events out of order
    items = [
        _event("late", "19:00"),
        _event("cancelled", "12:00", cancelled=True),
        _event("expired", "10:00", ttl=NOW - 1),
        _event("early", "09:00"),
        _event("allday", "00:00", all_day=True),
    ]

    # When the skill's rules apply
    shown = visible_events(items, now=NOW)

    # Then only live events remain, all-day first, then by start time
    assert [e["event_id"] for e in shown] == ["allday", "early", "late"]


def test_visible_events_venue_filter_is_case_insensitive_substring():
    # Given events at two venues
    items = [_event("a", "17:00"), _event("b", "18:00", location="Brownwood Paddock Square")]

    # When filtered by part of a venue's name, in another case
    shown = visible_events(items, now=NOW, venue="SPANISH springs")

    # Then only that venue's event remains
    assert [e["event_id"] for e in shown] == ["a"]
