"""Scenarios 3-5: whole runs (LocalPipeline, the real handlers) against local emulators, with
every AWS request counted on the wire, by service, operation and table.

On each DynamoDB backend: ``moto`` (one moto server for SQS and DynamoDB) or ``local``
(DynamoDB Local for DynamoDB, moto for SQS). Every emulator runs in its own process, so its CPU
time is told from the pipeline's (the handlers and the stand-in calendar, in this process).
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from villages_sync.normalise import normalise_events, window_for
from villages_sync_ops.local.dynamodb_local import embedded_dynamodb
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions, deploy_locally
from villages_sync_ops.standin.dataset import generate_events, mutate_events
from villages_sync_ops.standin.server import RunningCalendar

from benchmarks.common import (
    TZ,
    RequestCounter,
    count_requests,
    moto_process,
    process_cpu_seconds,
    today,
)


@dataclass
class RunFigures:
    events: int
    stage_seconds: dict[str, float]
    consumer_invocations: int
    counts: dict[str, int]
    sqs_billed_requests: int
    deleted: int = 0
    succeeded: bool = True
    # CPU-seconds of the run: each emulator process ("moto", "DynamoDB Local") and this one
    emulator_cpu_seconds: dict[str, float] = field(default_factory=dict)
    pipeline_cpu_seconds: float = 0.0

    def count(self, service: str, operation: str | None = None, table: str | None = None) -> int:
        return count_requests(self.counts, service, operation, table)


@dataclass
class EndToEndFigures:
    first: RunFigures  # an empty table: every event added
    second: RunFigures | None = None  # the next day: a mutated calendar, the sweep deletes
    mean_item_bytes: float = 0.0
    tables: dict[str, str] = field(default_factory=dict)
    dynamodb: str = "moto"  # the DynamoDB backend: moto, or DynamoDB Local ("local")


@dataclass
class Emulators:
    """The emulator processes of one measurement, by name, for their CPU time."""

    pids: dict[str, int]

    def cpu_seconds(self) -> dict[str, float]:
        return {name: process_cpu_seconds(pid) for name, pid in self.pids.items()}


def _item_bytes(events: list[dict]) -> float:
    """DynamoDB item size, approximated by the JSON of the stored item (names + values)."""
    now = datetime.now(TZ)
    items = normalise_events(events, tz=TZ, window=window_for(now, TZ, 90), last_updated=0).items
    return sum(len(json.dumps({**i, "run_id": "x" * 29})) for i in items) / max(1, len(items))


def _run(
    deployment, base_url: str, counter: RequestCounter, events: int, emulators: Emulators
) -> RunFigures:
    before, billed = counter.snapshot(), counter.sqs_billed_requests
    emulator_cpu, own_cpu = emulators.cpu_seconds(), time.process_time()
    options = SyncOptions(calendar_base_url=base_url, function_log=io.StringIO())
    report = LocalPipeline(deployment, options).run_sync()
    own_cpu = time.process_time() - own_cpu
    emulator_cpu = {k: v - emulator_cpu[k] for k, v in emulators.cpu_seconds().items()}
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
        emulator_cpu_seconds={k: round(v, 2) for k, v in emulator_cpu.items()},
        pipeline_cpu_seconds=round(own_cpu, 2),
    )


@contextlib.contextmanager
def _emulators(dynamodb: str) -> Iterator[tuple[str, str, Emulators]]:
    """(SQS endpoint, DynamoDB endpoint, the processes) for one backend, all fresh."""
    with moto_process() as moto, embedded_dynamodb(dynamodb) as local:
        pids = {"moto": moto.pid} | ({"DynamoDB Local": local.pid} if local else {})
        yield moto.endpoint_url, local.endpoint_url if local else moto.endpoint_url, Emulators(pids)


def measure(events: int, *, second_day: bool, dynamodb: str = "moto") -> EndToEndFigures:
    day_one = generate_events(events, seed=21, today=today())
    with _emulators(dynamodb) as (sqs_endpoint, dynamodb_endpoint, emulators):
        deployment = deploy_locally(sqs_endpoint, dynamodb_endpoint_url=dynamodb_endpoint)
        counter = RequestCounter()
        counter.attach(deployment.clients.dynamodb)
        counter.attach(deployment.clients.sqs)
        with RunningCalendar(day_one) as calendar:
            first = _run(deployment, calendar.base_url, counter, events, emulators)
            figures = EndToEndFigures(first, dynamodb=dynamodb)
            figures.tables = dict(deployment.resources.tables)
            if second_day:
                changed = max(1, events // 50)
                day_two = mutate_events(
                    day_one, seed=22, added=changed, removed=changed, changed=changed
                )
                calendar.set_events(day_two)
                figures.second = _run(
                    deployment, calendar.base_url, counter, len(day_two), emulators
                )
    figures.mean_item_bytes = _item_bytes(day_one)
    return figures
