"""The paging plan: which rows each request asks for, so that consecutive requests share a
row (the shift check) and a broken ``count`` cannot make the scrape hammer the site."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from villages_sync.calendar_api.pages import Page

# A count needing more pages than this is a broken answer, not a calendar: refuse to hammer.
MAX_PAGES = 5000

# ``fetch_page(start_row, rows)``: one events page, fetched and noted.
FetchPage = Callable[[int, int], Awaitable[Page]]


def page_budget_problem(count: int, page_length: int) -> str | None:
    """Why a ``count`` at this page length is a broken answer, or None when it is plausible."""
    if page_length and count / page_length > MAX_PAGES:
        return f"count {count} at {page_length} rows a page needs more than {MAX_PAGES} pages"
    return None


def span_starts(count: int, page_length: int) -> range:
    """The first row of each span after the first page. Consecutive spans share one row: if
    rows shift between two fetches (an event added or removed before that offset), the shared
    row's two readings differ and the run is flagged, even when the additions and removals
    leave `count` unchanged. A span is needed while it holds a new row (its first row is the
    shared one)."""
    if page_length > 1:
        return range(page_length - 1, count - 1, page_length - 1)
    return range(1, count)


def spans(starts: range, count: int, page_length: int) -> Iterator[tuple[int, int]]:
    """Rows [start, stop) of each span, made as they are taken: a list of every span grew with
    the calendar (~120 bytes a page)."""
    return ((start, min(start + page_length, count)) for start in starts)


async def fetch_span(fetch_page: FetchPage, page_size: int, start: int, stop: int) -> None:
    """Rows [start, stop): a short page before ``stop`` is followed by a request for the gap,
    which starts at the short page's last row, so that the two share a row as spans do and
    the shift check sees rows that moved between them (a gap that shared none let an event
    removed before it hide a listed one from the run, with the count unchanged).

    A page cut to exactly one row is no different: the gap starts at that row again. Only when
    the page that re-read it held nothing else (the server now answers one row at a time) can
    no page share a row with the next, and the rest of the span is read a row a request."""
    position = start
    rereads = False  # this request starts at the row the page before ended on
    one_at_a_time = False  # a re-read came back alone: the server serves a row a request
    while position < stop:
        page = await fetch_page(position, min(page_size, stop - position))
        last_read = position + page.rows - 1
        if not page.rows or last_read >= stop - 1:
            return
        if page.rows > 1:
            one_at_a_time = False
        elif rereads:
            one_at_a_time = True
        rereads = not one_at_a_time
        position = last_read + 1 if one_at_a_time else last_read


async def take_spans(
    fetch_page: FetchPage, page_size: int, taken: Iterator[tuple[int, int]]
) -> None:
    for start, stop in taken:
        await fetch_span(fetch_page, page_size, start, stop)


def read_twice(offset: int, page: Page, span_step: int) -> bool:
    """Whether another page may read row ``offset`` too: a page's first and last rows, and
    the rows spans share (see ``span_starts``), which a page longer than asked may hold inside."""
    if offset in (page.start_row, page.start_row + page.rows - 1):
        return True
    return span_step <= 0 or (offset >= span_step and offset % span_step == 0)


async def all_or_none(coroutines: list[Any]) -> list[Any]:
    """Run concurrently, returning their results; on the first failure cancel the rest and
    raise that failure."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
