"""``villages-sync changes``: what the change feed published, from the changes table.

``--since WHEN``: a day (``today``, ``yesterday``, ``YYYY-MM-DD``: from its local midnight), a
moment (``YYYY-MM-DDTHH:MM``, local unless it names its offset), or a span back from now
(``90m``, ``24h``, ``7d``). The default is everything kept (30 days). ``--run RUN_ID``: only the
changes that run's writes caused (an id, a unique prefix, or ``latest``).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from villages_sync.aws.changes_table import KEEP_SECONDS, ChangesTable, RecordedChange
from villages_sync.changes import ChangeKind

from villages_sync_ops.cli.errors import CommandError, UsageError
from villages_sync_ops.cli.output import print_json, print_line, print_table, table
from villages_sync_ops.cli.run_refs import resolve_run_id
from villages_sync_ops.cli.target_access import guarded, open_target
from villages_sync_ops.cli.targets import Target

SINCE_GRAMMAR = "today, yesterday, YYYY-MM-DD, YYYY-MM-DDTHH:MM, or a span back: 90m, 24h, 7d"
_SPAN = re.compile(r"^(\d+)\s*([mhd])$")
_SPAN_SECONDS = {"m": 60, "h": 3600, "d": 86400}
_SHORT = {
    ChangeKind.ADDED: "added",
    ChangeKind.MOVED: "moved",
    ChangeKind.CANCELLED: "cancelled",
    ChangeKind.UPDATED: "updated",
    ChangeKind.REMOVED: "removed",
}


def parse_since(text: str, *, now: datetime) -> datetime:
    """The moment ``text`` names (aware, in ``now``'s zone); UsageError naming the grammar."""
    said = text.strip().lower()
    span = _SPAN.match(said)
    if span:
        return now - timedelta(seconds=int(span[1]) * _SPAN_SECONDS[span[2]])
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if said == "today":
        return midnight
    if said == "yesterday":
        return midnight - timedelta(days=1)
    try:
        day = date.fromisoformat(said)
    except ValueError:
        pass
    else:
        return datetime(day.year, day.month, day.day, tzinfo=now.tzinfo)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since {text!r}: not a time this command knows; say {SINCE_GRAMMAR}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def changes_command(args: argparse.Namespace, *, local_tz: Any) -> int:
    now = datetime.now(local_tz)
    kept = now - timedelta(seconds=KEEP_SECONDS)
    since = parse_since(args.since, now=now) if args.since else kept
    target = open_target(args, create=False)
    run_id = guarded(lambda: resolve_run_id(target.runs, args.run)) if args.run else None
    table_name = _changes_table_name(target)
    listed = guarded(
        lambda: list(
            ChangesTable(target.clients.dynamodb, table_name).since(
                int(since.timestamp()), run_id=run_id
            )
        )
    )
    if args.json:
        print_json(
            {
                "since": since.isoformat(),
                "run_id": run_id,
                "count": len(listed),
                "changes": [change_as_dict(change) for change in listed],
            }
        )
        return 0
    print_changes(listed, local_tz=local_tz, heading=_heading(since, run_id))
    return 0


def _changes_table_name(target: Target) -> str:
    if not target.changes_table:
        raise CommandError(
            f"{target.description} has no changes table (a stack deployed before the change "
            "feed: deploy it again)"
        )
    return target.changes_table


def _heading(since: datetime, run_id: str | None) -> str:
    where = f" caused by run {run_id}" if run_id else ""
    return f"changes since {since:%a %d %b %Y %H:%M}{where}"


def change_as_dict(change: RecordedChange) -> dict[str, Any]:
    return {
        "detail_type": str(change.kind),
        "changed_at": datetime.fromtimestamp(change.changed_at, UTC).isoformat(),
        **change.detail,
    }


def print_changes(
    changes: Sequence[RecordedChange], *, local_tz: Any, heading: str, limit: int | None = None
) -> None:
    """A count by kind, then one row a change (the first ``limit`` of them)."""
    counts = Counter(_SHORT[change.kind] for change in changes)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "none"
    print_line(f"{heading}: {len(changes)} ({summary})")
    shown = list(changes)[:limit] if limit is not None else list(changes)
    if not shown:
        return
    grid = table(["when", "change", "event", "title", "what"], wrap=["title", "what"])
    for change in shown:
        moment = datetime.fromtimestamp(change.changed_at, UTC).astimezone(local_tz)
        view = change.detail["after"] or change.detail["before"] or {}
        grid.add_row(
            f"{moment:%a %d %b %H:%M}",
            _SHORT[change.kind],
            change.detail["event_id"],
            str(view.get("title", "")),
            describe(change),
        )
    print_table(grid)
    if len(shown) < len(changes):
        print_line(f"  ... and {len(changes) - len(shown)} more (villages-sync changes)")


def describe(change: RecordedChange) -> str:
    """What a listener would be told, in a few words."""
    before, after = change.detail["before"], change.detail["after"]
    if after is None:
        return f"was {_when_where(before)}" if before else ""
    if before is None:
        return _when_where(after)
    if change.kind in (ChangeKind.MOVED, ChangeKind.CANCELLED) and (
        _when_where(before) != _when_where(after)
    ):
        return f"{_when_where(before)} -> {_when_where(after)}"
    fields = ", ".join(change.detail["changed"])
    return f"{fields} changed" if fields else ""


def _when_where(view: dict[str, Any]) -> str:
    day = date.fromisoformat(view["event_date"])
    at = "all day" if view.get("all_day") else view["start_time"]
    return f"{day:%a %d %b} {at}, {view.get('location') or 'no venue'}"
