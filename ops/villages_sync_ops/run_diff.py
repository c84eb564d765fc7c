"""What changed between two runs' views of the calendar. Pure: no I/O.

Events are matched by ``event_id``. An event in both runs can be both rescheduled (date or
start time changed) and retitled; other field changes are not reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EventView = Mapping[str, Any]  # event_id, event_date, start_time, title, location, all_day


@dataclass(frozen=True, slots=True)
class Change:
    event_id: str
    before: EventView
    after: EventView


@dataclass(slots=True)
class RunDiff:
    added: list[EventView] = field(default_factory=list)
    removed: list[EventView] = field(default_factory=list)
    rescheduled: list[Change] = field(default_factory=list)
    retitled: list[Change] = field(default_factory=list)
    unchanged: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "rescheduled": len(self.rescheduled),
            "retitled": len(self.retitled),
            "unchanged": self.unchanged,
        }


def _when(event: EventView) -> tuple[str, str]:
    return event.get("event_date", ""), event.get("start_time", "")


def diff_runs(before: Mapping[str, EventView], after: Mapping[str, EventView]) -> RunDiff:
    """``before`` and ``after``: each run's events by id."""
    diff = RunDiff()
    order = sorted(set(before) | set(after), key=lambda i: (_when(after.get(i) or before[i]), i))
    for event_id in order:
        old, new = before.get(event_id), after.get(event_id)
        if old is None and new is not None:
            diff.added.append(new)
        elif new is None and old is not None:
            diff.removed.append(old)
        elif old is not None and new is not None:
            changed = False
            if _when(old) != _when(new):
                diff.rescheduled.append(Change(event_id, old, new))
                changed = True
            if old.get("title", "") != new.get("title", ""):
                diff.retitled.append(Change(event_id, old, new))
                changed = True
            diff.unchanged += not changed
    return diff
