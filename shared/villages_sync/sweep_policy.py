"""May a completed run's sweep delete anything? Pure: the records in, a decision out.

Deleting is the one step that can lose a live event, so every doubt refuses: the sweep then
deletes nothing, and the next good run cleans up instead. Two decisions, in order: before
reading the table (``decide_sweep``: is the run clean, complete and still the newest?) and
after (``decide_deletions``: would it remove too large a share of the window?).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from villages_sync.models import RunRecord, RunStatus
from villages_sync.run_ids import started_before


class SweepRefusal(enum.StrEnum):
    NOT_COMPLETED = "run_not_completed"
    DRIFT = "calendar_changed_during_scrape"
    DEGRADED = "too_many_invalid_events"
    EMPTY = "run_saw_no_events"
    SUPERSEDED = "newer_run_completed"
    NEWER_IN_FLIGHT = "newer_run_in_flight"
    TOO_FEW_EVENTS = "too_few_events_against_baseline"
    TOO_MANY_DELETIONS = "too_many_deletions_in_window"


# What an operator's accept can override: the judgements about the calendar's answer. Never
# a run that did not complete, nor one that a newer run already replaced or is replacing. An
# accept waives only the refusals it names (``waived``), each judged first and shown.
ACCEPTABLE = frozenset(
    {
        SweepRefusal.DRIFT,
        SweepRefusal.DEGRADED,
        SweepRefusal.TOO_FEW_EVENTS,
        SweepRefusal.TOO_MANY_DELETIONS,
    }
)


@dataclass(frozen=True, slots=True)
class SweepRules:
    """The sweep's settings that guard deletions (defaults: on SweepSettings)."""

    min_ratio: float
    max_delete_ratio: float
    misses_before_delete: int


@dataclass(frozen=True, slots=True)
class SweepDecision:
    allowed: bool
    refusal: SweepRefusal | None = None
    detail: str = ""

    @property
    def reason(self) -> str:
        return f"{self.refusal}: {self.detail}" if self.refusal else ""


ALLOWED = SweepDecision(allowed=True)


def decide_sweep(
    run: RunRecord,
    *,
    latest_completed_run_id: str | None,
    baseline: RunRecord | None,
    min_ratio: float,
    newer_run_in_flight: str | None = None,
    waived: frozenset[SweepRefusal] = frozenset(),
) -> SweepDecision:
    """Allow deletions only for a clean, complete run that is still the newest complete one.

    ``baseline`` is the last run whose sweep actually ran; ``waived``: the refusals an
    operator's accept named (only those in ``ACCEPTABLE`` count). Every other check still runs.
    """
    refusals = _refusals(
        run,
        latest_completed_run_id=latest_completed_run_id,
        baseline=baseline,
        min_ratio=min_ratio,
        newer_run_in_flight=newer_run_in_flight,
    )
    for decision in refusals:
        if decision.refusal not in (waived & ACCEPTABLE):
            return decision
    return ALLOWED


def calendar_refusals(
    run: RunRecord, *, baseline: RunRecord | None, min_ratio: float
) -> list[SweepDecision]:
    """Every refusal about the calendar's answer that applies to ``run`` (what an accept
    would waive), in the order the sweep checks them."""
    return [
        decision
        for decision in _refusals(
            run, latest_completed_run_id=None, baseline=baseline, min_ratio=min_ratio
        )
        if decision.refusal in ACCEPTABLE
    ]


def refusal_of(reason: str) -> SweepRefusal | None:
    """The refusal a recorded ``sweep_reason`` names (``kind: detail``), if any."""
    kind = reason.split(":", 1)[0].strip()
    return SweepRefusal(kind) if kind in SweepRefusal._value2member_map_ else None


def _refusals(
    run: RunRecord,
    *,
    latest_completed_run_id: str | None,
    baseline: RunRecord | None,
    min_ratio: float,
    newer_run_in_flight: str | None = None,
) -> list[SweepDecision]:
    """Every check, in order: state first (never waived), then the calendar's answer."""
    found: list[SweepDecision] = []
    state = _state_refusal(run, latest_completed_run_id, newer_run_in_flight)
    if state is not None:
        return [state]
    if run.drift:
        found.append(_refuse(SweepRefusal.DRIFT, run.drift_reason or "flagged by the producer"))
    if run.degraded:
        found.append(
            _refuse(SweepRefusal.DEGRADED, run.degraded_reason or "flagged by the producer")
        )
    too_few = _against_baseline(run, baseline, min_ratio)
    if too_few is not None:
        found.append(too_few)
    return found


def _state_refusal(
    run: RunRecord, latest_completed_run_id: str | None, newer_run_in_flight: str | None
) -> SweepDecision | None:
    if run.status is not RunStatus.COMPLETED:
        return _refuse(SweepRefusal.NOT_COMPLETED, f"status is {run.status}")
    if run.event_count <= 0:
        return _refuse(SweepRefusal.EMPTY, "0 events")
    if latest_completed_run_id and started_before(run.run_id, latest_completed_run_id):
        return _refuse(SweepRefusal.SUPERSEDED, f"run {latest_completed_run_id} completed later")
    if newer_run_in_flight:
        # It may have seen an event this run missed and not have written it yet: its own
        # sweep will delete what is really gone.
        return _refuse(
            SweepRefusal.NEWER_IN_FLIGHT, f"run {newer_run_in_flight} started later and is running"
        )
    return None


def _against_baseline(
    run: RunRecord, baseline: RunRecord | None, min_ratio: float
) -> SweepDecision | None:
    """Too few events against the last swept run, compared like with like: events per day of
    each run's window, so lowering DaysAhead (a shorter window) is not a loss of events."""
    if baseline is None or baseline.event_count <= 0:
        return None
    days, baseline_days = len(run.window.days()), len(baseline.window.days())
    ratio = (run.event_count / days) / (baseline.event_count / baseline_days)
    if ratio >= min_ratio:
        return None
    per_window = "" if days == baseline_days else f" per day ({days} against {baseline_days} days)"
    return _refuse(
        SweepRefusal.TOO_FEW_EVENTS,
        f"{run.event_count} events against {baseline.event_count} in run "
        f"{baseline.run_id}, the last one swept{per_window} (ratio {ratio:.2f} < {min_ratio:.2f})",
    )


def decide_deletions(
    *,
    unseen: int,
    in_window: int,
    max_delete_ratio: float,
    waived: frozenset[SweepRefusal] = frozenset(),
) -> SweepDecision:
    """Refuse when the items this run newly did not see are more than ``max_delete_ratio`` of
    the items stored in its window: no scrape that lost a large part of the calendar acts on
    it (not even by counting first misses). Only an accept that names it waives it."""
    if SweepRefusal.TOO_MANY_DELETIONS in waived or unseen == 0 or in_window == 0:
        return ALLOWED
    ratio = unseen / in_window
    if ratio > max_delete_ratio:
        return _refuse(
            SweepRefusal.TOO_MANY_DELETIONS,
            f"{unseen} of the {in_window} items in the window were not seen "
            f"({ratio:.0%} > {max_delete_ratio:.0%})",
        )
    return ALLOWED


def _refuse(refusal: SweepRefusal, detail: str) -> SweepDecision:
    return SweepDecision(allowed=False, refusal=refusal, detail=detail)
