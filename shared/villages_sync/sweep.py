"""The sweep of one completed run: count what the run no longer saw, delete what enough clean
runs in a row no longer saw, or refuse and say why."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from villages_sync.aws.events_table import EventsTable, StrikeOutcome
from villages_sync.aws.run_views import load_deferred
from villages_sync.aws.runs_table import RunsTable
from villages_sync.models import RunRecord, RunStatus, SweepOutcome
from villages_sync.run_ids import RunId
from villages_sync.run_timing import still_running
from villages_sync.sweep_policy import (
    ACCEPTABLE,
    SweepDecision,
    SweepRefusal,
    SweepRules,
    decide_deletions,
    decide_sweep,
)

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class SweepSummary:
    run_id: RunId
    outcome: SweepOutcome
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


def _newer_run_in_flight(runs: RunsTable, run_id: RunId, *, now: float) -> RunId | None:
    """The first newer run that is still running (``run_policy.still_running``), if any."""
    for newer in runs.newer_runs(run_id):
        if still_running(newer, now=now):
            return newer.run_id
    return None


def sweep_run(
    run_id: RunId, *, events: EventsTable, runs: RunsTable, rules: SweepRules, now: float
) -> SweepSummary:
    """Sweep ``run_id`` once. A redelivered request finds the outcome recorded and does nothing
    again. A refused run that an operator accepted (``RunsTable.record_accept``) is judged on
    every check again, waiving only the refusals the accept named; if it sweeps, it becomes
    the baseline.

    Once the sweep starts striking it is recorded (``sweep_started``): interrupted there (a
    timeout, Ctrl-C), its retry either finishes or, if it must now refuse (a newer run
    completed meanwhile), records ``partial`` with what was done, never ``refused``.
    """
    run = runs.get(run_id)
    accepted = run.sweep_outcome is SweepOutcome.REFUSED and bool(run.accepted_by)
    cut_short = run.sweep_outcome is SweepOutcome.PARTIAL  # its retry finishes it
    if run.sweep_outcome is not None and not accepted and not cut_short:
        return SweepSummary(
            run_id=run_id,
            outcome=run.sweep_outcome,
            reason=run.sweep_reason,
            deleted=run.deleted_count,
            missed=run.missed_count,
            already_done=True,
        )
    if run.deferred_sequences and run.status is RunStatus.COMPLETED and not run.degraded:
        # Date changes the run made while scraping: it completed clean, so they stand (a
        # newer run's write, or a deletion since, wins: each is conditional on the marker).
        for item in load_deferred(runs, run_id, run.deferred_sequences):
            events.apply_deferred(item, run_id)
    waived = _waived(run) if accepted else frozenset()
    decision = decide_sweep(
        run,
        latest_completed_run_id=runs.latest_completed_run_id(),
        baseline=runs.previous_baseline_run(run_id),
        min_ratio=rules.min_ratio,
        newer_run_in_flight=_newer_run_in_flight(runs, run_id, now=now),
        waived=waived,
    )
    if not decision.allowed:
        return _refuse(run, decision, runs=runs, accepted=accepted)
    candidates = list(events.window_candidates(run.window))
    # A stale item that an event without a usable id matches by content is one the run saw
    # (its id turned odd): kept, neither struck nor counted against the cap.
    protected = frozenset(run.unidentified_content)
    stale = [
        candidate
        for candidate in candidates
        if candidate.older_than(run_id) and candidate.content not in protected
    ]
    summary = SweepSummary(
        run_id=run_id,
        outcome=SweepOutcome.SWEPT,
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
        waived=waived,
    )
    if not decision.allowed:
        refused = _refuse(run, decision, runs=runs, accepted=accepted)
        refused.in_window, refused.stale_found = summary.in_window, summary.stale_found
        return refused
    if stale:
        runs.mark_sweep_started(run_id)
    try:
        for candidate in stale:
            if candidate.missed_by == run_id:
                summary.missed += 1  # counted on the item by an earlier attempt (a retry)
                continue
            outcome = events.strike(
                candidate,
                run_id,
                misses_before_delete=rules.misses_before_delete,
                now=now,
                count_in=runs.table_name,  # counted with the deletion, in one transaction
            )
            if outcome is StrikeOutcome.DELETED:
                summary.deleted += 1
            elif outcome is StrikeOutcome.MISSED:
                summary.missed += 1
            else:
                summary.kept += 1
    except BaseException as error:
        # Cut short (Ctrl-C, a signal, an AWS error): record what was done, then stop. A
        # retry (the request is redelivered) finishes the sweep and records it swept.
        runs.record_missed(run_id, summary.missed)
        deleted = runs.get(run_id).deleted_count  # every deletion, this attempt's and earlier
        runs.record_sweep(
            run_id,
            SweepOutcome.PARTIAL,
            f"cut short after {deleted} deletion(s) and "
            f"{summary.missed} miss(es): {type(error).__name__}",
        )
        raise
    runs.record_missed(run_id, summary.missed)
    reason = f"accepted by {run.accepted_by}: {run.accept_reason}" if accepted else ""
    runs.record_sweep(run_id, SweepOutcome.SWEPT, reason)
    return summary


def _waived(run: RunRecord) -> frozenset[SweepRefusal]:
    return frozenset(
        SweepRefusal(kind) for kind in run.accept_waives if kind in SweepRefusal._value2member_map_
    )


def accept_refusal(decision: SweepDecision) -> str:
    """Why an operator's accept could not override ``decision`` ("" when it could)."""
    if decision.allowed:
        return ""
    if decision.refusal in ACCEPTABLE:
        return f"accept refused: {decision.reason} (the accept did not waive it)"
    overridable = ", ".join(sorted(ACCEPTABLE))
    return f"accept refused: {decision.reason} (an accept overrides only {overridable})"


def _refuse(
    run: RunRecord, decision: SweepDecision, *, runs: RunsTable, accepted: bool
) -> SweepSummary:
    reason = accept_refusal(decision) if accepted else decision.reason
    if run.sweep_started:
        # An earlier attempt struck or deleted items before it was cut short: say so.
        outcome = SweepOutcome.PARTIAL
        reason = f"cut short after {run.deleted_count} deletion(s); its retry was refused: {reason}"
        runs.record_sweep(run.run_id, outcome, reason)
        return SweepSummary(
            run_id=run.run_id,
            outcome=outcome,
            reason=reason,
            deleted=run.deleted_count,
            missed=run.missed_count,
        )
    runs.record_sweep(run.run_id, SweepOutcome.REFUSED, reason)
    return SweepSummary(run_id=run.run_id, outcome=SweepOutcome.REFUSED, reason=reason)
