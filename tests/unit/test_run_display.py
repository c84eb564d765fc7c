"""The display state `abandoned`: derived for stuck runs, never stored."""

from __future__ import annotations

from datetime import date

import pytest
from villages_sync.models import DateWindow, RunRecord, RunStatus
from villages_sync_ops.cli.run_display import ABANDONED_AFTER_SECONDS, display_status, run_fields

START = 1_800_000_000


def _run(status: RunStatus) -> RunRecord:
    window = DateWindow(date(2026, 12, 1), date(2027, 3, 1))
    return RunRecord(run_id="r", started_at=START, window=window, status=status, message_count=3)


@pytest.mark.parametrize(
    ("status", "age", "in_queue", "shown"),
    [
        (RunStatus.SCRAPING, 60, 0, "scraping"),
        (RunStatus.SCRAPING, ABANDONED_AFTER_SECONDS + 1, 0, "abandoned"),
        (RunStatus.ENQUEUED, ABANDONED_AFTER_SECONDS + 1, 0, "abandoned"),
        (RunStatus.ENQUEUED, ABANDONED_AFTER_SECONDS + 1, 5, "enqueued"),  # still draining
        (RunStatus.ENQUEUED, 60, 0, "enqueued"),
        (RunStatus.COMPLETED, 10 * ABANDONED_AFTER_SECONDS, 0, "completed"),
        (RunStatus.FAILED, 10 * ABANDONED_AFTER_SECONDS, 0, "failed"),
    ],
)
def test_display_status_abandoned_only_when_stuck_and_idle(status, age, in_queue, shown):
    run = _run(status)
    assert display_status(run, now=START + age, events_in_queue=in_queue) == shown


def test_run_fields_lists_every_record_field_generically():
    fields = run_fields(_run(RunStatus.COMPLETED))
    assert set(fields) >= {"run_id", "status", "rejects", "sweep_outcome", "deleted_count"}
    assert fields["status"] == "completed" and fields["done_sequences"] == "0 of 3"
