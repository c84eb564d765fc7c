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
from villages_sync.normalise import NormaliseResult, invalid_count, normalise_events, window_for
from villages_sync.settings import ProducerSettings
from villages_sync.sweep_trigger import complete_run_if_done, ensure_sweep_requested

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
    degraded: bool = False
    degraded_reason: str = ""
    completed: bool = False
    error: str = ""
    scrape_seconds: float = 0.0
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
) -> ProducerSummary:
    started = time.monotonic()
    _request_missing_sweeps(runs, sqs, settings.sweep_queue_url)
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
        summary.degraded_reason = degraded_reason(normalised, settings.max_reject_ratio)
        summary.degraded = bool(summary.degraded_reason)
        if summary.degraded:
            logger.error(
                "run degraded: too many events failed validation; valid ones are stored, "
                "nothing will be deleted",
                extra={"degraded_reason": summary.degraded_reason, "rejects": summary.rejects},
            )
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
            refresh=normalised.refresh,
            keep=normalised.keep,
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
            degraded=summary.degraded,
            degraded_reason=summary.degraded_reason,
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


def degraded_reason(normalised: NormaliseResult, max_reject_ratio: float) -> str:
    """Why the run is degraded (too large a share of invalid events), or "" when it is not.

    Outside-the-window events are not counted either way: they are not invalid.
    """
    invalid = normalised.invalid
    judged = invalid + len(normalised.items)
    if not judged or invalid / judged <= max_reject_ratio:
        return ""
    reasons = ", ".join(
        f"{reason} {n}"
        for reason, n in sorted(normalised.rejects.items())
        if reason != RejectReason.OUTSIDE_WINDOW
    )
    return (
        f"{invalid} of {judged} events failed validation ({invalid / judged:.1%} > "
        f"{max_reject_ratio:.1%}): {reasons}"
    )


def _failure_text(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "interrupted: the run was stopped before it finished"
    return f"{type(error).__name__}: {error}"


def _request_missing_sweeps(runs: RunsTable, sqs: Any, sweep_queue_url: str) -> None:
    """Request the sweep of recent completed runs that never got one (a crash or a failed send
    between completing a run and requesting its sweep)."""
    for run in runs.unrequested_sweeps():
        if ensure_sweep_requested(run, runs=runs, sqs=sqs, sweep_queue_url=sweep_queue_url):
            logger.warning("sweep request of an earlier run sent again", extra={"run": run.run_id})


def _consume(items: list[Any]) -> Iterator[Any]:
    """Yield ``items`` in order, letting go of each one: raw and normalised events are never
    all in memory at once (peak memory at 50,000 events, docs/benchmarks.md)."""
    items.reverse()
    while items:
        yield items.pop()
