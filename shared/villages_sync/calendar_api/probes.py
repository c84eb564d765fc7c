"""What the scrape learns from its pages, taken as each arrives (streaming keeps no page), and
the checks on it: the count held still, the rows did not shift, nothing lay past the count."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from villages_sync.calendar_api import paging
from villages_sync.calendar_api.pages import Page, raw_id, unique_by_id
from villages_sync.calendar_api.paging import FetchPage, read_twice
from villages_sync.calendar_api.row_readings import RowReadings
from villages_sync.event_ids import id_key
from villages_sync.id_sets import CompactIds


class RowsSeen:
    """Which offsets were read at least once, one byte a row (a set of ints cost ~60)."""

    def __init__(self) -> None:
        self.flags = bytearray()
        self.total = 0

    def update(self, start: int, stop: int) -> None:
        if stop > len(self.flags):
            self.flags.extend(bytes(stop - len(self.flags)))
        new = stop - start - self.flags.count(1, start, stop)
        self.flags[start:stop] = b"\x01" * (stop - start)
        self.total += new

    def __len__(self) -> int:
        return self.total


@dataclass
class PageTally:
    """What the drift checks need of every page. Not streaming, it keeps the pages (the scrape
    returns every event); streaming, the ids delivered and the readings of the rows another
    page may read too."""

    streaming: bool
    rows_seen: RowsSeen = field(default_factory=RowsSeen)
    page_count: int = 0
    first_page: Page | None = None  # planned the scrape
    counts: dict[int, None] = field(default_factory=dict)  # distinct, in order
    readings: RowReadings = field(default_factory=RowReadings)  # the shift check
    pages: list[Page] = field(default_factory=list)  # not streaming: their events
    ids_seen: CompactIds = field(default_factory=CompactIds)  # streaming: delivered
    unique_count: int = 0  # streaming: events delivered

    def deliver(self, page: Page) -> list[dict[str, Any]]:
        """Streaming: the page's events no page delivered before, claimed now (so pages handed
        over concurrently never both deliver one id; first arrival wins)."""
        ids_before = len(self.ids_seen)
        fresh = unique_by_id([page.events], self.ids_seen)
        self.unique_count += len(fresh)
        page.fresh = len(self.ids_seen) - ids_before
        page.events = []
        return fresh

    def note(self, page: Page) -> None:
        """A page as it arrives (the order the checks compare in)."""
        self.page_count += 1
        first = self.first_page = self.first_page or page
        self.counts[page.count] = None
        self.rows_seen.update(page.start_row, page.start_row + page.rows)
        span_step = first.rows - 1  # spans start every page length - 1 rows
        for offset, event in enumerate(page.events, start=page.start_row):
            if not self.streaming or read_twice(offset, page, span_step):
                self.readings.record(offset, raw_id(event))
        if not self.streaming:
            self.pages.append(page)

    def events(self) -> tuple[list[dict[str, Any]], int, int]:
        """The events kept (none when streaming), how many unique events and unique ids."""
        if self.streaming:
            return [], self.unique_count, len(self.ids_seen)
        ids: set[object] = set()
        events = unique_by_id((p.events for p in sorted(self.pages, key=_start_row)), ids)
        return events, len(events), len(ids)

    def drift_reasons(self, count: int, unique: int, unique_ids: int) -> list[str]:
        reasons = []
        distinct_counts = list(self.counts)
        if len(distinct_counts) > 1:
            changed_to = ", ".join(str(c) for c in distinct_counts[1:])
            reasons.append(
                f"count changed from {distinct_counts[0]} to {changed_to} during the scrape"
            )
        if unique < count:
            reasons.append(f"fetched {unique} unique events but the API reported {count}")
        if unique_ids > count:  # by id: an id-less event read twice is not two more events
            reasons.append(
                f"the API served {unique_ids - count} more events than its count of {count}"
            )
        shifted = self.readings.shifted()
        if shifted:
            reasons.append(
                f"rows shifted during the scrape ({len(shifted)} page boundaries disagree, "
                f"first at row {shifted[0]})"
            )
        return reasons


async def read_beyond(
    tally: PageTally, fetch_page: FetchPage, probed: Page, page_size: int
) -> None:
    """Reads on past the rows planned while pages bring events not read before.

    ``count`` is unverified (docs/calendar-contract.md, "Paging and drift"): one that leaves some
    rows out (cancelled events, a cached figure) would hide the last rows from every run, and the
    sweep would delete those live events. So one page past them is fetched with the others, the
    pages after it are read while they bring new events, and the drift checks flag a run that found
    more events than ``count``. A page of rows read before (a server that answers an offset past its
    end with its last page) ends the reading and is not a finding.
    """
    page = probed
    known: set[object] | None = None
    while page.rows and tally.page_count < paging.MAX_PAGES:
        if tally.streaming:
            new = page.fresh  # ids delivered first by this page
        else:
            if known is None:
                known = {id_key(raw_id(e)) for p in tally.pages if p is not page for e in p.events}
            keys = {id_key(raw_id(e)) for e in page.events} - {None}
            new = len(keys - known)
            known |= keys
        if not new:
            return
        page = await fetch_page(page.start_row + page.rows, page_size)


def _start_row(page: Page) -> int:
    return page.start_row
