"""One producer run, streamed: each page of the calendar is normalised as it arrives and each
message sent as soon as a SendMessageBatch call is full, so consumers start while the scrape
goes on. The run is recorded throughout.

What a run decides over all its events is decided as before: de-duplication by id (across
pages), drift, reject counts and the degraded-run rule; ``message_count`` is recorded once the
last message is sent (the completion protocol, sweep_trigger). Any failure marks the run FAILED
(never swept) and is raised again, so Lambda reports it; what it sent before is upserts and
marker refreshes, which the next run repeats or overrides.

Memory: the pages waiting for the sink (the client bounds them), one message being filled, one
call gathering, one call being sent, and the ids seen. Nothing grows with the calendar but ids.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from villages_sync.aws.queue import SweepQueue, send_message_bodies
from villages_sync.aws.runs_table import RunsTable
from villages_sync.aws.streaming_sender import StreamingSender
from villages_sync.calendar_api.client import ScrapeResult, scrape_calendar
from villages_sync.message_stream import EventIds, MessageStream, entries_of
from villages_sync.models import DateWindow, RejectReason, RunRecord, RunStatus
from villages_sync.normalise import invalid_count, normalise_events, window_for
from villages_sync.raw_capture import RawCapture
from villages_sync.run_ids import RunId
from villages_sync.run_policy import (
    MAX_UNIDENTIFIED,
    degraded_reason,
    nothing_fetched,
    nothing_valid,
)
from villages_sync.settings import ProducerSettings
from villages_sync.sweep_trigger import complete_run_if_done

if TYPE_CHECKING:  # the stubs are a development dependency, not the functions'
    from mypy_boto3_sqs import SQSClient


logger = logging.getLogger(__name__)
_T = TypeVar("_T")
__all__ = [
    "MAX_UNIDENTIFIED",
    "EmptyCalendarError",
    "ProducerSummary",
    "ScrapeDeadlineError",
    "ScrapeTallies",
    "degraded_reason",
    "produce_run",
]
SENDS_AHEAD = 8  # full calls (~80 KiB each) waiting while one is sent; then the sink waits


class EmptyCalendarError(RuntimeError):
    """The calendar answered, but with nothing usable: never a reason to delete everything."""


@dataclass(frozen=True, slots=True)
class ScrapeTallies:
    """What one scrape counted, as the stream finished it."""

    fetched: int = 0  # unique by raw id: the client delivers each id once
    reported_count: int = 0
    events: int = 0  # valid and inside the window
    messages: int = 0
    send_calls: int = 0
    calendar_requests: int = 0
    calendar_retries: int = 0
    rejects: dict[str, int] = field(default_factory=dict)
    drift: bool = False
    drift_reason: str = ""
    scrape_seconds: float = 0.0
    first_page_seconds: float | None = None  # the first events page arrived (since the start)
    first_message_seconds: float | None = None  # the first message was on the queue


@dataclass(slots=True)
class ProducerSummary:
    run_id: RunId
    status: RunStatus
    window_first: str
    window_last: str
    tallies: ScrapeTallies = field(default_factory=ScrapeTallies)
    degraded: bool = False
    degraded_reason: str = ""
    completed: bool = False
    error: str = ""
    duration_seconds: float = 0.0
    raw_capture: str = ""  # s3://bucket/key of the run's raw pages
    raw_capture_error: str = ""  # why they were not kept (the run went on)

    @property
    def rejected(self) -> int:
        """Events refused as invalid; those merely outside the window are not rejects."""
        return invalid_count(self.tallies.rejects)

    def as_dict(self) -> dict[str, Any]:
        """Flat, as the function returns it: the tallies beside the run's verdicts."""
        fields = asdict(self)
        tallies = fields.pop("tallies")
        fields["status"] = str(self.status)
        return {**fields, **tallies}


def produce_run(
    settings: ProducerSettings,
    *,
    run_id: RunId,
    now: datetime,
    runs: RunsTable,
    sqs: SQSClient,
    deadline_seconds: float | None = None,
    capture: RawCapture | None = None,
) -> ProducerSummary:
    """Record the run, scrape and enqueue it. Earlier runs are repaired apart, after it
    (``recover_earlier_runs``), so their trouble never stops today's run.

    ``deadline_seconds``: how long the scrape (and the sends streamed with it) may take (the
    Lambda's remaining time less a margin), so a slow calendar fails the run cleanly instead of
    the run being killed. ``capture``: keep the pages the scrape was served (one upload once
    the scrape ends, failed or not; a capture failure is recorded, never raised)."""
    started = time.monotonic()
    window = window_for(now, settings.timezone, settings.days_ahead)
    summary = ProducerSummary(
        run_id=run_id,
        status=RunStatus.SCRAPING,
        window_first=window.first.isoformat(),
        window_last=window.last.isoformat(),
    )
    runs.start_run(
        RunRecord(
            run_id=run_id,
            started_at=int(now.timestamp()),
            window=window,
            status=RunStatus.SCRAPING,
        )
    )
    try:
        traces = [capture.start(run_id, int(now.timestamp())).trace_config()] if capture else []
        stream = _RunStream(settings, sqs, run_id, window, int(now.timestamp()), started, traces)
        try:
            tallies = summary.tallies = asyncio.run(_within(stream.run(), deadline_seconds))
        finally:
            if capture is not None:
                capture.keep(runs, run_id)
                summary.raw_capture, summary.raw_capture_error = capture.location, capture.error
        if empty := nothing_fetched(tallies.fetched, tallies.reported_count):
            raise EmptyCalendarError(empty)
        if tallies.drift:
            logger.warning(
                "calendar changed during the scrape: this run will not delete anything",
                extra={"drift_reason": tallies.drift_reason},
            )
        summary.degraded_reason = degraded_reason(
            tallies.rejects, tallies.events, settings.max_reject_ratio
        )
        summary.degraded = bool(summary.degraded_reason)
        if summary.degraded:
            logger.error(
                "run degraded: too many events failed validation; valid ones are stored, "
                "nothing will be deleted",
                extra={"degraded_reason": summary.degraded_reason, "rejects": tallies.rejects},
            )
        if empty := nothing_valid(
            tallies.fetched, tallies.events, window.first, window.last, tallies.rejects
        ):
            raise EmptyCalendarError(empty)
        run = runs.finish_enqueued(
            run_id,
            message_count=tallies.messages,
            event_count=tallies.events,
            fetched_count=tallies.fetched,
            rejects=tallies.rejects,
            drift=tallies.drift,
            drift_reason=tallies.drift_reason,
            degraded=summary.degraded,
            degraded_reason=summary.degraded_reason,
            unidentified=stream.unidentified[:MAX_UNIDENTIFIED],
            now=time.time(),
        )
        summary.status = RunStatus.ENQUEUED
        # Fast consumers may have finished every message already: then completing is ours.
        summary.completed = complete_run_if_done(
            run,
            runs=runs,
            sweep_queue=SweepQueue(sqs, settings.sweep_queue_url),
            now=time.time(),
        )
    except BaseException as error:
        # BaseException: an interrupt (KeyboardInterrupt, a timeout's signal) fails the run
        # too, so it is never swept. The change is conditional: a run that already completed
        # stays completed (the error came after, e.g. from the sweep request's send).
        summary.error = str(error) or type(error).__name__
        if runs.fail_run(run_id, _failure_text(error), now=time.time()):
            summary.status = RunStatus.FAILED
        raise
    finally:
        summary.duration_seconds = round(time.monotonic() - started, 3)
    return summary


class _RunStream:
    """The sink the calendar client streams pages into, and the run's tallies."""

    def __init__(
        self,
        settings: ProducerSettings,
        sqs: SQSClient,
        run_id: RunId,
        window: DateWindow,
        last_updated: int,
        started: float,
        traces: list[Any] | None = None,
    ) -> None:
        self.settings = settings
        self.traces = traces or []
        self.window = window
        self.last_updated = last_updated
        self.started = started
        self.seen = EventIds()  # normalised ids, across pages
        self.rejects: Counter[str] = Counter()
        self.unidentified: list[str] = []  # content keys of events without a usable id
        self.fetched = 0  # unique by raw id: the client delivers each id once
        self.valid = 0
        self.scrape_seconds = 0.0
        self.first_page_seconds: float | None = None
        self.messages = MessageStream(
            run_id,
            max_bytes=settings.max_message_bytes,
            max_entries=settings.max_events_per_message,
        )
        self.sender = StreamingSender(
            lambda bodies: send_message_bodies(sqs, settings.events_queue_url, bodies).batch_calls,
            started,
        )

    async def run(self) -> ScrapeTallies:
        try:
            scraped = await scrape_calendar(
                self.settings.calendar, on_events=self.take_page, trace_configs=self.traces
            )
            self.scrape_seconds = round(time.monotonic() - self.started, 3)
            self.sender.push(self.messages.flush())
            await self.sender.drain()
        finally:
            # A failed scrape: let a call already in a thread finish, send nothing more.
            await self.sender.stop()
        return self.tallies(scraped)

    def tallies(self, scraped: ScrapeResult) -> ScrapeTallies:
        return ScrapeTallies(
            fetched=self.fetched,
            reported_count=scraped.reported_count,
            events=self.valid,
            messages=self.messages.messages,
            send_calls=self.sender.calls,
            calendar_requests=scraped.request_count,
            calendar_retries=scraped.retry_count,
            rejects=dict(self.rejects),
            drift=scraped.drift,
            drift_reason=scraped.drift_reason,
            scrape_seconds=self.scrape_seconds,
            first_page_seconds=self.first_page_seconds,
            first_message_seconds=self.sender.first_sent_seconds,
        )

    async def take_page(self, start_row: int, raws: list[dict[str, Any]]) -> None:
        """One page: normalised at once, its entries packed; full calls go to the sender."""
        if self.first_page_seconds is None:
            self.first_page_seconds = round(time.monotonic() - self.started, 3)
        self.fetched += len(raws)
        page = normalise_events(
            raws,
            tz=self.settings.timezone,
            window=self.window,
            last_updated=self.last_updated,
            seen=self.seen,
        )
        del raws
        self.valid += len(page.items)
        self.rejects.update(page.rejects)
        if len(self.unidentified) <= MAX_UNIDENTIFIED:
            self.unidentified.extend(page.unidentified)
        for rejection in page.rejections:
            if rejection.reason != RejectReason.OUTSIDE_WINDOW:
                logger.info(
                    "event rejected",
                    extra={
                        "event_id": rejection.event_id,
                        "reason": str(rejection.reason),
                        "detail": rejection.detail,
                    },
                )
        ready = self.messages.add(entries_of(page.items, page.refresh, page.keep))
        if start_row == 0:
            # The first page goes out at once, full call or not: consumers start now.
            ready += self.messages.flush()
        self.sender.push(ready)
        await self.sender.wait_below(SENDS_AHEAD)


def _failure_text(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "interrupted: the run was stopped before it finished"
    return f"{type(error).__name__}: {error}"


class ScrapeDeadlineError(TimeoutError):
    """The scrape did not finish in the time the function had left."""


async def _within(scrape: Coroutine[Any, Any, _T], deadline_seconds: float | None) -> _T:
    if deadline_seconds is None:
        return await scrape
    try:
        return await asyncio.wait_for(scrape, timeout=max(deadline_seconds, 1.0))
    except TimeoutError:
        raise ScrapeDeadlineError(
            f"the calendar was not read within {deadline_seconds:.0f} s, the time left before "
            "the function's timeout"
        ) from None
