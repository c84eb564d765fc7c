"""Scenarios 3-5: whole runs (LocalPipeline, the real handlers) on the embedded emulator, with
every AWS request counted on the wire, by service, operation and table."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime

from villages_sync.local.emulator import EmbeddedEmulator
from villages_sync.local.pipeline import LocalPipeline, SyncOptions, deploy_locally
from villages_sync.normalise import normalise_events, window_for
from villages_sync.standin.dataset import generate_events, mutate_events
from villages_sync.standin.server import RunningCalendar

from benchmarks.common import TZ, RequestCounter, count_requests, today


@dataclass
class RunFigures:
    events: int
    stage_seconds: dict[str, float]
    consumer_invocations: int
    counts: dict[str, int]
    sqs_billed_requests: int
    deleted: int = 0
    succeeded: bool = True

    def count(self, service: str, operation: str | None = None, table: str | None = None) -> int:
        return count_requests(self.counts, service, operation, table)


@dataclass
class EndToEndFigures:
    first: RunFigures  # an empty table: every event added
    second: RunFigures | None = None  # the next day: a mutated calendar, the sweep deletes
    mean_item_bytes: float = 0.0
    tables: dict[str, str] = field(default_factory=dict)


def _item_bytes(events: list[dict]) -> float:
    """DynamoDB item size, approximated by the JSON of the stored item (names + values)."""
    now = datetime.now(TZ)
    items = normalise_events(events, tz=TZ, window=window_for(now, TZ, 90), last_updated=0).items
    return sum(len(json.dumps({**i, "run_id": "x" * 29})) for i in items) / max(1, len(items))


def _run(deployment, base_url: str, counter: RequestCounter, events: int) -> RunFigures:
    before, billed = counter.snapshot(), counter.sqs_billed_requests
    options = SyncOptions(calendar_base_url=base_url, function_log=io.StringIO())
    report = LocalPipeline(deployment, options).run_sync()
    counts = counter.snapshot()
    counts.subtract(before)
    return RunFigures(
        events=events,
        stage_seconds=dict(report.stage_seconds),
        consumer_invocations=report.consumer_invocations,
        counts={k: v for k, v in counts.items() if v},
        sqs_billed_requests=counter.sqs_billed_requests - billed,
        deleted=report.run.deleted_count if report.run else 0,
        succeeded=report.succeeded,
    )


def measure(events: int, *, second_day: bool) -> EndToEndFigures:
    day_one = generate_events(events, seed=21, today=today())
    with EmbeddedEmulator() as aws:
        deployment = deploy_locally(aws.endpoint_url)
        counter = RequestCounter()
        counter.attach(deployment.clients.dynamodb)
        counter.attach(deployment.clients.sqs)
        with RunningCalendar(day_one) as calendar:
            figures = EndToEndFigures(_run(deployment, calendar.base_url, counter, events))
            figures.tables = dict(deployment.resources.tables)
            if second_day:
                changed = max(1, events // 50)
                day_two = mutate_events(
                    day_one, seed=22, added=changed, removed=changed, changed=changed
                )
                calendar.set_events(day_two)
                figures.second = _run(deployment, calendar.base_url, counter, len(day_two))
    figures.mean_item_bytes = _item_bytes(day_one)
    return figures
