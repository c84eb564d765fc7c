"""Completing a run and triggering its sweep, shared by the producer and the consumer.

The producer and the consumers race to see a run's last message done: whoever observes
"enqueued and every sequence done" tries the conditional ENQUEUED → COMPLETED transition, and
only the one caller that wins it sends the run's single sweep request.
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
    """Complete ``run`` and request its sweep if every message is done; True if this call did."""
    if not all_messages_done(run) or not runs.complete_run(run.run_id):
        return False
    sqs.send_message(QueueUrl=sweep_queue_url, MessageBody=encode_sweep_request(run.run_id))
    return True


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
