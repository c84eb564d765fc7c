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

import json
from typing import Any

from villages_sync.aws.runs_table import RunsTable
from villages_sync.models import RunRecord, RunStatus

SWEEP_REQUEST_VERSION = 1


class SweepRequestError(ValueError):
    pass


def all_messages_done(run: RunRecord) -> bool:
    """Every sequence the run sent is done: counting done sequences is not enough, since a
    stray sequence (corrupt or forged, but well-formed) would complete the run early."""
    return (
        run.status is RunStatus.ENQUEUED
        and run.message_count > 0
        and set(range(run.message_count)) <= run.done_sequences
    )


def complete_run_if_done(
    run: RunRecord, *, runs: RunsTable, sqs: Any, sweep_queue_url: str
) -> bool:
    """Complete ``run`` and request its sweep if every message is done; True if this call
    completed it. A run found already completed without a sweep request gets one."""
    if run.status is RunStatus.COMPLETED:
        ensure_sweep_requested(run, runs=runs, sqs=sqs, sweep_queue_url=sweep_queue_url)
        return False
    if not all_messages_done(run) or not runs.complete_run(run.run_id):
        return False
    request_sweep(run.run_id, runs=runs, sqs=sqs, sweep_queue_url=sweep_queue_url)
    return True


def ensure_sweep_requested(
    run: RunRecord, *, runs: RunsTable, sqs: Any, sweep_queue_url: str
) -> bool:
    """Request the sweep of a completed run whose request was never recorded; True if sent."""
    if run.status is not RunStatus.COMPLETED or run.sweep_requested or run.sweep_outcome:
        return False
    request_sweep(run.run_id, runs=runs, sqs=sqs, sweep_queue_url=sweep_queue_url)
    return True


def request_sweep(run_id: str, *, runs: RunsTable, sqs: Any, sweep_queue_url: str) -> None:
    """Each step idempotent, in an order that a crash anywhere leaves repairable: the pointer
    (in case completing crashed before it), the request, then the record of the request."""
    runs.advance_latest_completed(run_id)
    sqs.send_message(QueueUrl=sweep_queue_url, MessageBody=encode_sweep_request(run_id))
    runs.mark_sweep_requested(run_id)


def encode_sweep_request(run_id: str) -> str:
    return json.dumps({"v": SWEEP_REQUEST_VERSION, "run_id": run_id}, separators=(",", ":"))


def decode_sweep_request(body: str) -> str:
    """The run id a sweep request names; SweepRequestError saying what is wrong otherwise."""
    try:
        request = json.loads(body)
    except ValueError as error:
        raise SweepRequestError(f"sweep request is not JSON: {error}") from None
    if not isinstance(request, dict) or request.get("v") != SWEEP_REQUEST_VERSION:
        raise SweepRequestError(f"sweep request is not a version {SWEEP_REQUEST_VERSION} object")
    run_id = request.get("run_id")
    if not isinstance(run_id, str) or not run_id:
        raise SweepRequestError("sweep request has no run_id")
    return run_id
