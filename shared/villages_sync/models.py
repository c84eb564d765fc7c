"""Data that crosses a boundary: stored items, queue messages, run records.

Pure types only: no I/O, no AWS shapes beyond the attribute names they store.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import NotRequired, TypedDict

from villages_sync.run_ids import RunId
from villages_sync.table_layout import MULTI_DAY_SPAN as MULTI_DAY_SPAN

MESSAGE_VERSION = 1
TITLE_MAX_CHARS = 200
DESCRIPTION_MAX_CHARS = 2000
URL_MAX_CHARS = 2000
SUBCATEGORIES_MAX = 20
SUBCATEGORY_MAX_CHARS = 100
CONTENT_HASH_BYTES = 16  # stored as twice as many hex digits
TTL_DAYS_AFTER_EVENT = 90
# An event that ended more than this before a run's window (a month: an event moved into the
# recent past is still plausible), started more than a season before it, or starts or ends
# more than two years after it, is not dated as the calendar means (normalise.plausible).
PLAUSIBLE_DAYS_BEFORE_WINDOW = 31
PLAUSIBLE_SEASON_DAYS = 366
PLAUSIBLE_DAYS_AFTER_WINDOW = 2 * 366
# A run still unfinished this long after it started is dead (Lambda's limit is 15 minutes): it no
# longer holds back older runs' sweeps.
RUN_ABANDONED_AFTER_SECONDS = 2 * 3600


class EventItem(TypedDict):
    """One event as stored in the events table (the seed's schema plus what the skill wants).

    The consumer adds ``run_id`` (the run marker) when it writes the item.
    """

    event_id: str  # upstream id as a decimal string
    title: str
    description: str
    event_date: str  # YYYY-MM-DD, local (America/New_York)
    start_time: str  # HH:MM, 24-hour, local
    end_time: NotRequired[str]  # HH:MM, local; absent when unknown
    location: str  # the venue's title ("" when unknown)
    category: str
    url: NotRequired[str]  # absent when empty
    last_updated: int  # epoch seconds: when the run that produced it started
    ttl: int  # epoch seconds, 90 days after event_date
    # Additions for the skill:
    start_iso: str  # ISO 8601 with UTC offset, e.g. 2025-11-14T17:00:00-05:00
    end_iso: NotRequired[str]
    end_date: NotRequired[str]  # YYYY-MM-DD local, when the event ends on a later date
    span: NotRequired[str]  # MULTI_DAY_SPAN on multi-day events: the multi-day index's key
    all_day: bool
    cancelled: bool
    featured: bool
    subcategories: list[str]
    venue_category: NotRequired[str]
    address: NotRequired[str]  # "Main Street, The Villages, FL 32162" (parts that are present)
    content_hash: (
        str  # hash of the fields above (not last_updated/ttl): tells updated from unchanged
    )


class UpsertOutcome(enum.StrEnum):
    """What one event's conditional write did to the table (counted per run and as metrics)."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SUPERSEDED = "superseded"  # a newer run already wrote this event: left as it is
    KEPT = "kept"  # seen but not storable (invalid, or outside the window): marker refreshed
    INVALID = "invalid"  # failed validation in the consumer: counted, never stored
    # A date change by a run still scraping: its stored copy kept (marker refreshed), the
    # change applied by the run's sweep only if the run completes clean (never if it fails
    # or is degraded)
    DEFERRED = "deferred"


class RejectReason(enum.StrEnum):
    """Why an upstream event was not stored. Counted per run and logged with the event's id."""

    NOT_AN_OBJECT = "not_an_object"
    MISSING_ID = "missing_id"
    MISSING_TITLE = "missing_title"
    MISSING_START = "missing_start"
    BAD_ID = "bad_id"
    ID_TOO_LONG = "id_too_long"  # more digits than any stored id: it matches no stored item
    BAD_START = "bad_start"
    BAD_FLAG = "bad_flag"  # allDay/cancelled/featured neither a boolean nor a boolean's spelling
    INVALID = "invalid"  # breaks a rule the consumer checks (messages.validate_event_item)
    OUTSIDE_WINDOW = "outside_window"
    # A date no calendar entry can mean (the epoch, a garbled year): never written over a
    # stored copy, and counted toward the degraded ratio like any invalid event.
    IMPLAUSIBLE_DATE = "implausible_date"


@dataclass(frozen=True, slots=True)
class DateWindow:
    """The local dates a run covers, both ends inclusive."""

    first: date
    last: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    def days(self) -> list[date]:
        from datetime import timedelta

        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True, slots=True)
class EventMessage:
    """The body of one SQS message on the events queue (versioned JSON)."""

    run_id: RunId
    sequence: int  # 0-based position of this message within its run
    events: list[EventItem]
    version: int = MESSAGE_VERSION
    # Events the run saw but will not upsert, so that their items are never swept:
    keep: list[str] = field(default_factory=list)  # ids of invalid events: marker refreshed
    refresh: list[EventItem] = field(default_factory=list)  # outside the window: update if stored
    invalid: list[str] = field(default_factory=list)  # decoding: why events failed validation


class RunStatus(enum.StrEnum):
    SCRAPING = "scraping"  # producer started
    ENQUEUED = "enqueued"  # producer sent every message; message_count is final
    COMPLETED = "completed"  # every message of the run was consumed
    FAILED = "failed"  # producer failed or was interrupted: never swept


# The only status changes a run may make; every one is a conditional write (runs_table).
RUN_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.SCRAPING: frozenset({RunStatus.ENQUEUED, RunStatus.FAILED}),
    RunStatus.ENQUEUED: frozenset({RunStatus.COMPLETED, RunStatus.FAILED}),
    RunStatus.COMPLETED: frozenset(),
    RunStatus.FAILED: frozenset(),
}


class SweepOutcome(enum.StrEnum):
    SWEPT = "swept"
    REFUSED = "refused"
    # Cut short (an interrupt, a timeout) after it had struck or deleted items, and refused on
    # its retry: what it did is counted on the run; never reported as refused.
    PARTIAL = "partial"


@dataclass(slots=True)
class RunRecord:
    """One run of the pipeline, as kept in the runs table (partition key ``run_id``)."""

    run_id: RunId
    started_at: int  # epoch seconds
    window: DateWindow
    status: RunStatus
    message_count: int = 0
    event_count: int = 0
    fetched_count: int = 0
    rejects: dict[str, int] = field(default_factory=dict)
    drift: bool = False
    drift_reason: str = ""
    error: str = ""
    done_sequences: set[int] = field(default_factory=set)
    upserts: dict[str, int] = field(default_factory=dict)  # added/updated/unchanged/superseded
    completed_at: int | None = None
    finished_at: int | None = None  # producer finished (enqueued or failed)
    sweep_outcome: SweepOutcome | None = None
    sweep_reason: str = ""
    deleted_count: int = 0
    missed_count: int = 0  # items this run's sweep did not see, not yet deleted (first misses)
    degraded: bool = False  # too many fetched events failed validation: never swept
    degraded_reason: str = ""
    sweep_requested: bool = False  # the sweep request is on the sweep queue
    accepted_by: str = ""  # an operator accepted this run's refused sweep ...
    accept_reason: str = ""  # ... and why ...
    accept_waives: list[str] = field(default_factory=list)  # ... waiving only these refusals
    refused_reason: str = ""  # the refusal the operator accepted, kept beside the accept
    sweep_started: bool = False  # the sweep began striking: a retry finishes or records partial
    deferred_sequences: set[int] = field(default_factory=set)  # messages with date changes
    # Content keys of fetched events without a usable id: stored items they match are kept.
    unidentified_content: list[str] = field(default_factory=list)
    raw_capture: str = ""  # s3://bucket/key of the run's raw pages ("": none kept)
    raw_capture_error: str = ""  # why the capture failed (the run went on without it)

    @property
    def baseline(self) -> bool:
        """Its sweep actually ran: only such runs are compared against (refused ones never)."""
        return self.sweep_outcome is SweepOutcome.SWEPT
