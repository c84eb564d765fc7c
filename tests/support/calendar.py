"""Calendar client settings the tiers share. Imported as ``support.calendar``."""

from __future__ import annotations

from villages_sync.settings import CalendarSettings


def fast_settings(base_url: str, **overrides: float) -> CalendarSettings:
    """Small back-off so failure paths take milliseconds, not seconds."""
    values: dict = {
        "base_url": base_url,
        "page_size": 100,
        "max_concurrency": 4,
        "max_attempts": 3,
        "timeout_seconds": 2.0,
        "backoff_base_seconds": 0.001,
        "backoff_max_seconds": 0.01,
    }
    values.update(overrides)
    return CalendarSettings(**values)


def add_early_events(events: list[dict]) -> list[dict]:
    """A mutation: 10 events added before every other (later pages repeat rows fetched)."""
    first_start = events[0]["start"]["date"]
    extra = [
        {**e, "id": 9_000_000 + n, "start": {"date": first_start, "type": "time"}}
        for n, e in enumerate(events[:10])
    ]
    return extra + events
