"""Completing a run and requesting its sweep, shared by the producer and the consumer.

The producer and the consumers race to see a run's last message done: whoever observes
"enqueued and every sequence done" tries the conditional ENQUEUED → COMPLETED transition, and
the one caller that wins it requests the run's sweep. The request is recorded on the run
(``sweep_requested``) after it is sent, so a crash or a failed send in between is repaired:
a redelivered message that finds its run completed without a request sends it again, and so
does every producer run for the recent runs it finds in that state. A duplicate request is
harmless: the sweep records its outcome once.
"""

from __future__ import annotations

from villages_sync.aws.queue import SweepQueue
from villages_sync.aws.runs_table import RunsTable
from villages_sync.models import RunRecord, RunStatus
from villages_sync.run_ids import RunId
from villages_sync.sweep_requests import (
    SWEEP_REQUEST_VERSION,
    SweepRequestError,
    decode_sweep_request,
    encode_sweep_request,
)

__all__ = [
    "SWEEP_REQUEST_VERSION",
    "SweepRequestError",
    "all_messages_done",
    "complete_run_if_done",
    "decode_sweep_request",
    "encode_sweep_request",
    "ensure_sweep_requested",
    "request_sweep",
]


def all_messages_done(run: RunRecord) -> bool:
    """Every sequence the run sent is done: counting done sequences is not enough, since a
    stray sequence (corrupt or forged, but well-formed) would complete the run early."""
    return (
        run.status is RunStatus.ENQUEUED
        and run.message_count > 0
        and set(range(run.message_count)) <= run.done_sequences
    )


def complete_run_if_done(
    run: RunRecord, *, runs: RunsTable, sweep_queue: SweepQueue, now: float
) -> bool:
    """Complete ``run`` and request its sweep if every message is done; True if this call
    completed it. A run found already completed without a sweep request gets one."""
    if run.status is RunStatus.COMPLETED:
        ensure_sweep_requested(run, runs=runs, sweep_queue=sweep_queue)
        return False
    if not all_messages_done(run) or not runs.complete_run(run.run_id, now=now):
        return False
    request_sweep(run.run_id, runs=runs, sweep_queue=sweep_queue)
    return True


def ensure_sweep_requested(run: RunRecord, *, runs: RunsTable, sweep_queue: SweepQueue) -> bool:
    """Request the sweep of a completed run whose request was never recorded; True if sent."""
    if run.status is not RunStatus.COMPLETED or run.sweep_requested or run.sweep_outcome:
        return False
    request_sweep(run.run_id, runs=runs, sweep_queue=sweep_queue)
    return True


def request_sweep(run_id: RunId, *, runs: RunsTable, sweep_queue: SweepQueue) -> None:
    """Each step idempotent, in an order that a crash anywhere leaves repairable: the pointer
    (in case completing crashed before it), the request, then the record of the request."""
    runs.advance_latest_completed(run_id)
    sweep_queue.request_sweep(run_id)
    runs.mark_sweep_requested(run_id)
