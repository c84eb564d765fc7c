"""The skill's read rules, pure: what a listener may hear about a day."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def visible_events(
    items: Iterable[Mapping[str, Any]], *, now: float, venue: str | None = None
) -> list[dict[str, Any]]:
    """Hide cancelled events and items past their ttl; keep time order; filter by venue text."""
    wanted = venue.casefold().strip() if venue else ""
    shown = [
        dict(item)
        for item in items
        if not item.get("cancelled")
        and int(item.get("ttl", 0)) > now
        and (not wanted or wanted in str(item.get("location", "")).casefold())
    ]
    return sorted(shown, key=lambda item: (not item.get("all_day"), item.get("start_time", "")))
