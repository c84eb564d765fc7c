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
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from villages_sync.aws.queue import send_message_bodies
from villages_sync.aws.runs_table import RunsTable
from villages_sync.calendar_api.client import ScrapeResult, scrape_calendar
from villages_sync.message_stream import EventIds, MessageStream, SendBatch, entries_of
from villages_sync.models import DateWindow, RejectReason, RunRecord, RunStatus
from villages_sync.normalise import (
    invalid_count,
    normalise_events,
    unidentified_count,
    window_for,
)
from villages_sync.settings import ProducerSettings
from villages_sync.sweep_trigger import complete_run_if_done, request_sweep

logger = logging.getLogger(__name__)
# Content keys of id-less events kept on the run record (~100 bytes each, well inside an item).
MAX_UNIDENTIFIED = 1000
SENDS_AHEAD = 8  # full calls (~80 KiB each) waiting while one is sent; then the sink waits


class EmptyCalendarError(RuntimeError):
    """The calendar answered, but with nothing usable: never a reason to delete everything."""


@dataclass(slots=True)
class ProducerSummary:
    run_id: str
    status: str
    window_first: str
    window_last: str
    fetched: int = 0
    reported_count: int = 0
    events: int = 0
    messages: int = 0
    send_calls: int = 0
    calendar_requests: int = 0
    calendar_retries: int = 0
    rejects: dict[str, int] = field(default_factory=dict)
    drift: bool = False
    drift_reason: str = ""
    degraded: bool = False
    degraded_reason: str = ""
    completed: bool = False
    error: str = ""
    scrape_seconds: float = 0.0
    first_page_seconds: float | None = None  # the first events page arrived (since the start)
    first_message_seconds: float | None = None  # the first message was on the queue
    duration_seconds: float = 0.0

    @property
    def rejected(self) -> int:
        """Events refused as invalid; those merely outside the window are not rejects."""
        return invalid_count(self.rejects)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def produce_run(
    settings: ProducerSettings,
    *,
    run_id: str,
    now: datetime,
    runs: RunsTable,
    sqs: Any,
    deadline_seconds: float | None = None,
) -> ProducerSummary:
    """``deadline_seconds``: how long the scrape (and the sends streamed with it) may take (the
    Lambda's remaining time less a margin), so a slow calendar fails the run cleanly instead of
    the run being killed."""
    started = time.monotonic()
    _end_abandoned_runs(runs)
    _request_missing_sweeps(runs, sqs, settings.sweep_queue_url, now=now.timestamp())
    window = window_for(now, settings.timezone, settings.days_ahead)
    summary = ProducerSummary(
        run_id=run_id,
        status=str(RunStatus.SCRAPING),
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
        stream = _RunStream(settings, sqs, run_id, window, int(now.timestamp()), started)
        scraped = asyncio.run(_within(stream.run(), deadline_seconds))
        summary.scrape_seconds = stream.scrape_seconds
        summary.first_page_seconds = stream.first_page_seconds
        summary.first_message_seconds = stream.sender.first_sent_seconds
        summary.fetched = stream.fetched
        summary.reported_count = scraped.reported_count
        summary.calendar_requests = scraped.request_count
        summary.calendar_retries = scraped.retry_count
        summary.drift, summary.drift_reason = scraped.drift, scraped.drift_reason
        summary.rejects = dict(stream.rejects)
        summary.events, summary.messages = stream.valid, stream.messages.messages
        summary.send_calls = stream.sender.calls
        if not summary.fetched:
            raise EmptyCalendarError(
                f"the calendar returned no events (count={scraped.reported_count})"
            )
        if scraped.drift:
            logger.warning(
                "calendar changed during the scrape: this run will not delete anything",
                extra={"drift_reason": scraped.drift_reason},
            )
        summary.degraded_reason = degraded_reason(
            summary.rejects, stream.valid, settings.max_reject_ratio
        )
        summary.degraded = bool(summary.degraded_reason)
        if summary.degraded:
            logger.error(
                "run degraded: too many events failed validation; valid ones are stored, "
                "nothing will be deleted",
                extra={"degraded_reason": summary.degraded_reason, "rejects": summary.rejects},
            )
        if not stream.valid:
            raise EmptyCalendarError(
                f"none of the {summary.fetched} events fetched is valid and inside "
                f"{window.first}..{window.last} (rejects: {summary.rejects})"
            )
        run = runs.finish_enqueued(
            run_id,
            message_count=summary.messages,
            event_count=summary.events,
            fetched_count=summary.fetched,
            rejects=summary.rejects,
            drift=scraped.drift,
            drift_reason=scraped.drift_reason,
            degraded=summary.degraded,
            degraded_reason=summary.degraded_reason,
            unidentified=stream.unidentified[:MAX_UNIDENTIFIED],
        )
        summary.status = str(RunStatus.ENQUEUED)
        # Fast consumers may have finished every message already: then completing is ours.
        summary.completed = complete_run_if_done(
            run, runs=runs, sqs=sqs, sweep_queue_url=settings.sweep_queue_url
        )
    except BaseException as error:
        # BaseException: an interrupt (KeyboardInterrupt, a timeout's signal) fails the run
        # too, so it is never swept. The change is conditional: a run that already completed
        # stays completed (the error came after, e.g. from the sweep request's send).
        summary.error = str(error) or type(error).__name__
        if runs.fail_run(run_id, _failure_text(error)):
            summary.status = str(RunStatus.FAILED)
        raise
    finally:
        summary.duration_seconds = round(time.monotonic() - started, 3)
    return summary


class _RunStream:
    """The sink the calendar client streams pages into, and the run's tallies."""

    def __init__(
        self,
        settings: ProducerSettings,
        sqs: Any,
        run_id: str,
        window: DateWindow,
        last_updated: int,
        started: float,
    ) -> None:
        self.settings = settings
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
        self.sender = _Sender(
            lambda bodies: send_message_bodies(sqs, settings.events_queue_url, bodies).batch_calls,
            started,
        )

    async def run(self) -> ScrapeResult:
        try:
            scraped = await scrape_calendar(self.settings.calendar, on_events=self.take_page)
            self.scrape_seconds = round(time.monotonic() - self.started, 3)
            self.sender.push(self.messages.flush())
            await self.sender.drain()
        finally:
            # A failed scrape: let a call already in a thread finish, send nothing more.
            await self.sender.stop()
        return scraped

    async def take_page(self, start_row: int, raws: list[dict]) -> None:
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


class _Sender:
    """Sends calls in order, one at a time in a worker thread, while the event loop goes on
    fetching and normalising. ``send(bodies)`` returns the SendMessageBatch calls it made."""

    def __init__(self, send: Any, started: float) -> None:
        self.send = send
        self.started = started
        self.waiting: deque[SendBatch] = deque()
        self.task: asyncio.Task[None] | None = None
        self.calls = 0
        self.first_sent_seconds: float | None = None

    def push(self, batches: list[SendBatch]) -> None:
        self.waiting.extend(batch for batch in batches if batch)
        if self.task is not None and self.task.done():
            self.task.result()  # a failed send fails the run here
            self.task = None
        if self.waiting and self.task is None:
            self.task = asyncio.ensure_future(self._send_waiting())

    async def wait_below(self, count: int) -> None:
        while len(self.waiting) > count and self.task is not None:
            await asyncio.shield(self.task)  # shielded: a cancelled page must not stop sends
            self.push([])

    async def drain(self) -> None:
        while self.task is not None:
            await asyncio.shield(self.task)
            self.push([])

    async def stop(self) -> None:
        self.waiting.clear()
        if self.task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.task)

    async def _send_waiting(self) -> None:
        while self.waiting:
            batch = self.waiting.popleft()
            self.calls += await asyncio.to_thread(self.send, batch)
            if self.first_sent_seconds is None:
                self.first_sent_seconds = round(time.monotonic() - self.started, 3)


def degraded_reason(rejects: Mapping[str, int], valid: int, max_reject_ratio: float) -> str:
    """Why the run is degraded (too large a share of invalid events), or "" when it is not.

    Outside-the-window events are not counted either way: they are not invalid.
    """
    invalid = invalid_count(rejects)
    judged = invalid + valid
    unidentified = unidentified_count(rejects)
    if unidentified > MAX_UNIDENTIFIED:
        # Each is matched to stored items by content on the run record: past this many, the
        # record cannot hold them, so the run cannot tell which stored events it saw.
        return (
            f"{unidentified} fetched event(s) have no usable id (more than {MAX_UNIDENTIFIED} "
            f"can be matched by content): {_reasons(rejects)}"
        )
    if not judged or invalid / judged <= max_reject_ratio:
        return ""
    return (
        f"{invalid} of {judged} events failed validation ({invalid / judged:.1%} > "
        f"{max_reject_ratio:.1%}): {_reasons(rejects)}"
    )


def _reasons(rejects: Mapping[str, int]) -> str:
    return ", ".join(
        f"{reason} {n}"
        for reason, n in sorted(rejects.items())
        if reason != RejectReason.OUTSIDE_WINDOW
    )


def _failure_text(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "interrupted: the run was stopped before it finished"
    return f"{type(error).__name__}: {error}"


class ScrapeDeadlineError(TimeoutError):
    """The scrape did not finish in the time the function had left."""


async def _within(scrape: Any, deadline_seconds: float | None) -> Any:
    if deadline_seconds is None:
        return await scrape
    try:
        return await asyncio.wait_for(scrape, timeout=max(deadline_seconds, 1.0))
    except TimeoutError:
        raise ScrapeDeadlineError(
            f"the calendar was not read within {deadline_seconds:.0f} s, the time left before "
            "the function's timeout"
        ) from None


def _end_abandoned_runs(runs: RunsTable) -> None:
    """End the runs whose producer died mid-scrape (single flight: none is running now)."""
    for run in runs.scraping_runs():
        if runs.fail_run(run.run_id, "abandoned: its producer stopped without finishing"):
            logger.warning("abandoned run ended as failed", extra={"run_id": run.run_id})


def _request_missing_sweeps(runs: RunsTable, sqs: Any, sweep_queue_url: str, *, now: float) -> None:
    """Request again the sweep of recent completed runs that never got one (a crash or a failed
    send after completing the run) or whose request was lost (dead-lettered). A duplicate is
    harmless: a sweep records its outcome once."""
    for run in runs.unswept_runs(now=now):
        request_sweep(run.run_id, runs=runs, sqs=sqs, sweep_queue_url=sweep_queue_url)
        logger.warning("sweep of an earlier run requested again", extra={"run_id": run.run_id})
