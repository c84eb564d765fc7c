"""Watching and investigating: ``status --watch``, ``runs``, ``replay-dlq --show`` (``logs``: in
``logs_command``).

Every command here only reads (a dead letter shown is handed back to its queue at once).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rich.console import Group
from rich.live import Live
from rich.text import Text
from villages_sync.aws.run_views import load_run_view
from villages_sync.aws.runs_table import RunNotFoundError
from villages_sync.messages import MessageFormatError, decode_message
from villages_sync.models import RunStatus

from villages_sync_ops.aws.queue_depth import queue_depths
from villages_sync_ops.cli.errors import CommandError
from villages_sync_ops.cli.interrupts import Stopped
from villages_sync_ops.cli.output import print_json, print_line, print_table, stdout_console, table
from villages_sync_ops.cli.run_display import display_status, run_fields, stage_seconds
from villages_sync_ops.cli.run_refs import resolve_run_id
from villages_sync_ops.cli.summaries import EXIT_OK
from villages_sync_ops.cli.tables import queue_table, runs_table
from villages_sync_ops.cli.targets import DLQ_SOURCES, Target
from villages_sync_ops.run_diff import diff_runs

EXIT_WATCH_STOPPED = 0  # Ctrl-C is how a watch ends: not a failure


# -- status --watch ----------------------------------------------------------------------------
def watch(target: Target, *, runs: int, interval: float) -> int:
    console = stdout_console()

    def frame() -> Group:
        depths = queue_depths(target.clients.sqs, target.queue_urls, dlq_names=target.dlq_names)
        oldest = _oldest_dead_letter_ages(target)
        recent = target.runs.recent_runs(runs)
        now = time.time()
        in_queue = sum(d.visible + d.in_flight for d in depths if d.name == "EventsQueue")
        stamp = datetime.now(UTC).strftime("%H:%M:%S UTC")
        parts: list[Any] = [Text(f"{target.description}  {stamp}  (Ctrl-C stops)")]
        parts.append(queue_table(depths))
        if oldest:
            ages = ", ".join(f"{name} {_age(seconds)}" for name, seconds in oldest.items())
            parts.append(Text(f"oldest dead letter: {ages}"))
        current = recent[0] if recent else None
        if current is not None and current.status in (RunStatus.SCRAPING, RunStatus.ENQUEUED):
            parts.append(Text(_progress_line(current, now, in_queue)))
        if recent:
            parts.append(runs_table(recent, now=now, events_in_queue=in_queue))
        else:
            parts.append(Text("No runs yet."))
        return Group(*parts)

    try:
        if not console.is_terminal:
            # Piped or logged: each frame as plain lines, one after another (a live display
            # would print nothing until it stopped).
            while True:
                console.print(frame())
                console.file.flush()
                time.sleep(interval)  # the refresh period the user asked for
        with Live(frame(), console=console, auto_refresh=False, transient=False) as live:
            while True:
                time.sleep(interval)  # the refresh period the user asked for
                live.update(frame(), refresh=True)
    except Stopped:
        raise  # SIGTERM, SIGHUP or a closed pipe: 128 + the signal, as for any command
    except KeyboardInterrupt:
        return EXIT_WATCH_STOPPED


def _progress_line(run: Any, now: float, in_queue: int) -> str:
    shown = display_status(run, now=now, events_in_queue=in_queue)
    elapsed = _age(now - run.started_at)
    if run.status is RunStatus.SCRAPING:
        return f"current run {run.run_id}: {shown}, {elapsed}"
    done = len(run.done_sequences)
    return f"current run {run.run_id}: {shown}, {done}/{run.message_count} messages, {elapsed}"


def _oldest_dead_letter_ages(target: Target) -> dict[str, float]:
    """Age of the oldest message of each DLQ with messages, from SentTimestamp. Peeking
    (receive, then visible again at once) is harmless on a DLQ, which redrives nowhere; the
    source queues are never peeked, as a receive there counts towards their maxReceiveCount."""
    ages = {}
    now = time.time()
    for name in sorted(target.dlq_names):
        letters = _peek(target.clients.sqs, target.queue_urls[name], 10)
        if letters:
            sent = min(int(m["Attributes"]["SentTimestamp"]) for m in letters) / 1000
            ages[name] = now - sent
    return ages


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


# -- runs --------------------------------------------------------------------------------------
def runs_command(args: argparse.Namespace, target: Target) -> int:
    action = args.action or "list"
    if action == "list":
        recent = target.runs.recent_runs(args.runs)
        in_queue = _events_in_queue(target)
        if args.json:
            print_json([run_fields(r) for r in recent])
        elif not recent:
            print_line("No runs yet.")
        else:
            print_table(runs_table(recent, now=time.time(), events_in_queue=in_queue))
        return EXIT_OK
    references = _one(args, 2 if action == "diff" else 1)
    named = [resolve_run_id(target.runs, reference) for reference in references]
    if action == "show":
        return _show_run(target, named[0], as_json=args.json)
    if action == "capture":
        from villages_sync_ops.cli.run_capture import capture_command

        return capture_command(args, target, _get_run(target, named[0]))
    return _diff(target, *named, as_json=args.json)


def _one(args: argparse.Namespace, count: int) -> list[str]:
    if len(args.run_ids) != count:
        from villages_sync_ops.cli.errors import UsageError

        raise UsageError(f"runs {args.action} takes {count} run id(s), got {len(args.run_ids)}")
    return list(args.run_ids)


def _get_run(target: Target, run_id: str) -> Any:
    try:
        return target.runs.get(run_id)
    except RunNotFoundError:
        raise CommandError(
            f"no run {run_id} in {target.runs_table} (see `villages-sync runs`)"
        ) from None


def _show_run(target: Target, run_id: str, *, as_json: bool) -> int:
    run = _get_run(target, run_id)
    fields = run_fields(run)  # the record's own fields: no display-only ones
    fields["stage_seconds"] = stage_seconds(run)  # derived from its timestamps
    if as_json:
        print_json(fields)
        return EXIT_OK
    grid = table(("field", "value"), wrap=("value",))
    for name, value in fields.items():
        if name in ("started_at", "completed_at", "finished_at") and value:
            value = f"{datetime.fromtimestamp(int(value), UTC):%Y-%m-%d %H:%M:%S} UTC"
        if name == "stage_seconds":
            value = ", ".join(f"{stage} {seconds} s" for stage, seconds in value.items()) or "-"
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        grid.add_row(name, text)
    print_table(grid)
    return EXIT_OK


def _diff(target: Target, first: str, second: str, *, as_json: bool) -> int:
    views = []
    warnings = []
    for run_id in (first, second):
        run = _get_run(target, run_id)
        events, found = load_run_view(
            target.clients.dynamodb, target.runs_table, run_id, run.message_count
        )
        if run.status is not RunStatus.COMPLETED:
            warnings.append(
                f"run {run_id} is {run.status}, not completed: its view holds only what was "
                "consumed, so 'removed' here is not what the calendar removed"
            )
        if found < run.message_count:
            warnings.append(
                f"run {run_id} has {found} of {run.message_count} message views "
                "(unconsumed messages, or consumed before views were kept): partial diff"
            )
        views.append(events)
    for warning in warnings:  # on stderr: stdout stays the diff (JSON with --json)
        print(f"warning: {warning}", file=sys.stderr)
    diff = diff_runs(views[0], views[1])
    if as_json:
        print_json(
            {
                "from": first,
                "to": second,
                "warnings": warnings,
                "counts": diff.counts(),
                "added": diff.added,
                "removed": diff.removed,
                "rescheduled": [{"before": c.before, "after": c.after} for c in diff.rescheduled],
                "retitled": [{"before": c.before, "after": c.after} for c in diff.retitled],
            }
        )
        return EXIT_OK
    counts = ", ".join(f"{k} {v}" for k, v in diff.counts().items())
    print_line(f"{first} -> {second}: {counts}")
    grid = table(("change", "date", "time", "event", "venue", "id"), wrap=("event", "venue"))

    def row(change: str, event: Mapping[str, Any], title: str) -> None:
        grid.add_row(
            change,
            event["event_date"],
            _time_of(event),
            title,
            str(event.get("location", "")),
            str(event.get("event_id", "")),
        )

    for event in diff.added:
        row("added", event, event["title"])
    for event in diff.removed:
        row("removed", event, event["title"])
    for change in diff.rescheduled:
        was = f"{change.before['event_date']} {_time_of(change.before)}"
        row("rescheduled", change.after, f"{change.after['title']} (was {was})")
    for change in diff.retitled:
        row("retitled", change.after, f"{change.after['title']} (was {change.before['title']})")
    if grid.row_count:
        print_table(grid)
    return EXIT_OK


def _time_of(event: Mapping[str, Any]) -> str:
    """An event's start as the diff shows it: an all-day event's start_time is a placeholder."""
    return "all day" if event.get("all_day") else str(event.get("start_time", ""))


def _events_in_queue(target: Target) -> int:
    url = target.queue_urls.get("EventsQueue")
    if not url:
        return 0
    depth = queue_depths(target.clients.sqs, {"EventsQueue": url})[0]
    return depth.visible + depth.in_flight


# -- replay-dlq --show -------------------------------------------------------------------------
def show_dead_letters(
    sqs: Any, target: Target, queues: list[str], *, limit: int, as_json: bool = False
) -> int:
    shown: list[dict[str, Any]] = []
    for name in queues:
        if name not in target.queue_urls:
            raise CommandError(f"{target.description} has no {name}")
        letters = _peek(sqs, target.queue_urls[name], limit)
        if as_json:
            shown.extend(_dead_letter_fields(name, letter) for letter in letters)
            continue
        print_line(f"{name} -> {DLQ_SOURCES[name]}: showing {len(letters)} (nothing moved)")
        for letter in letters:
            attributes = letter.get("Attributes", {})
            sent = datetime.fromtimestamp(int(attributes.get("SentTimestamp", 0)) / 1000, UTC)
            receives = attributes.get("ApproximateReceiveCount", "?")
            print_line(
                f"- {letter['MessageId']} sent {sent:%Y-%m-%d %H:%M} UTC, {receives} receives"
            )
            print_line(f"  {describe_body(letter['Body'])}")
    if as_json:
        print_json(shown)
    return EXIT_OK


def _dead_letter_fields(queue: str, letter: dict[str, Any]) -> dict[str, Any]:
    attributes = letter.get("Attributes", {})
    fields: dict[str, Any] = {
        "queue": queue,
        "source_queue": DLQ_SOURCES[queue],
        "message_id": letter["MessageId"],
        "sent_at": int(attributes.get("SentTimestamp", 0)) / 1000,
        "receives": int(attributes.get("ApproximateReceiveCount", 0)),
        "body": letter["Body"],
    }
    try:
        message = decode_message(letter["Body"])
    except MessageFormatError as error:
        fields["problem"] = str(error)
    else:
        fields["run_id"], fields["sequence"] = message.run_id, message.sequence
        fields["events"] = len(message.events)
    return fields


def describe_body(body: str, width: int = 200) -> str:
    """A dead letter in words: an events message decoded, otherwise the raw body, truncated."""
    try:
        message = decode_message(body)
    except MessageFormatError as error:
        text = f"not a valid events message ({error}): {body!r}"
        return text if len(text) <= width else text[: width - 3] + "..."
    titles = "; ".join(e["title"] for e in message.events[:3])
    more = f" (+{len(message.events) - 3} more)" if len(message.events) > 3 else ""
    count = len(message.events)
    text = f"run {message.run_id} message {message.sequence}: {count} events: {titles}{more}"
    return text if len(text) <= width else text[: width - 3] + "..."


def _peek(sqs: Any, url: str, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` messages, then all made visible again: nothing is moved or deleted."""
    seen: dict[str, dict[str, Any]] = {}
    try:
        while len(seen) < limit:
            batch = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, limit - len(seen)),
                AttributeNames=["All"],
                VisibilityTimeout=30,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                seen.setdefault(message["MessageId"], message)
    finally:
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(seen.values())
        ]
        for start in range(0, len(entries), 10):
            sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries[start : start + 10])
    return list(seen.values())
