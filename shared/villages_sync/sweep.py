"""The sweep of one completed run: count what the run no longer saw, delete what enough clean
runs in a row no longer saw, or refuse and say why."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from villages_sync.aws.events_table import EventsTable, StrikeOutcome
from villages_sync.aws.runs_table import RunsTable
from villages_sync.models import RUN_ABANDONED_AFTER_SECONDS, RunRecord, RunStatus, SweepOutcome
from villages_sync.sweep_policy import (
    ACCEPTABLE,
    SweepDecision,
    SweepRules,
    decide_deletions,
    decide_sweep,
)

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class SweepSummary:
    run_id: str
    outcome: str
    reason: str = ""
    in_window: int = 0  # items stored in the run's window when the sweep read it
    stale_found: int = 0  # of those, items the run did not see
    deleted: int = 0  # absent from enough clean runs in a row
    missed: int = 0  # absent this time: counted, deleted only if still absent next time
    kept: int = 0  # stale when read, rewritten by a newer run before the write
    already_done: bool = False
    accepted_by: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _newer_run_in_flight(runs: RunsTable, run_id: str, *, now: float) -> str | None:
    """The first newer run that is still scraping or being consumed, if any.

    A run that started long ago and never finished (its producer died, or its messages sit in
    the DLQ) does not count: it must not block every older sweep for ever.
    """
    for newer in runs.newer_runs(run_id):
        running = newer.status in (RunStatus.SCRAPING, RunStatus.ENQUEUED)
        if running and now - newer.started_at < RUN_ABANDONED_AFTER_SECONDS:
            return newer.run_id
    return None


def sweep_run(
    run_id: str, *, events: EventsTable, runs: RunsTable, rules: SweepRules
) -> SweepSummary:
    """Sweep ``run_id`` once. A redelivered request finds the outcome recorded and does nothing
    again. A refused run that an operator accepted (``RunsTable.record_accept``) is swept,
    overriding the refusals about the calendar's answer (``ACCEPTABLE``) but never those about
    the run's state; it then becomes the baseline."""
    run = runs.get(run_id)
    accepted = run.sweep_outcome is SweepOutcome.REFUSED and bool(run.accepted_by)
    if run.sweep_outcome is not None and not accepted:
        return SweepSummary(
            run_id=run_id,
            outcome=str(run.sweep_outcome),
            reason=run.sweep_reason,
            deleted=run.deleted_count,
            missed=run.missed_count,
            already_done=True,
        )
    decision = decide_sweep(
        run,
        latest_completed_run_id=runs.latest_completed_run_id(),
        baseline=runs.previous_baseline_run(run_id),
        min_ratio=rules.min_ratio,
        newer_run_in_flight=_newer_run_in_flight(runs, run_id, now=time.time()),
        accepted=accepted,
    )
    if not decision.allowed:
        return _refuse(run, decision, runs=runs, accepted=accepted)
    candidates = list(events.window_candidates(run.window))
    stale = [candidate for candidate in candidates if candidate.older_than(run_id)]
    summary = SweepSummary(
        run_id=run_id,
        outcome=str(SweepOutcome.SWEPT),
        in_window=len(candidates),
        stale_found=len(stale),
        accepted_by=run.accepted_by if accepted else "",
    )
    # Only items no earlier clean sweep had already missed count against the cap: those were
    # judged gone by a run the operator or the rules accepted, and are now due their second
    # strike. The cap is about a sudden loss.
    newly_unseen = sum(1 for candidate in stale if candidate.misses == 0)
    decision = decide_deletions(
        unseen=newly_unseen,
        in_window=len(candidates),
        max_delete_ratio=rules.max_delete_ratio,
        accepted=accepted,
    )
    if not decision.allowed:
        refused = _refuse(run, decision, runs=runs, accepted=accepted)
        refused.in_window, refused.stale_found = summary.in_window, summary.stale_found
        return refused
    for candidate in stale:
        if candidate.missed_by == run_id:
            summary.missed += 1  # counted on the item by an earlier attempt (a retry)
            continue
        outcome = events.strike(candidate, run_id, misses_before_delete=rules.misses_before_delete)
        if outcome is StrikeOutcome.DELETED:
            summary.deleted += 1
            runs.add_deleted(run_id)
        elif outcome is StrikeOutcome.MISSED:
            summary.missed += 1
        else:
            summary.kept += 1
    runs.record_missed(run_id, summary.missed)
    reason = f"accepted by {run.accepted_by}: {run.accept_reason}" if accepted else ""
    runs.record_sweep(run_id, SweepOutcome.SWEPT, reason)
    return summary


def accept_refusal(decision: SweepDecision) -> str:
    """Why an operator's accept could not override ``decision`` ("" when it could)."""
    if decision.allowed or decision.refusal in ACCEPTABLE:
        return ""
    overridable = ", ".join(sorted(ACCEPTABLE))
    return f"accept refused: {decision.reason} (an accept overrides only {overridable})"


def _refuse(
    run: RunRecord, decision: SweepDecision, *, runs: RunsTable, accepted: bool
) -> SweepSummary:
    reason = accept_refusal(decision) if accepted else decision.reason
    runs.record_sweep(run.run_id, SweepOutcome.REFUSED, reason)
    return SweepSummary(run_id=run.run_id, outcome=str(SweepOutcome.REFUSED), reason=reason)
