"""Issue 13's measurements: normalise old path against new, and a whole run with the consumer
draining the events queue while the producer still scrapes (the overlap streaming buys).

The producer runs in its own process (the real handler through the local Lambda runtime), the
stand-in and moto in theirs; the consumer and then the sweep are driven here through the local
event-source mapping, each invocation timed: a stage's busy time is the time its handler ran.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from unittest import mock

from villages_sync import normalise, text
from villages_sync.normalise import normalise_events, window_for
from villages_sync_ops.local.dynamodb_local import embedded_dynamodb
from villages_sync_ops.local.event_source import SqsEventSourceMapping
from villages_sync_ops.local.lambda_runtime import Invocation
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions, deploy_locally
from villages_sync_ops.standin.dataset import generate_events

from benchmarks.common import TZ, calendar_process, median, moto_process, today
from benchmarks.memory import _CHILD

# --- normalise: the reference path (BeautifulSoup for all markup, character filters) -------


@dataclass
class NormaliseFigures:
    events: int
    old_per_cpu_second: float  # the reference text path: what every field cost before
    new_per_cpu_second: float  # as deployed
    new_uncached_per_cpu_second: float  # as deployed, short-text cache off
    runs: int


def _normalise_rate(raws: list[dict], runs: int) -> float:
    now = datetime.now(TZ)
    window = window_for(now, TZ, 90)
    rates = []
    for _ in range(runs):
        text._clean_cached.cache_clear()
        started = time.process_time()
        normalise_events(raws, tz=TZ, window=window, last_updated=int(now.timestamp()))
        rates.append(len(raws) / (time.process_time() - started))
    return median(rates)


def measure_normalise(events: int, *, runs: int) -> NormaliseFigures:
    raws = generate_events(events, seed=7, today=today())

    def reference(value: object, max_chars: int) -> str:
        return text.clean_text(value, max_chars, reference=True)

    new = _normalise_rate(raws, runs)
    with mock.patch.object(normalise, "clean_text", reference):
        old = _normalise_rate(raws, runs)
    with mock.patch.object(text, "_CACHED_MAX_CHARS", -1):
        uncached = _normalise_rate(raws, runs)
    return NormaliseFigures(events, old, new, uncached, runs)


# --- a whole run, consumer concurrent with the producer -------------------------------------


@dataclass
class ConcurrentRunFigures:
    events: int
    total_seconds: float  # producer start to sweep done
    producer_seconds: float  # its invocation, in its own process
    consumer_busy_seconds: float  # sum of consumer invocations
    sweep_busy_seconds: float
    consumer_invocations: int
    first_consumer_start_seconds: float  # after the producer started
    producer_end_seconds: float
    consumer_end_seconds: float
    status: str
    sweep_outcome: str
    latency_seconds: float
    dynamodb: str = "moto"

    @property
    def slowest_stage_seconds(self) -> float:
        return max(self.producer_seconds, self.consumer_busy_seconds, self.sweep_busy_seconds)


class _TimedInvoker:
    def __init__(self, pipeline: LocalPipeline, logical_id: str) -> None:
        self.pipeline, self.logical_id = pipeline, logical_id
        self.busy, self.count, self.first_start = 0.0, 0, None

    def __call__(self, event: dict[str, Any]) -> Invocation:
        began = time.monotonic()
        self.first_start = self.first_start or began
        try:
            return self.pipeline.invoke_function(self.logical_id, event)
        finally:
            self.busy += time.monotonic() - began
            self.count += 1


def _mapping(pipeline: LocalPipeline, queue: str, invoker: _TimedInvoker) -> SqsEventSourceMapping:
    resources = pipeline.deployment.resources
    spec = next(m for m in resources.event_source_mappings if m.queue_logical_id == queue)
    return SqsEventSourceMapping(
        pipeline.deployment.clients.sqs,
        queue_url=resources.queue_urls[queue],
        queue_arn=resources.queue_arns[queue],
        invoke=invoker,
        batch_size=spec.batch_size,
        report_batch_item_failures=spec.report_batch_item_failures,
        region=pipeline.deployment.region,
    )


def measure_concurrent_run(
    events: int, *, latency: float, dynamodb: str = "moto"
) -> ConcurrentRunFigures:
    """One run of ``events``; ``dynamodb`` is the backend: moto, or DynamoDB Local ("local")
    with SQS still on moto."""
    with (
        contextlib.ExitStack() as stack,
        moto_process() as moto,
        embedded_dynamodb(dynamodb) as local,
        calendar_process(events, page_cap=100, latency_seconds=latency) as calendar,
    ):
        deployment = deploy_locally(
            moto.endpoint_url,
            dynamodb_endpoint_url=local.endpoint_url if local else moto.endpoint_url,
        )
        pipeline = LocalPipeline(
            deployment,
            SyncOptions(calendar_base_url=calendar.base_url, function_log=io.StringIO()),
        )
        spec = deployment.resources.functions["ProducerFunction"]
        env = {**pipeline.function_env(spec), "LOG_LEVEL": "WARNING"}
        consumer = _TimedInvoker(pipeline, "ConsumerFunction")
        sweeper = _TimedInvoker(pipeline, "SweepFunction")
        events_queue = _mapping(pipeline, "EventsQueue", consumer)
        sweep_queue = _mapping(pipeline, "SweepQueue", sweeper)
        files = [stack.enter_context(tempfile.TemporaryFile("w+")) for _ in range(3)]
        spec_file, out_file, err_file = files
        spec_file.write(
            json.dumps({"handler": spec.handler_path, "env": env, "memory_mb": spec.memory_mb})
        )
        spec_file.seek(0)
        started = time.monotonic()
        # Files, not pipes: nothing reads the child's output until it is done.
        producer = subprocess.Popen(
            [sys.executable, "-c", _CHILD], stdin=spec_file, stdout=out_file, stderr=err_file
        )
        ended: list[float] = []  # when the producer process exited, seen by a waiting thread
        waiter = threading.Thread(target=lambda: (producer.wait(), ended.append(time.monotonic())))
        waiter.start()
        while True:
            drained = events_queue.drain(deadline_seconds=600)
            if ended and drained.records_received == 0:
                break
            if drained.records_received == 0:
                time.sleep(0.05)  # the poller's interval while the queue is momentarily empty
        consumer_end = time.monotonic()
        sweep_queue.drain(deadline_seconds=600)
        total = time.monotonic() - started
        waiter.join(60)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
        lines = [line for line in out.splitlines() if line.startswith('{"error"')]
        if not lines:
            raise RuntimeError(f"producer child failed: {err[-800:]}")
        child = json.loads(lines[-1])
        if child["error"]:
            raise RuntimeError(f"producer failed: {child['error']}")
        payload = child["payload"]
        run = deployment.runs.get(payload["run_id"])
    return ConcurrentRunFigures(
        events=events,
        total_seconds=total,
        producer_seconds=payload["duration_seconds"],
        consumer_busy_seconds=consumer.busy,
        sweep_busy_seconds=sweeper.busy,
        consumer_invocations=consumer.count,
        first_consumer_start_seconds=(consumer.first_start or started) - started,
        producer_end_seconds=ended[0] - started,
        consumer_end_seconds=consumer_end - started,
        status=str(run.status),
        sweep_outcome=str(run.sweep_outcome),
        latency_seconds=latency,
        dynamodb=dynamodb,
    )
