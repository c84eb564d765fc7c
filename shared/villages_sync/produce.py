"""One producer run: scrape, normalise, pack and enqueue, with the run recorded throughout.

Any failure marks the run FAILED (never swept) and is raised again, so Lambda reports it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from villages_sync.aws.queue import send_message_bodies
from villages_sync.aws.runs_table import RunsTable
from villages_sync.calendar_api.client import scrape_calendar
from villages_sync.messages import pack_messages
from villages_sync.models import RejectReason, RunRecord, RunStatus
from villages_sync.normalise import normalise_events, window_for
from villages_sync.settings import ProducerSettings
from villages_sync.sweep_trigger import complete_run_if_done

logger = logging.getLogger(__name__)


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
    completed: bool = False
    error: str = ""
    scrape_seconds: float = 0.0
    duration_seconds: float = 0.0

    @property
    def rejected(self) -> int:
        """Events refused as invalid; those merely outside the window are not rejects."""
        return sum(n for reason, n in self.rejects.items() if reason != RejectReason.OUTSIDE_WINDOW)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def produce_run(
    settings: ProducerSettings,
    *,
    run_id: str,
    now: datetime,
    runs: RunsTable,
    sqs: Any,
) -> ProducerSummary:
    started = time.monotonic()
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
        scraped = asyncio.run(scrape_calendar(settings.calendar))
        summary.scrape_seconds = round(time.monotonic() - started, 3)
        summary.fetched = len(scraped.events)
        summary.reported_count = scraped.reported_count
        summary.calendar_requests = scraped.request_count
        summary.calendar_retries = scraped.retry_count
        summary.drift, summary.drift_reason = scraped.drift, scraped.drift_reason
        if not scraped.events:
            raise EmptyCalendarError(
                f"the calendar returned no events (count={scraped.reported_count})"
            )
        if scraped.drift:
            logger.warning(
                "calendar changed during the scrape: this run will not delete anything",
                extra={"drift_reason": scraped.drift_reason},
            )
        raw_events, scraped.events = scraped.events, []
        normalised = normalise_events(
            _consume(raw_events),
            tz=settings.timezone,
            window=window,
            last_updated=int(now.timestamp()),
        )
        summary.rejects = dict(normalised.rejects)
        for rejection in normalised.rejections:
            if rejection.reason != RejectReason.OUTSIDE_WINDOW:
                logger.info(
                    "event rejected",
                    extra={
                        "event_id": rejection.event_id,
                        "reason": str(rejection.reason),
                        "detail": rejection.detail,
                    },
                )
        if not normalised.items:
            raise EmptyCalendarError(
                f"none of the {summary.fetched} events fetched is valid and inside "
                f"{window.first}..{window.last} (rejects: {summary.rejects})"
            )
        bodies = pack_messages(
            run_id,
            normalised.items,
            max_bytes=settings.max_message_bytes,
            max_events=settings.max_events_per_message,
        )
        sent = send_message_bodies(sqs, settings.events_queue_url, bodies)
        summary.events, summary.messages, summary.send_calls = (
            len(normalised.items),
            len(bodies),
            sent.batch_calls,
        )
        run = runs.finish_enqueued(
            run_id,
            message_count=len(bodies),
            event_count=len(normalised.items),
            fetched_count=summary.fetched,
            rejects=summary.rejects,
            drift=scraped.drift,
            drift_reason=scraped.drift_reason,
        )
        summary.status = str(RunStatus.ENQUEUED)
        # Fast consumers may have finished every message already: then completing is ours.
        summary.completed = complete_run_if_done(
            run, runs=runs, sqs=sqs, sweep_queue_url=settings.sweep_queue_url
        )
    except Exception as error:
        summary.status, summary.error = str(RunStatus.FAILED), str(error)
        runs.fail_run(run_id, f"{type(error).__name__}: {error}")
        raise
    finally:
        summary.duration_seconds = round(time.monotonic() - started, 3)
    return summary


def _consume(items: list[Any]) -> Iterator[Any]:
    """Yield ``items`` in order, letting go of each one: raw and normalised events are never
    all in memory at once (peak memory at 50,000 events, docs/benchmarks.md)."""
    items.reverse()
    while items:
        yield items.pop()
