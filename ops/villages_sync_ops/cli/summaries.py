"""Turning run records and sync reports into what a person reads."""

from __future__ import annotations

from typing import Any

from villages_sync.models import RunRecord, RunStatus, SweepOutcome, UpsertOutcome

from villages_sync_ops.local.pipeline import SyncReport

EXIT_OK = 0
EXIT_FAILED = 1  # the run failed or did not complete: nothing was deleted
EXIT_USAGE = 2  # argparse's own code for bad arguments
EXIT_SWEEP_REFUSED = 3  # the run completed and upserted, but its sweep refused to delete
EXIT_DEGRADED = 4  # too many events failed validation: valid ones stored, nothing deleted


# Outcomes shown in the summary only when some event had them (it stays within 80 columns).
_SHOWN_WHEN_ANY = (UpsertOutcome.KEPT, UpsertOutcome.INVALID, UpsertOutcome.DEFERRED)


def run_as_dict(run: RunRecord) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "status": str(run.status),
        "window": [run.window.first.isoformat(), run.window.last.isoformat()],
        "fetched": run.fetched_count,
        "events": run.event_count,
        "messages": run.message_count,
        "messages_done": len(run.done_sequences),
        "upserts": dict(run.upserts),
        "rejects": dict(run.rejects),
        "drift": run.drift,
        "drift_reason": run.drift_reason,
        "error": run.error,
        "sweep": str(run.sweep_outcome) if run.sweep_outcome else None,
        "sweep_reason": run.sweep_reason,
        "deleted": run.deleted_count,
        "missed": run.missed_count,
        "degraded": run.degraded,
        "degraded_reason": run.degraded_reason,
        "accepted_by": run.accepted_by,
        "accept_reason": run.accept_reason,
        "accept_waives": list(run.accept_waives),
        "refused_reason": run.refused_reason,
    }


def deletions_text(run: RunRecord | None) -> str:
    """What the run's sweep did, from the run record (a sweep stopped mid-way has deleted)."""
    if run is None or (not run.deleted_count and not run.missed_count and not run.sweep_started):
        return "none: nothing was deleted"
    done = f"{run.deleted_count} deleted, {run.missed_count} first misses counted"
    if run.sweep_outcome is None or run.sweep_outcome is SweepOutcome.PARTIAL:
        return f"{done} before the sweep stopped; the next sync finishes it"
    return done


def sync_exit_code(report: SyncReport) -> int:
    if not report.succeeded or report.run is None:
        return EXIT_FAILED
    if report.run.degraded:
        return EXIT_DEGRADED
    if report.run.sweep_outcome is None:
        return EXIT_FAILED  # completed, but its sweep never ran (see status / SweepDLQ)
    if report.run.sweep_outcome in (SweepOutcome.REFUSED, SweepOutcome.PARTIAL):
        return EXIT_SWEEP_REFUSED  # refused, or cut short: its sweep did not run to the end
    return EXIT_OK


def sync_as_dict(report: SyncReport) -> dict[str, Any]:
    return {
        "run_id": report.run_id,
        "succeeded": report.succeeded,
        "exit_code": sync_exit_code(report),
        "error": report.producer_error or (report.run.error if report.run else ""),
        "run": run_as_dict(report.run) if report.run else None,
        "producer": report.producer,
        "records_processed": report.records_processed,
        "records_failed": report.records_failed,
        "stage_seconds": report.stage_seconds,
    }


def sync_text(report: SyncReport) -> str:
    run = report.run
    if run is None:
        return f"Run failed before it was recorded: {report.producer_error or 'unknown error'}"
    upserts = run.upserts
    lines = [
        f"Run {run.run_id}: {run.status}",
        f"  window      {run.window.first} .. {run.window.last}",
        f"  calendar    {run.fetched_count} events fetched",
    ]
    if run.status is RunStatus.FAILED:
        lines.append(f"  error       {run.error}")
        lines.append("  deletions   none: a failed run is never swept")
        return "\n".join(lines)
    rejects = ", ".join(f"{k} {v}" for k, v in sorted(run.rejects.items())) or "none"
    lines += [
        f"  enqueued    {run.event_count} events in {run.message_count} messages",
        f"  rejected    {rejects}",
        "  table       "
        + ", ".join(
            f"{k} {upserts.get(k, 0)}"
            for k in UpsertOutcome
            if upserts.get(k) or k not in _SHOWN_WHEN_ANY
        ),
    ]
    if run.drift:
        lines.append(f"  drift       {run.drift_reason}")
    if run.degraded:
        lines.append(f"  DEGRADED    {run.degraded_reason}")
    if run.sweep_outcome is None:
        lines.append(
            f"  sweep       not run ({len(run.done_sequences)}/{run.message_count} messages done)"
        )
    elif run.sweep_outcome is SweepOutcome.REFUSED:
        lines.append(f"  sweep       REFUSED, nothing deleted: {run.sweep_reason}")
    elif run.sweep_outcome is SweepOutcome.PARTIAL:
        lines.append(
            f"  sweep       CUT SHORT: {run.deleted_count} deleted, {run.missed_count} first "
            f"misses before it stopped ({run.sweep_reason})"
        )
    else:
        lines.append(
            f"  sweep       {run.deleted_count} deleted; {run.missed_count} first misses "
            "(deleted if missed again)"
        )
    if report.records_failed:
        lines.append(
            f"  failures    {report.records_failed} message deliveries failed (see status / DLQ)"
        )
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in report.stage_seconds.items())
    lines.append(f"  time        {timing}")
    return "\n".join(lines)
