"""Repairing earlier runs, a step of its own: the producer calls it after recording (and
running) today's run, in its own guard, so a failure here never stops today's scrape.

The producer is single flight (reserved concurrency 1, no retries; locally one sync at a
time), so a run before today's that is still SCRAPING has a dead producer: killed at Lambda's
timeout, say, without a chance to record it. A recent completed run whose sweep was never
requested, or whose request was lost, gets it again; a duplicate is harmless (a sweep records
its outcome once).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from villages_sync.aws.queue import SweepQueue
from villages_sync.aws.runs_table import RunsTable
from villages_sync.run_ids import RunId, started_before
from villages_sync.sweep_trigger import request_sweep

logger = logging.getLogger(__name__)
ABANDONED_ERROR = "abandoned: its producer stopped without finishing"


@dataclass(frozen=True, slots=True)
class Recovery:
    abandoned: tuple[str, ...] = ()  # runs ended as failed
    sweeps_requested: tuple[str, ...] = ()  # runs whose sweep was requested again


def recover_earlier_runs(
    runs: RunsTable, sweep_queue: SweepQueue, *, before_run_id: RunId, now: float
) -> Recovery:
    """End the abandoned runs started before ``before_run_id`` and request the missing sweeps
    of the completed ones. Today's run is left to its own producer and consumers (one of them
    requests its sweep)."""
    abandoned = []
    for run in runs.scraping_runs():
        if not started_before(run.run_id, before_run_id):
            continue  # today's run
        if runs.fail_run(run.run_id, ABANDONED_ERROR, now=now):
            logger.warning("abandoned run ended as failed", extra={"run_id": run.run_id})
            abandoned.append(run.run_id)
    requested = []
    for run in runs.unswept_runs(now=now):
        if not started_before(run.run_id, before_run_id):
            continue  # today's run
        request_sweep(run.run_id, runs=runs, sweep_queue=sweep_queue)
        logger.warning("sweep of an earlier run requested again", extra={"run_id": run.run_id})
        requested.append(run.run_id)
    return Recovery(abandoned=tuple(abandoned), sweeps_requested=tuple(requested))
