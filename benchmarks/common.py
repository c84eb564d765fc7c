"""Helpers shared by the scenarios: repeats and medians, servers in child processes, counters."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import statistics
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.local import emulator

HOST = "127.0.0.1"
TZ = ZoneInfo(DEFAULT_TIMEZONE)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Everything runs against local emulators: dummy credentials, never real ones.
for _name, _value in (
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
):
    os.environ.setdefault(_name, _value)


def today() -> date:
    return datetime.now(TZ).date()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of another process, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


# --- the stand-in calendar in its own process (its CPU does not compete with the client) ---


def _serve_calendar(count: int, seed: int, faults: dict[str, Any], ready: Any, stop: Any) -> None:
    from villages_sync_ops.standin.dataset import generate_events
    from villages_sync_ops.standin.server import Faults, RunningCalendar

    events = generate_events(count, seed=seed, today=today())
    with RunningCalendar(events, faults=Faults(**faults)) as base_url:
        ready.send(str(base_url))
        stop.wait(3600)


@dataclass
class CalendarProcess:
    base_url: str
    pid: int

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)


@contextlib.contextmanager
def calendar_process(count: int, *, seed: int = 5, **faults: Any) -> Iterator[CalendarProcess]:
    """``with calendar_process(10_000, latency_seconds=0.1) as base_url``: a stand-in calendar
    on 127.0.0.1 in a child process, serving ``count`` generated events."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    stop = context.Event()
    process = context.Process(
        target=_serve_calendar, args=(count, seed, faults, send, stop), daemon=True
    )
    process.start()
    try:
        if not receive.poll(120):
            raise RuntimeError("the stand-in calendar did not start within 120 s")
        yield CalendarProcess(receive.recv(), process.pid)
    finally:
        stop.set()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join(5)


# --- moto in its own process, so its CPU time can be told from ours ---------------------


@dataclass
class MotoServer:
    endpoint_url: str
    pid: int

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)


@contextlib.contextmanager
def moto_process() -> Iterator[MotoServer]:
    with emulator.moto_process() as moto:
        yield MotoServer(moto.endpoint_url, moto.pid)


# --- AWS requests, counted on the wire ----------------------------------------------------


@dataclass
class RequestCounter:
    """Counts every HTTP request a botocore client sends (retries included), by operation and
    table, and the SQS payload bytes. Register with ``counter.attach(client)``."""

    operations: Counter[str] = field(default_factory=Counter)  # "dynamodb:PutItem:<table>"
    sqs_billed_requests: int = 0  # each 64 KiB chunk of a payload is one billed request

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register(
            "before-send", lambda request, **_: self._count(service, request)
        )

    def _count(self, service: str, request: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        if isinstance(target, bytes):
            target = target.decode()
        operation = target.rsplit(".", 1)[-1] or "?"
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        table = ""
        if service == "dynamodb":
            with contextlib.suppress(ValueError):
                table = json.loads(body).get("TableName", "")
        self.operations[f"{service}:{operation}:{table}"] += 1
        if service == "sqs":
            self.sqs_billed_requests += max(1, -(-len(body) // (64 * 1024)))

    def snapshot(self) -> Counter[str]:
        return Counter(self.operations)


def count_requests(
    counts: Mapping[str, int], service: str, operation: str | None = None, table: str | None = None
) -> int:
    """Requests in ``counts`` (keys ``service:operation:table``) matching what is given."""
    total = 0
    for key, n in counts.items():
        s, o, t = key.split(":", 2)
        if s == service and operation in (None, o) and table in (None, t):
            total += n
    return total
