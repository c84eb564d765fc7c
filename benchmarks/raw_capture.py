"""Raw-pages capture: the same scrape with and without the capture on its session (the stand-in
answering each events request after a fixed latency, in its own process), then the capture's
one upload to S3 (moto, in its own process), every S3 request counted on the wire.

Figures: median wall and client CPU time of the scrape each way (runs interleaved, so drift
in the machine's load falls on both), the spread of the runs without capture (what
"measurable" is measured against), the capture's size raw and gzip, the S3 requests of the
upload, and the peak Python memory (tracemalloc) of one scrape each way.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any

import boto3
from villages_sync.calendar_api.client import scrape_calendar
from villages_sync.raw_capture import RawCapture
from villages_sync.settings import CalendarSettings

from benchmarks.common import CalendarProcess, calendar_process, median, moto_process

PAGE_SIZE = 100
BUCKET = "villages-sync-bench-rawcapturebucket"


@dataclass
class CaptureFigures:
    events: int
    runs: int
    pages: int
    off_seconds: float
    on_seconds: float
    off_spread: float  # max - min of the runs without capture
    off_cpu: float
    on_cpu: float
    raw_bytes: int
    gzip_bytes: int
    s3_requests: int  # of every run's upload: the most one run made
    s3_operations: str
    off_peak_mb: float
    on_peak_mb: float
    upload_seconds: float


class _RecordOnly:
    """The runs table as ``RawCapture.keep`` uses it: the location is noted, nothing more."""

    def __init__(self) -> None:
        self.noted: list[tuple[str, str]] = []

    def record_capture(self, run_id: str, *, location: str, error: str) -> None:
        self.noted.append((location, error))


async def _discard(start_row: int, events: list[dict]) -> None:
    """The producer streams pages into its sink; here the sink only drops them."""


def _scrape(calendar: CalendarProcess, capture: RawCapture | None, run_id: str) -> tuple:
    settings = CalendarSettings(base_url=calendar.base_url, page_size=PAGE_SIZE)
    traces = [capture.start(run_id, 0).trace_config()] if capture else []
    cpu, started = time.process_time(), time.perf_counter()
    result = asyncio.run(scrape_calendar(settings, on_events=_discard, trace_configs=traces))
    return time.perf_counter() - started, time.process_time() - cpu, result


def measure(events: int, *, latency: float, runs: int) -> CaptureFigures:
    off: list[tuple[float, float]] = []
    on: list[tuple[float, float]] = []
    uploads: list[int] = []
    upload_seconds: list[float] = []
    raw = size = pages = 0
    operations = ""
    with (
        moto_process() as moto,
        calendar_process(events, latency_seconds=latency, page_cap=PAGE_SIZE) as calendar,
    ):
        s3: Any = boto3.client(
            "s3",
            endpoint_url=moto.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        s3.create_bucket(Bucket=BUCKET)
        sent: list[str] = []  # every S3 request on the wire: "METHOD /path"
        s3.meta.events.register(
            "before-send", lambda request, **_: sent.append(f"{request.method} {request.url}")
        )
        for n in range(runs):
            # Interleaved, and alternating which goes first, so load drift falls on both.
            for with_capture in (n % 2 == 0, n % 2 != 0):
                if not with_capture:
                    seconds, cpu, _ = _scrape(calendar, None, f"off-{n}")
                    off.append((seconds, cpu))
                    continue
                capture = RawCapture(s3, BUCKET)
                seconds, cpu, _ = _scrape(calendar, capture, f"on-{n}")
                on.append((seconds, cpu))
                writer = capture.writer
                assert writer is not None
                raw, pages = writer.raw_bytes, writer.pages
                sent.clear()
                started = time.perf_counter()
                capture.keep(_RecordOnly(), f"on-{n}")  # type: ignore[arg-type]
                upload_seconds.append(time.perf_counter() - started)
                if capture.error:
                    raise RuntimeError(f"the capture failed: {capture.error}")
                uploads.append(len(sent))
                operations = ", ".join(line.split("?")[0].split(" ")[0] for line in sent)
                head = s3.head_object(Bucket=BUCKET, Key=f"raw-pages/on-{n}.jsonl.gz")
                size = int(head["ContentLength"])
        off_peak = _peak_mb(calendar, None)
        on_peak = _peak_mb(calendar, RawCapture(s3, BUCKET))
    return CaptureFigures(
        events=events,
        runs=runs,
        pages=pages,
        off_seconds=median([s for s, _ in off]),
        on_seconds=median([s for s, _ in on]),
        off_spread=max(s for s, _ in off) - min(s for s, _ in off),
        off_cpu=median([c for _, c in off]),
        on_cpu=median([c for _, c in on]),
        raw_bytes=raw,
        gzip_bytes=size,
        s3_requests=max(uploads),
        s3_operations=operations,
        off_peak_mb=off_peak,
        on_peak_mb=on_peak,
        upload_seconds=median(upload_seconds),
    )


def _peak_mb(calendar: CalendarProcess, capture: RawCapture | None) -> float:
    tracemalloc.start()
    try:
        _scrape(calendar, capture, "peak")
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
        if capture is not None and capture.writer is not None:
            capture.writer.close()
