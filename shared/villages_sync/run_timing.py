"""When a recorded run needs attention again, or is still to be waited for: the timing rules
of runs, pure functions of a run and ``now``. Apart from ``sweep_policy`` (which decides
deletions, and only the sweep loads), since the producer's recovery and the runs table use
them too."""

from __future__ import annotations

from villages_sync.models import RUN_ABANDONED_AFTER_SECONDS, RunRecord, RunStatus

# A requested sweep with no outcome after this long was lost (its request dead-lettered).
SWEEP_REQUEST_RETRY_SECONDS = 3600


def sweep_request_due(run: RunRecord, *, now: float) -> bool:
    """A completed run whose sweep has no recorded outcome and was either never requested (a
    crash or a failed send after completing) or requested long ago (the request
    dead-lettered): its sweep is to be requested again."""
    return (
        run.status is RunStatus.COMPLETED
        and run.sweep_outcome is None
        and (
            not run.sweep_requested
            or now - (run.completed_at or run.started_at) > SWEEP_REQUEST_RETRY_SECONDS
        )
    )


def still_running(run: RunRecord, *, now: float) -> bool:
    """Scraping or being consumed, and recently started. A run that started long ago and never
    finished (its producer died, or its messages sit in the DLQ) is not: it must not block
    every older sweep for ever."""
    running = run.status in (RunStatus.SCRAPING, RunStatus.ENQUEUED)
    return running and now - run.started_at < RUN_ABANDONED_AFTER_SECONDS
