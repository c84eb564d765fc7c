"""One events-queue message: decode, upsert every event under its run marker, mark it done."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from villages_sync.aws.events_table import EventsTable
from villages_sync.aws.runs_table import RunNotFoundError, RunsTable
from villages_sync.messages import decode_message
from villages_sync.models import UpsertOutcome
from villages_sync.sweep_trigger import complete_run_if_done


@dataclass(slots=True)
class MessageOutcome:
    run_id: str
    sequence: int
    counts: Counter[str] = field(default_factory=Counter)
    invalid: list[str] = field(default_factory=list)  # events that failed validation, and why
    dropped: bool = False  # the run is older than the latest completed run
    completed_run: bool = False


def consume_message(
    body: str,
    *,
    events: EventsTable,
    runs: RunsTable,
    sqs: Any,
    sweep_queue_url: str,
    latest_completed_run_id: str | None,
) -> MessageOutcome:
    """Apply one message. Raises (so the record fails alone) on an undecodable body or an AWS
    error; an event that fails validation fails alone (counted, its stored item kept).

    A message from a run older than the latest completed run is dropped: replaying it from the
    DLQ must not bring back an event that the newer run's sweep deleted.
    """
    message = decode_message(body)
    outcome = MessageOutcome(run_id=message.run_id, sequence=message.sequence)
    if latest_completed_run_id and message.run_id < latest_completed_run_id:
        # Its events are not applied, but the message is done: the run can still complete
        # (its sweep then refuses, superseded) instead of staying enqueued for ever.
        outcome.dropped = True
        try:
            run = runs.mark_message_done(message.run_id, message.sequence)
        except RunNotFoundError:
            return outcome  # a stray message of a run with no record: nothing to finish
        outcome.completed_run = complete_run_if_done(
            run, runs=runs, sqs=sqs, sweep_queue_url=sweep_queue_url
        )
        return outcome
    outcome.counts.update(
        str(result) for result in events.upsert_many(message.events, message.run_id)
    )
    refreshed = events.refresh_many(message.refresh, message.run_id)
    kept = events.keep_many(message.keep, message.run_id)
    outcome.counts[str(UpsertOutcome.KEPT)] += kept + sum(1 for r in refreshed if r is not None)
    outcome.counts[str(UpsertOutcome.INVALID)] += len(message.invalid)
    outcome.counts = +outcome.counts  # drop zero counts
    outcome.invalid = message.invalid
    run = runs.mark_message_done(message.run_id, message.sequence, outcome.counts)
    outcome.completed_run = complete_run_if_done(
        run, runs=runs, sqs=sqs, sweep_queue_url=sweep_queue_url
    )
    return outcome


__all__ = ["MessageOutcome", "UpsertOutcome", "consume_message"]
