"""One events-queue message: check its run, upsert every event under its run marker, mark it done.

Nothing in a message is trusted before its run is: the run must have a record, be in progress
(scraping or enqueued) and not claim to start in the future. Only then is anything written, so
a forged or stray message (a run id far ahead, an edited copy of an event) changes nothing, and
``replay-dlq`` cannot make it change anything either.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from villages_sync.aws.events_table import EventsTable
from villages_sync.aws.queue import SweepQueue
from villages_sync.aws.run_views import store_deferred, store_message_view
from villages_sync.aws.runs_table import RunNotFoundError, RunsTable
from villages_sync.messages import decode_message
from villages_sync.models import EventItem, RunStatus, UpsertOutcome
from villages_sync.run_ids import run_started_at, started_before
from villages_sync.sweep_trigger import complete_run_if_done

# How far ahead of this function's clock a run may claim to have started (clocks drift a
# little between Lambda hosts; a run id from next year is forged).
RUN_CLOCK_SKEW_SECONDS = 300
_IN_PROGRESS = (RunStatus.SCRAPING, RunStatus.ENQUEUED)


class MessageRefusedError(ValueError):
    """The message's run cannot have sent it: nothing was written."""


@dataclass(slots=True)
class MessageOutcome:
    run_id: str
    sequence: int
    counts: Counter[str] = field(default_factory=Counter)
    invalid: list[str] = field(default_factory=list)  # events that failed validation, and why
    dropped: bool = False  # the run is older than the latest completed run, or already over
    completed_run: bool = False


def consume_message(
    body: str,
    *,
    events: EventsTable,
    runs: RunsTable,
    sweep_queue: SweepQueue,
    now: float,
) -> MessageOutcome:
    """Apply one message. Raises (so the record fails alone) on an undecodable body, a message
    no run of ours sent (MessageRefusedError) or an AWS error; an event that fails validation
    fails alone (counted, its stored item kept).

    A message from a run older than the latest completed run (read for each message, not once
    a batch) is dropped: replaying it from the DLQ must not bring back an event that the newer
    run's sweep deleted. The race left (the newer run completes and sweeps between this read
    and the writes) is closed by the table: a deletion leaves a tombstone with the newer
    marker, which an older run's upsert cannot overwrite.
    """
    message = decode_message(body)
    outcome = MessageOutcome(run_id=message.run_id, sequence=message.sequence)
    try:
        started = run_started_at(message.run_id).timestamp()
    except ValueError:
        raise MessageRefusedError(f"run id {message.run_id} names no real time") from None
    if started > now + RUN_CLOCK_SKEW_SECONDS:
        raise MessageRefusedError(
            f"run {message.run_id} claims to start in the future: nothing written"
        )
    try:
        run = runs.get(message.run_id)
    except RunNotFoundError:
        raise MessageRefusedError(f"run {message.run_id} has no record: nothing written") from None
    if run.status not in _IN_PROGRESS:
        # Completed (this is a duplicate: a run completes only once every message is done) or
        # failed: the run is over, and a failed run's messages change nothing. A completed run
        # whose sweep request was never recorded gets it (the redelivery repairs a crash).
        outcome.dropped = True
        complete_run_if_done(run, runs=runs, sweep_queue=sweep_queue, now=now)
        return outcome
    latest_completed_run_id = runs.latest_completed_run_id()
    if latest_completed_run_id and started_before(message.run_id, latest_completed_run_id):
        # Its events are not applied, but the message is done: the run can still complete
        # (its sweep then refuses, superseded) instead of staying enqueued for ever.
        outcome.dropped = True
        run = runs.mark_message_done(message.run_id, message.sequence)
        outcome.completed_run = complete_run_if_done(
            run, runs=runs, sweep_queue=sweep_queue, now=now
        )
        return outcome
    upserts, expired = _unexpired(message.events, now)
    refreshes, expired_refreshes = _unexpired(message.refresh, now)
    expired += expired_refreshes
    # A run still scraping may yet fail or be degraded: until it is enqueued clean, it adds
    # events and keeps stored ones, but moves none to another date. Those moves are kept aside
    # (deferred) for its sweep, which applies them once the run completed clean.
    provisional = run.status is RunStatus.SCRAPING or run.degraded
    results = events.upsert_many(upserts, message.run_id, keep_date=provisional)
    outcome.counts.update(str(result) for result in results)
    deferred = [i for i, r in zip(upserts, results, strict=True) if r is UpsertOutcome.DEFERRED]
    refreshed: list[UpsertOutcome | None] = []
    keep = [*message.keep, *(item["event_id"] for item in expired)]
    if provisional:
        keep += [item["event_id"] for item in refreshes]
        deferred += refreshes
    else:
        refreshed = events.refresh_many(refreshes, message.run_id)
    if deferred and not run.degraded:
        store_deferred(runs, message.run_id, message.sequence, deferred, now=now)
    kept = events.keep_many(keep, message.run_id)
    outcome.counts[str(UpsertOutcome.KEPT)] += kept + sum(1 for r in refreshed if r is not None)
    outcome.invalid = [
        *message.invalid,
        *(f"event {item['event_id']}: ttl {item['ttl']} is already past" for item in expired),
    ]
    outcome.counts[str(UpsertOutcome.INVALID)] += len(outcome.invalid)
    outcome.counts = +outcome.counts  # drop zero counts
    store_message_view(runs, message.run_id, message.sequence, upserts, now=now)  # `runs diff`
    run = runs.mark_message_done(message.run_id, message.sequence, outcome.counts)
    outcome.completed_run = complete_run_if_done(run, runs=runs, sweep_queue=sweep_queue, now=now)
    return outcome


def _unexpired(items: list[EventItem], now: float) -> tuple[list[EventItem], list[EventItem]]:
    """Items to write, and those whose ``ttl`` is already past: DynamoDB would delete such an
    item within days, so writing it would lose the event's last good copy (its id is kept)."""
    live = [item for item in items if item["ttl"] > now]
    if len(live) == len(items):
        return items, []
    return live, [item for item in items if item["ttl"] <= now]


__all__ = ["MessageOutcome", "MessageRefusedError", "UpsertOutcome", "consume_message"]
