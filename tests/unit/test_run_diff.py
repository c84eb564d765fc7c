"""What changed between two runs' views of the calendar (pure)."""

from __future__ import annotations

from villages_sync_ops.run_diff import diff_runs


def _view(event_id: str, day: str = "2026-12-01", start: str = "17:00", title: str = "Band"):
    return {
        "event_id": event_id,
        "event_date": day,
        "start_time": start,
        "title": title,
        "location": "Spanish Springs",
    }


def test_diff_runs_sorts_events_into_added_removed_rescheduled_retitled():
    # Given two views: one event kept, one gone, one new, one moved, one renamed
    before = {e["event_id"]: e for e in (_view("1"), _view("2"), _view("3"), _view("4"))}
    after = {
        e["event_id"]: e
        for e in (_view("1"), _view("3", start="19:00"), _view("4", title="Choir"), _view("5"))
    }

    # When they are compared
    diff = diff_runs(before, after)

    # Then each change is in its place, and the unchanged event is only counted
    assert [e["event_id"] for e in diff.added] == ["5"]
    assert [e["event_id"] for e in diff.removed] == ["2"]
    assert [(c.before["start_time"], c.after["start_time"]) for c in diff.rescheduled] == [
        ("17:00", "19:00")
    ]
    assert [(c.before["title"], c.after["title"]) for c in diff.retitled] == [("Band", "Choir")]
    assert diff.counts() == {
        "added": 1,
        "removed": 1,
        "rescheduled": 1,
        "retitled": 1,
        "unchanged": 1,
    }


def test_diff_runs_event_moved_to_another_day_and_renamed_counts_in_both():
    before = {"1": _view("1")}
    after = {"1": _view("1", day="2026-12-02", title="Choir")}
    diff = diff_runs(before, after)
    assert len(diff.rescheduled) == 1 and len(diff.retitled) == 1 and diff.unchanged == 0


def test_diff_runs_identical_views_report_nothing_changed():
    view = {str(n): _view(str(n)) for n in range(3)}
    assert diff_runs(view, dict(view)).counts()["unchanged"] == 3
    assert diff_runs({}, {}).counts() == dict.fromkeys(diff_runs({}, {}).counts(), 0)
