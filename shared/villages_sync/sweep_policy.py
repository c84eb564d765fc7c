"""May a completed run's sweep delete anything? Pure: the records in, a decision out.

Deleting is the one step that can lose a live event, so every doubt refuses: the sweep then
deletes nothing, and the next good run cleans up instead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from villages_sync.models import RunRecord, RunStatus


class SweepRefusal(enum.StrEnum):
    NOT_COMPLETED = "run_not_completed"
    DRIFT = "calendar_changed_during_scrape"
    EMPTY = "run_saw_no_events"
    SUPERSEDED = "newer_run_completed"
    NEWER_IN_FLIGHT = "newer_run_in_flight"
    TOO_FEW_EVENTS = "too_few_events_against_previous_run"


@dataclass(frozen=True, slots=True)
class SweepDecision:
    allowed: bool
    refusal: SweepRefusal | None = None
    detail: str = ""

    @property
    def reason(self) -> str:
        return f"{self.refusal}: {self.detail}" if self.refusal else ""


def decide_sweep(
    run: RunRecord,
    *,
    latest_completed_run_id: str | None,
    previous_completed: RunRecord | None,
    min_ratio: float,
    newer_run_in_flight: str | None = None,
) -> SweepDecision:
    """Allow deletions only for a clean, complete run that is still the newest complete one."""
    if run.status is not RunStatus.COMPLETED:
        return _refuse(SweepRefusal.NOT_COMPLETED, f"status is {run.status}")
    if run.drift:
        return _refuse(SweepRefusal.DRIFT, run.drift_reason or "flagged by the producer")
    if run.event_count <= 0:
        return _refuse(SweepRefusal.EMPTY, "0 events")
    if latest_completed_run_id and latest_completed_run_id > run.run_id:
        return _refuse(SweepRefusal.SUPERSEDED, f"run {latest_completed_run_id} completed later")
    if newer_run_in_flight:
        # It may have seen an event this run missed and not have written it yet: its own
        # sweep will delete what is really gone.
        return _refuse(
            SweepRefusal.NEWER_IN_FLIGHT, f"run {newer_run_in_flight} started later and is running"
        )
    if previous_completed and previous_completed.event_count > 0:
        ratio = run.event_count / previous_completed.event_count
        if ratio < min_ratio:
            return _refuse(
                SweepRefusal.TOO_FEW_EVENTS,
                f"{run.event_count} events against {previous_completed.event_count} in run "
                f"{previous_completed.run_id} (ratio {ratio:.2f} < {min_ratio:.2f})",
            )
    return SweepDecision(allowed=True)


def _refuse(refusal: SweepRefusal, detail: str) -> SweepDecision:
    return SweepDecision(allowed=False, refusal=refusal, detail=detail)
