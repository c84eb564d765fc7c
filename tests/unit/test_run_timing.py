"""The timing rules of runs: when a sweep is asked again, when a newer run still counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from villages_sync.models import (
    RUN_ABANDONED_AFTER_SECONDS,
    DateWindow,
    RunRecord,
    RunStatus,
    SweepOutcome,
)
from villages_sync.run_timing import SWEEP_REQUEST_RETRY_SECONDS, still_running, sweep_request_due

STARTED = 1_795_000_000
RUN = RunRecord(
    "20261124T100000.000000Z-aaaaaa",
    STARTED,
    DateWindow(date(2026, 11, 24), date(2027, 2, 22)),
    RunStatus.COMPLETED,
    completed_at=STARTED + 60,
)
RETRY = SWEEP_REQUEST_RETRY_SECONDS


@pytest.mark.parametrize(
    ("run", "seconds_after_completion", "due"),
    [
        (RUN, 0, True),  # never requested: at once
        (replace(RUN, sweep_requested=True), 0, False),
        (replace(RUN, sweep_requested=True), RETRY, False),  # exactly the wait: not yet
        (replace(RUN, sweep_requested=True), RETRY + 1, True),  # the request was lost
        (replace(RUN, sweep_outcome=SweepOutcome.SWEPT), RETRY + 1, False),
        (replace(RUN, sweep_outcome=SweepOutcome.REFUSED), 0, False),
        (replace(RUN, status=RunStatus.ENQUEUED), RETRY + 1, False),
        (replace(RUN, status=RunStatus.FAILED), RETRY + 1, False),
        # No completion time recorded: the wait counts from the start
        (replace(RUN, sweep_requested=True, completed_at=None), RETRY + 1 - 60, True),
    ],
    ids=[
        "never-requested",
        "just-requested",
        "requested-an-hour-ago",
        "requested-over-an-hour-ago",
        "swept",
        "refused",
        "enqueued",
        "failed",
        "no-completed-at",
    ],
)
def test_sweep_request_due_table(run, seconds_after_completion, due):
    # Given a run, When it is judged that long after it completed, Then
    assert sweep_request_due(run, now=STARTED + 60 + seconds_after_completion) is due


ABANDONED = RUN_ABANDONED_AFTER_SECONDS


@pytest.mark.parametrize(
    ("status", "age", "running"),
    [
        (RunStatus.SCRAPING, 0, True),
        (RunStatus.ENQUEUED, ABANDONED - 1, True),
        (RunStatus.SCRAPING, ABANDONED, False),  # abandoned: blocks no sweep for ever
        (RunStatus.ENQUEUED, ABANDONED + 1, False),
        (RunStatus.COMPLETED, 0, False),
        (RunStatus.FAILED, 0, False),
    ],
)
def test_still_running_table(status, age, running):
    # Given a run in ``status``, When it is judged ``age`` seconds after it started, Then
    assert still_running(replace(RUN, status=status), now=STARTED + age) is running
