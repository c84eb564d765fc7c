"""The stand-in's data set: deterministic, API-shaped and realistic where the normaliser cares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from villages_sync_ops.standin.dataset import CATEGORIES, generate_events, mutate_events

NEW_YORK = ZoneInfo("America/New_York")
TODAY = date(2026, 11, 24)
EVENT_KEYS = {
    "address", "allDay", "cancelled", "category", "description", "end", "enrolement", "excerpt",
    "featured", "geo", "image", "location", "otherInfo", "start", "subcategories", "title", "url",
    "id",
}  # fmt: skip


def _utc(text: str) -> datetime:
    assert text.endswith(".000Z"), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=UTC)


def test_generate_events_same_seed_returns_same_events() -> None:
    # Given / When
    first = generate_events(300, seed=7, today=TODAY)
    second = generate_events(300, seed=7, today=TODAY)
    other = generate_events(300, seed=8, today=TODAY)

    # Then
    assert first == second
    assert first != other


def test_generate_events_count_returns_unique_int_ids_in_api_shape() -> None:
    # Given / When
    events = generate_events(2000, seed=1, today=TODAY)

    # Then
    assert len(events) == 2000
    ids = [e["id"] for e in events]
    assert all(isinstance(i, int) for i in ids)
    assert len(set(ids)) == len(ids)
    assert all(set(e) == EVENT_KEYS for e in events)
    assert all(
        set(e["location"]) == {"id", "title", "category", "complexId", "image"} for e in events
    )
    assert all(e["geo"]["type"] == "Point" and len(e["geo"]["coordinates"]) == 2 for e in events)
    assert {e["category"] for e in events} <= set(CATEGORIES)
    assert events == sorted(events, key=lambda e: (e["start"]["date"], e["id"]))


def test_generate_events_timed_events_fall_in_window_in_local_time() -> None:
    # Given / When
    events = generate_events(2000, seed=2, today=TODAY, days=30)

    # Then
    for event in events:
        if event["allDay"]:
            local_day = date.fromisoformat(event["start"]["date"][:10])
        else:
            local_day = _utc(event["start"]["date"]).astimezone(NEW_YORK).date()
            assert _utc(event["end"]["date"]) > _utc(event["start"]["date"])
        assert TODAY <= local_day <= TODAY + timedelta(days=30)


def test_generate_events_evening_shows_cross_midnight_utc_not_local() -> None:
    # Given / When
    events = generate_events(1000, seed=3, today=TODAY)

    # Then: a 5 PM - 9 PM local (EST) show is 22:00Z - 02:00Z next day
    evening = [
        e
        for e in events
        if e["location"]["category"] == "town-squares"
        and not e["allDay"]
        and _utc(e["start"]["date"]).astimezone(NEW_YORK).hour == 17
    ]
    assert evening
    for event in evening:
        start, end = _utc(event["start"]["date"]), _utc(event["end"]["date"])
        assert end.date() > start.date()
        assert end.astimezone(NEW_YORK).date() == start.astimezone(NEW_YORK).date()


def test_generate_events_summer_uses_daylight_time_offset() -> None:
    # Given a window in July (EDT, UTC-4) / When
    events = generate_events(500, seed=4, today=date(2026, 7, 1), days=20)

    # Then: 17:00 local is 21:00Z in summer
    evening = [
        e
        for e in events
        if not e["allDay"] and _utc(e["start"]["date"]).astimezone(NEW_YORK).hour == 17
    ]
    assert evening
    assert all(_utc(e["start"]["date"]).hour == 21 for e in evening)


def test_generate_events_includes_the_messy_cases_normalising_must_handle() -> None:
    # Given / When
    events = generate_events(2000, seed=5, today=TODAY)

    # Then
    all_day = [e for e in events if e["allDay"]]
    assert all_day and all(e["start"]["type"] == e["end"]["type"] == "date" for e in all_day)
    assert all(e["start"]["type"] == "time" for e in events if not e["allDay"])
    assert 0 < sum(e["cancelled"] for e in events) < len(events) * 0.1
    descriptions = " ".join(e["description"] for e in events)
    assert "<p>" in descriptions and "&amp;" in descriptions and "\u00a0" in descriptions
    venues = {e["location"]["title"] for e in events}
    assert {
        "Spanish Springs Town Square",
        "Lake Sumter Landing Market Square",
        "Brownwood Paddock Square",
    } <= venues
    assert any("Recreation Center" in v for v in venues)
    longitudes = {e["geo"]["coordinates"][0] > 0 for e in events}
    assert longitudes == {True, False}  # the real feed mixes signs


def test_generate_events_zero_returns_empty_list() -> None:
    assert generate_events(0, seed=1, today=TODAY) == []


def test_mutate_events_next_day_removes_adds_and_changes_without_touching_input() -> None:
    # Given
    events = generate_events(500, seed=6, today=TODAY)
    snapshot = [dict(e) for e in events]
    before = {e["id"]: e for e in events}

    # When
    mutated = mutate_events(events, seed=9, added=20, removed=15, changed=10)

    # Then
    assert [dict(e) for e in events] == snapshot
    after = {e["id"]: e for e in mutated}
    assert len(after) == len(mutated) == 500 - 15 + 20
    assert len(before.keys() - after.keys()) == 15
    new_ids = after.keys() - before.keys()
    assert len(new_ids) == 20 and min(new_ids) > max(before)
    retitled = [i for i in before.keys() & after.keys() if after[i]["title"] != before[i]["title"]]
    assert len(retitled) == 10
    for event_id in retitled:
        moved = _utc(after[event_id]["start"]["date"]) - _utc(before[event_id]["start"]["date"])
        assert moved == timedelta(hours=1)
    assert mutate_events(events, seed=9, added=20, removed=15, changed=10) == mutated
