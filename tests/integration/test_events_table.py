"""The events table adapter against moto over HTTP: outcomes asserted on the stored items."""

from __future__ import annotations

import time
from datetime import date

from villages_sync.aws.events_table import UpsertOutcome
from villages_sync.aws.items import to_attributes
from villages_sync.models import DateWindow

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


def _strike_all(table, window, run_id, misses_before_delete=2):
    return {
        candidate.event_id: str(
            table.strike(
                candidate, run_id, misses_before_delete=misses_before_delete, now=time.time()
            )
        )
        for candidate in table.window_candidates(window)
        if candidate.older_than(run_id)
    }


WINDOW = DateWindow(date(2026, 11, 24), date(2026, 11, 30))


def test_strike_two_clean_misses_delete_newer_marker_survives(deployment, make_item):
    # Given one item last written by an old run and one rewritten by a newer run
    table = deployment.events
    table.upsert(make_item("old"), OLD_RUN)
    table.upsert(make_item("fresh"), NEW_RUN)

    # When two clean runs in a row do not see the old item
    first = _strike_all(table, WINDOW, RUN)
    after_first = table.get("old")
    second = _strike_all(table, WINDOW, "20261124T120000.000000Z-dddddd")

    # Then the first only counts a miss, the second deletes; the fresh one is never touched
    assert first == {"old": "missed"}
    assert (after_first["misses"], after_first["missed_by"]) == (1, RUN)
    assert second == {"old": "deleted"}
    assert table.get("old") is None
    assert table.get("fresh")["run_id"] == NEW_RUN


def test_strike_retried_by_the_same_run_counts_once(deployment, make_item):
    # Given an item whose miss this run already counted (its sweep crashed and runs again)
    table = deployment.events
    table.upsert(make_item("old"), OLD_RUN)
    _strike_all(table, WINDOW, RUN)

    # When the same run strikes again
    again = _strike_all(table, WINDOW, RUN)

    # Then nothing more is counted and the item stays
    assert again == {"old": "kept"}
    assert table.get("old")["misses"] == 1


def test_upsert_after_a_miss_resets_the_count(deployment, make_item):
    # Given an item one run did not see (one anomalous scrape)
    table = deployment.events
    table.upsert(make_item("1"), OLD_RUN)
    _strike_all(table, WINDOW, RUN)

    # When the next run lists it again, and the one after does not
    table.upsert(make_item("1"), "20261124T120000.000000Z-dddddd")
    later = _strike_all(table, WINDOW, NEW_RUN)

    # Then the miss count started again: one miss, no deletion
    assert later == {"1": "missed"}
    assert table.get("1")["misses"] == 1


def test_item_without_marker_updated_when_listed_and_swept_when_not(deployment, make_item):
    # Given two items written outside the sync (restored from a backup): no run_id
    table = deployment.events
    for event_id in ("listed", "gone"):
        deployment.clients.dynamodb.put_item(
            TableName=table.table_name, Item=to_attributes(make_item(event_id))
        )

    # When a run lists one of them, and two clean runs sweep
    outcome = table.upsert(make_item("listed", title="New title"), RUN)
    _strike_all(table, WINDOW, RUN)
    _strike_all(table, WINDOW, NEW_RUN)

    # Then the listed one is updated (not "superseded"), the other one deleted (issue 9, case 6)
    assert outcome is UpsertOutcome.UPDATED
    assert table.get("listed")["title"] == "New title"
    assert table.get("gone") is None


def test_keep_refreshes_marker_without_touching_content(deployment, make_item):
    # Given a stored event, and a newer run that saw it but found it invalid
    table = deployment.events
    table.upsert(make_item("1", title="Last good title"), OLD_RUN)
    _strike_all(table, WINDOW, RUN)

    # When the run keeps it (and an unknown id)
    kept = table.keep_many(["1", "999"], NEW_RUN)

    # Then only the stored one's marker moves; its content and a clean miss count remain
    item = table.get("1")
    assert kept == 1
    assert (item["run_id"], item["title"]) == (NEW_RUN, "Last good title")
    assert "misses" not in item and "missed_by" not in item
    assert table.get("999") is None
    assert _strike_all(table, WINDOW, NEW_RUN) == {}


def test_refresh_existing_updates_only_stored_items(deployment, make_item):
    # Given a stored event that the calendar now dates after the window
    table = deployment.events
    table.upsert(make_item("1"), OLD_RUN)

    # When the run refreshes it and an event it never stored
    moved = table.refresh_existing(make_item("1", event_date="2027-06-01"), RUN)
    absent = table.refresh_existing(make_item("2", event_date="2027-06-01"), RUN)

    # Then the stored one carries its new date and marker; nothing is added
    assert moved is UpsertOutcome.UPDATED
    assert (table.get("1")["event_date"], table.get("1")["run_id"]) == ("2027-06-01", RUN)
    assert absent is None
    assert table.get("2") is None


def test_events_on_lists_multi_day_events_on_every_day(deployment, make_item):
    # Given a three-day festival (22nd-24th), a one-day event on the 23rd, one on the 25th
    table = deployment.events
    table.upsert(
        make_item("fest", event_date="2026-11-22", end_date="2026-11-24", span="multi-day"), RUN
    )
    table.upsert(make_item("one", event_date="2026-11-23"), RUN)
    table.upsert(make_item("later", event_date="2026-11-25"), RUN)

    # When each day is read
    days = {
        day: sorted(item["event_id"] for item in table.events_on(date(2026, 11, day)))
        for day in (21, 22, 23, 24, 25)
    }

    # Then the festival is on every day it spans, and only those (issue 9, case 7)
    assert days == {21: [], 22: ["fest"], 23: ["fest", "one"], 24: ["fest"], 25: ["later"]}


def test_window_candidates_include_multi_day_events_started_before_the_window(
    deployment, make_item
):
    # Given a festival that started before the window and still runs, and one already over
    table = deployment.events
    table.upsert(
        make_item("running", event_date="2026-11-20", end_date="2026-11-25", span="multi-day"),
        OLD_RUN,
    )
    table.upsert(
        make_item("over", event_date="2026-11-18", end_date="2026-11-20", span="multi-day"),
        OLD_RUN,
    )

    # When the sweep reads its window
    candidates = {c.event_id for c in table.window_candidates(WINDOW)}

    # Then the running festival is in it (so it can be swept when it goes), the past one not
    assert candidates == {"running"}
