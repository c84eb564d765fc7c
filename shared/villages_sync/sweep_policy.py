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
# a run that did not complete, nor one that a newer run already replaced or is replacing.
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
    accepted: bool = False,
) -> SweepDecision:
    """Allow deletions only for a clean, complete run that is still the newest complete one.

    ``baseline`` is the last run whose sweep actually ran; ``accepted`` means an operator
    accepted this run, overriding the refusals in ``ACCEPTABLE``.
    """
    if run.status is not RunStatus.COMPLETED:
        return _refuse(SweepRefusal.NOT_COMPLETED, f"status is {run.status}")
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
    if accepted:
        return ALLOWED
    if run.drift:
        return _refuse(SweepRefusal.DRIFT, run.drift_reason or "flagged by the producer")
    if run.degraded:
        return _refuse(SweepRefusal.DEGRADED, run.degraded_reason or "flagged by the producer")
    if baseline and baseline.event_count > 0:
        ratio = run.event_count / baseline.event_count
        if ratio < min_ratio:
            return _refuse(
                SweepRefusal.TOO_FEW_EVENTS,
                f"{run.event_count} events against {baseline.event_count} in run "
                f"{baseline.run_id}, the last one swept (ratio {ratio:.2f} < {min_ratio:.2f})",
            )
    return ALLOWED


def decide_deletions(
    *, unseen: int, in_window: int, max_delete_ratio: float, accepted: bool = False
) -> SweepDecision:
    """Refuse when the items this run newly did not see are more than ``max_delete_ratio`` of
    the items stored in its window: no scrape that lost a large part of the calendar acts on
    it (not even by counting first misses). An operator's accept overrides it."""
    if accepted or unseen == 0 or in_window == 0:
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
