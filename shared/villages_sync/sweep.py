"""The sweep of one completed run: delete what the run no longer saw, or refuse and say why."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from villages_sync.aws.events_table import EventsTable
from villages_sync.aws.runs_table import RunsTable
from villages_sync.models import RunStatus, SweepOutcome
from villages_sync.sweep_policy import decide_sweep

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class SweepSummary:
    run_id: str
    outcome: str
    reason: str = ""
    stale_found: int = 0
    deleted: int = 0
    kept: int = 0  # stale when read, rewritten by a newer run before the delete
    already_done: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


IN_FLIGHT_GRACE_SECONDS = 2 * 3600  # a run still unfinished after this long is dead


def _newer_run_in_flight(runs: RunsTable, run_id: str, *, now: float) -> str | None:
    """The first newer run that is still scraping or being consumed, if any.

    A run that started long ago and never finished (its producer died, or its messages sit in
    the DLQ) does not count: it must not block every older sweep for ever.
    """
    for newer in runs.newer_runs(run_id):
        running = newer.status in (RunStatus.SCRAPING, RunStatus.ENQUEUED)
        if running and now - newer.started_at < IN_FLIGHT_GRACE_SECONDS:
            return newer.run_id
    return None


def sweep_run(
    run_id: str, *, events: EventsTable, runs: RunsTable, min_ratio: float
) -> SweepSummary:
    run = runs.get(run_id)
    if run.sweep_outcome is not None:
        # A redelivered sweep request: the run's sweep is already recorded.
        return SweepSummary(
            run_id=run_id,
            outcome=str(run.sweep_outcome),
            reason=run.sweep_reason,
            deleted=run.deleted_count,
            already_done=True,
        )
    decision = decide_sweep(
        run,
        latest_completed_run_id=runs.latest_completed_run_id(),
        previous_completed=runs.previous_completed_run(run_id),
        min_ratio=min_ratio,
        newer_run_in_flight=_newer_run_in_flight(runs, run_id, now=time.time()),
    )
    if not decision.allowed:
        runs.record_sweep(run_id, SweepOutcome.REFUSED, decision.reason)
        return SweepSummary(
            run_id=run_id, outcome=str(SweepOutcome.REFUSED), reason=decision.reason
        )
    summary = SweepSummary(run_id=run_id, outcome=str(SweepOutcome.SWEPT))
    for day in run.window.days():
        for event_id in list(events.stale_on(day, run_id)):
            summary.stale_found += 1
            if events.delete_if_stale(event_id, run_id):
                summary.deleted += 1
                runs.add_deleted(run_id)
            else:
                summary.kept += 1
    runs.record_sweep(run_id, SweepOutcome.SWEPT, "")
    return summary
