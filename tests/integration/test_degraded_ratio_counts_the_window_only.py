"""Guards against a bug found in review: the degraded ratio counts invalid events that lie outside
the run's window.

Issue 9: "more than a small share of fetched events fail validation (MAX_REJECT_RATIO, default
2%, outside-window events not counted)". The normaliser checks the title (and flags, start) before
it looks at the date, so an untitled placeholder next year counts as invalid, and a calendar whose
window is perfectly clean is degraded on every run: its sweep never runs again (exit 4 for ever).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.feeds import filler, raw_event, sync, today
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="the deletion rules on a hand-made feed, not of the emulator"
)


def test_untitled_placeholders_beyond_the_window_do_not_degrade_a_clean_window(deployment):
    events = filler(60)
    # Next year's programme, announced without titles yet (3 of 63 events, all beyond 90 days).
    placeholders = [
        raw_event(3_100_000 + i, today() + timedelta(days=200 + i), title="") for i in range(3)
    ]
    with RunningCalendar([*events, *placeholders]) as calendar:
        report = sync(deployment, calendar.base_url)

    run = report.run
    assert str(run.status) == "completed", report.producer_error
    # Every event of the window is valid: the run should not be degraded, and should sweep.
    assert not run.degraded, f"degraded: {run.degraded_reason}"
    assert str(run.sweep_outcome) == "swept", run.sweep_reason
