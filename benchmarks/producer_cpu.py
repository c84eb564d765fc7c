"""Scenario 2: the producer's CPU work per event (normalise, pack) and what it sends on SQS."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from villages_sync.messages import pack_messages, plan_send_batches
from villages_sync.normalise import normalise_events, window_for
from villages_sync.run_ids import new_run_id
from villages_sync.settings import ProducerSettings
from villages_sync_ops.standin.dataset import generate_events

from benchmarks.common import TZ, median, today

_DEFAULTS = ProducerSettings(
    runs_table_name="-",
    events_queue_url="-",
    sweep_queue_url="-",
    calendar=None,  # type: ignore[arg-type]
)


@dataclass
class ProducerCpuFigures:
    events: int
    normalise_events_per_cpu_second: float
    pack_events_per_cpu_second: float
    valid_events: int
    messages: int
    batch_calls: int
    mean_body_bytes: float
    runs: int

    @property
    def messages_per_1000(self) -> float:
        return 1000 * self.messages / self.valid_events

    @property
    def batch_calls_per_1000(self) -> float:
        return 1000 * self.batch_calls / self.valid_events

    @property
    def events_per_batch_call(self) -> float:
        return self.valid_events / self.batch_calls


def measure(events: int, *, runs: int) -> ProducerCpuFigures:
    raws = generate_events(events, seed=7, today=today())
    now = datetime.now(TZ)
    window = window_for(now, TZ, _DEFAULTS.days_ahead)
    normalise_rates, pack_rates = [], []
    for _ in range(runs):
        started = time.process_time()
        result = normalise_events(raws, tz=TZ, window=window, last_updated=int(now.timestamp()))
        normalise_rates.append(len(raws) / (time.process_time() - started))
        started = time.process_time()
        bodies = pack_messages(
            new_run_id(now),
            result.items,
            max_bytes=_DEFAULTS.max_message_bytes,
            max_events=_DEFAULTS.max_events_per_message,
        )
        batches = plan_send_batches(bodies)
        pack_rates.append(len(result.items) / (time.process_time() - started))
    return ProducerCpuFigures(
        events=events,
        normalise_events_per_cpu_second=median(normalise_rates),
        pack_events_per_cpu_second=median(pack_rates),
        valid_events=len(result.items),
        messages=len(bodies),
        batch_calls=len(batches),
        mean_body_bytes=sum(len(b.encode()) for b in bodies) / len(bodies),
        runs=runs,
    )
