"""`runs show`'s per-stage timings, from the run record's own timestamps."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from villages_sync.models import DateWindow, RunRecord, RunStatus
from villages_sync_ops.cli.run_display import stage_seconds

START = 1_796_500_000
RUN = RunRecord(
    run_id="r",
    started_at=START,
    window=DateWindow(date(2026, 12, 6), date(2027, 3, 6)),
    status=RunStatus.SCRAPING,
    message_count=3,
)


def test_stage_seconds_of_a_completed_run_has_producer_consumers_and_total():
    done = replace(RUN, finished_at=START + 4, completed_at=START + 19)
    assert stage_seconds(done) == {"producer": 4, "consumers": 15, "total": 19}


def test_stage_seconds_leaves_out_stages_not_reached():
    assert stage_seconds(RUN) == {}
    assert stage_seconds(replace(RUN, finished_at=START + 4)) == {"producer": 4}
