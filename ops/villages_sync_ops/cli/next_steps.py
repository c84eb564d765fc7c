"""The line that ends every failed or refused sync summary: the next command or check.

Pure: from the report (and the command line's environment and calendar URL) to words.
"""

from __future__ import annotations

from villages_sync.models import RunStatus, SweepOutcome
from villages_sync.sweep_policy import ACCEPTABLE  # what an operator's accept can override

from villages_sync_ops.local.pipeline import SyncReport

_UNREACHABLE = ("Cannot connect to host", "Connect call failed", "TimeoutError", "HTTP 5")


def next_step(report: SyncReport, *, env: str, calendar_base_url: str | None) -> str | None:
    """What to run or check next; None when the run completed and swept."""
    target = "" if env == "local" else f" --env {env}"
    run = report.run
    error = report.producer_error or (run.error if run else "")
    if run is None or run.status is RunStatus.FAILED:
        if any(mark in error for mark in _UNREACHABLE):
            where = calendar_base_url or "the CalendarBaseUrl parameter"
            return (
                f"check that the calendar answers at {where} (--calendar-base-url); "
                f"nothing was deleted, and the next sync retries: villages-sync sync{target}"
            )
        logs = (
            f"villages-sync logs --run {run.run_id}" if run else "villages-sync logs --run latest"
        )
        return f"{logs}{target} (a failed run is never swept; the next sync retries)"
    if run.degraded:
        return (
            f"villages-sync runs show {run.run_id}{target} (its degraded_reason), then "
            "docs/operations.md, 'Run degraded'"
        )
    if run.sweep_outcome is None:
        return (
            f"villages-sync status{target} (its sweep request may wait on SweepQueue, or be in "
            f"SweepDLQ: villages-sync replay-dlq --show{target})"
        )
    if run.sweep_outcome is SweepOutcome.REFUSED:
        if any(run.sweep_reason.startswith(str(refusal)) for refusal in ACCEPTABLE):
            return (
                "check the calendar (villages-sync events); if it really changed: "
                f'villages-sync sweep accept {run.run_id} --reason "..."{target}'
            )
        return "none: a newer run's sweep decides (villages-sync status)"
    if report.records_failed:
        return f"villages-sync replay-dlq --show{target} (failed deliveries)"
    return None
