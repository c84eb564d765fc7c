"""How a run is shown: its display status (``abandoned`` is derived, never stored) and fields.

Pure: no I/O, so the rules are unit-tested.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from villages_sync.models import RunRecord, RunStatus

# A run still "scraping" or "enqueued" this long after it started, with nothing left in flight
# on the events queue, will never finish: the producer's Lambda timeout is 600 s, and a local
# sync that was killed outright (kill -9) leaves its run in that state.
ABANDONED_AFTER_SECONDS = 900
ABANDONED = "abandoned"


def display_status(run: RunRecord, *, now: float, events_in_queue: int) -> str:
    if run.status in (RunStatus.SCRAPING, RunStatus.ENQUEUED):
        stuck = now - run.started_at > ABANDONED_AFTER_SECONDS
        if stuck and (run.status is RunStatus.SCRAPING or events_in_queue == 0):
            return ABANDONED
    return str(run.status)


def run_fields(run: RunRecord) -> dict[str, Any]:
    """Every field of the record, generically (new fields show without code changes)."""
    fields = asdict(run)
    fields["status"] = str(run.status)
    fields["window"] = f"{run.window.first} .. {run.window.last}"
    fields["done_sequences"] = f"{len(run.done_sequences)} of {run.message_count}"
    if run.sweep_outcome is not None:
        fields["sweep_outcome"] = str(run.sweep_outcome)
    return fields


def stage_seconds(run: RunRecord) -> dict[str, int]:
    """How long each stage took, from the record's own timestamps (whole seconds): the
    producer (started to finished), the consumers (finished to completed) and the whole run.
    A stage not reached yet is left out; the sweep records no time of its own."""
    timings: dict[str, int] = {}
    if run.finished_at:
        timings["producer"] = int(run.finished_at) - int(run.started_at)
    if run.completed_at:
        if run.finished_at:
            timings["consumers"] = int(run.completed_at) - int(run.finished_at)
        timings["total"] = int(run.completed_at) - int(run.started_at)
    return timings
