"""The events table adapter against moto over HTTP: outcomes asserted on the stored items."""

from __future__ import annotations

from datetime import date

from villages_sync.aws.events_table import UpsertOutcome

OLD_RUN = "20261123T100000.000000Z-aaaaaa"
RUN = "20261124T100000.000000Z-bbbbbb"
NEW_RUN = "20261125T100000.000000Z-cccccc"


def test_upsert_sequence_of_runs_reports_each_outcome(deployment, make_item):
    # Given an empty table
    table = deployment.events

    # When one event is written by successive runs, edited once, then by an older run
    outcomes = [
        table.upsert(make_item("1"), OLD_RUN),
        table.upsert(make_item("1"), RUN),
        table.upsert(make_item("1", title="Concert, moved"), RUN),
        table.upsert(make_item("1", title="stale copy"), OLD_RUN),
    ]

    # Then it is added, unchanged, updated, then superseded; the newest run's data stays
    assert outcomes == [
        UpsertOutcome.ADDED,
        UpsertOutcome.UNCHANGED,
        UpsertOutcome.UPDATED,
        UpsertOutcome.SUPERSEDED,
    ]
    stored = table.get("1")
    assert stored["title"] == "Concert, moved"
    assert stored["run_id"] == RUN


def test_upsert_many_duplicate_delivery_leaves_table_as_one_delivery(deployment, make_item):
    # Given a message's events written once
    table = deployment.events
    items = [make_item(str(n)) for n in range(30)]
    table.upsert_many(items, RUN)
    before = {item["event_id"]: table.get(item["event_id"]) for item in items}

    # When the same message is delivered again
    again = table.upsert_many(items, RUN)

    # Then every event is unchanged and the stored items are identical
    assert set(again) == {UpsertOutcome.UNCHANGED}
    assert {item["event_id"]: table.get(item["event_id"]) for item in items} == before


def test_events_on_date_index_returns_the_day_in_time_order(deployment, make_item):
    # Given events on two days, written out of order
    table = deployment.events
    table.upsert(make_item("1", start_time="19:00"), RUN)
    table.upsert(make_item("2", start_time="09:30"), RUN)
    table.upsert(make_item("3", event_date="2026-11-25"), RUN)

    # When one day is read through the date index
    day = table.events_on(date(2026, 11, 24))

    # Then only that day's events come back, earliest first
    assert [item["event_id"] for item in day] == ["2", "1"]


def test_delete_if_stale_newer_marker_survives(deployment, make_item):
    # Given one item last written by an old run and one rewritten by a newer run
    table = deployment.events
    table.upsert(make_item("old"), OLD_RUN)
    table.upsert(make_item("fresh"), NEW_RUN)

    # When the run's sweep looks for stale items and deletes them conditionally
    stale = list(table.stale_on(date(2026, 11, 24), RUN))
    deleted = {event_id: table.delete_if_stale(event_id, RUN) for event_id in ("old", "fresh")}

    # Then only the old one was stale and only it is gone
    assert stale == ["old"]
    assert deleted == {"old": True, "fresh": False}
    assert table.get("old") is None
    assert table.get("fresh")["run_id"] == NEW_RUN
