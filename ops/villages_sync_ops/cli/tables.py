"""The tables commands print (queues, runs, events): shared by ``status``, ``status --watch``,
``runs``, ``events`` and the demo, so they live below all of them."""

from __future__ import annotations

from typing import Any

from villages_sync_ops.cli.output import table
from villages_sync_ops.cli.run_display import display_status


def queue_table(depths: Any) -> Any:
    grid = table(
        ("queue", "visible", "in flight", "delayed", ""),
        numeric=("visible", "in flight", "delayed"),
        wrap=("",),
    )
    for d in depths:
        grid.add_row(d.name, str(d.visible), str(d.in_flight), str(d.delayed), _dlq_note(d))
    return grid


def runs_table(runs: Any, *, now: float, events_in_queue: int) -> Any:
    """Run ids carry their UTC start time, so no separate start column (80 columns)."""
    grid = table(
        ("run", "status", "events", "msgs", "sweep", "deleted"),
        numeric=("events", "msgs", "deleted"),
        wrap=("status",),
    )
    for run in runs:
        shown = display_status(run, now=now, events_in_queue=events_in_queue)
        grid.add_row(
            run.run_id,
            shown + (" (drift)" if run.drift else ""),
            str(run.event_count),
            f"{len(run.done_sequences)}/{run.message_count}",
            str(run.sweep_outcome or "-"),
            str(run.deleted_count),
        )
    return grid


def events_table(items: Any) -> Any:
    grid = table(("when", "title", "venue"))
    grid.columns[1].ratio, grid.columns[2].ratio = 3, 2
    for item in items:
        when = "all day" if item.get("all_day") else item["start_time"]
        if item.get("end_time") and not item.get("all_day"):
            when += f"-{item['end_time']}"
        grid.add_row(when, item["title"], item.get("location", ""))
    return grid


def _dlq_note(depth: Any) -> str:
    if depth.is_dlq and depth.visible:
        return "<- dead letters: replay-dlq --show"
    return ""
