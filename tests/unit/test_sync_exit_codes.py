"""The exit code of `villages-sync sync`, from the run it started: what each code promises."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from villages_sync.models import DateWindow, RunRecord, RunStatus, SweepOutcome
from villages_sync_ops.cli.summaries import (
    EXIT_DEGRADED,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_SWEEP_REFUSED,
    sync_exit_code,
)
from villages_sync_ops.local.pipeline import SyncReport

SWEPT = RunRecord(
    run_id="20261124T100000.000000Z-aaaaaa",
    started_at=0,
    window=DateWindow(date(2026, 11, 24), date(2027, 2, 22)),
    status=RunStatus.COMPLETED,
    event_count=100,
    sweep_outcome=SweepOutcome.SWEPT,
)


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (SWEPT, EXIT_OK),
        (replace(SWEPT, sweep_outcome=SweepOutcome.REFUSED), EXIT_SWEEP_REFUSED),
        (replace(SWEPT, sweep_outcome=SweepOutcome.REFUSED, degraded=True), EXIT_DEGRADED),
        # completed, but its sweep never ran (its request dead-lettered): not "ok and swept"
        (replace(SWEPT, sweep_outcome=None), EXIT_FAILED),
        (replace(SWEPT, status=RunStatus.FAILED, sweep_outcome=None), EXIT_FAILED),
    ],
    ids=["swept", "refused", "degraded", "sweep-never-ran", "failed"],
)
def test_sync_exit_code_each_outcome(run: RunRecord, expected: int) -> None:
    # Given the record of the run a sync started / When its exit code is chosen
    report = SyncReport(run_id=run.run_id, producer={}, producer_error="", run=run)
    # Then it says what happened
    assert sync_exit_code(report) == expected
