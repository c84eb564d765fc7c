"""When is a run's every message done? Pure: the run record in, a yes or no out."""

from __future__ import annotations

from datetime import date

import pytest
from villages_sync.models import DateWindow, RunRecord, RunStatus
from villages_sync.sweep_trigger import all_messages_done


def _run(message_count: int, done: set[int], status: RunStatus = RunStatus.ENQUEUED) -> RunRecord:
    window = DateWindow(first=date(2026, 11, 24), last=date(2026, 12, 24))
    return RunRecord(
        run_id="20261124T120000.000000Z-abcdef",
        started_at=0,
        window=window,
        status=status,
        message_count=message_count,
        done_sequences=done,
    )


@pytest.mark.parametrize(
    ("count", "done", "status", "expected"),
    [
        (3, {0, 1, 2}, RunStatus.ENQUEUED, True),
        (3, {0, 1}, RunStatus.ENQUEUED, False),
        (3, {0, 1, 999}, RunStatus.ENQUEUED, False),  # a stray sequence is not the missing one
        (3, {0, 1, 2, 999}, RunStatus.ENQUEUED, True),
        (3, {0, 1, 2}, RunStatus.SCRAPING, False),
        (0, set(), RunStatus.ENQUEUED, False),
    ],
)
def test_all_messages_done_needs_every_sent_sequence(count, done, status, expected):
    # Given a run record / When asked / Then only every sequence 0..count-1 done counts
    assert all_messages_done(_run(count, done, status)) is expected
