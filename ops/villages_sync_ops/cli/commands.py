"""The commands behind ``villages-sync``: each parses nothing, prints, and returns an exit code."""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from datetime import datetime
from zoneinfo import ZoneInfo

from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync.visible_events import visible_events

from villages_sync_ops.aws.dlq import replay_dlq as replay_queue
from villages_sync_ops.aws.queue_depth import queue_depths
from villages_sync_ops.cli.dates import parse_days
from villages_sync_ops.cli.errors import CommandError, UsageError, state_dir
from villages_sync_ops.cli.local_sweeps import run_local_sweeps
from villages_sync_ops.cli.output import print_json, print_line, print_table
from villages_sync_ops.cli.run_display import display_status
from villages_sync_ops.cli.summaries import EXIT_FAILED, EXIT_OK, run_as_dict
from villages_sync_ops.cli.tables import events_table, queue_table, runs_table
from villages_sync_ops.cli.target_access import guarded, impatient_sqs, open_target
from villages_sync_ops.cli.targets import DLQ_SOURCES
from villages_sync_ops.local import emulator as shared_emulator

LOCAL_TZ = ZoneInfo(DEFAULT_TIMEZONE)
# The names cli/sweep_accept.py reaches through this module; new code imports them from
# cli/errors.py, cli/target_access.py and cli/local_sweeps.py, which sit below every command.
_target, _guarded = open_target, guarded
__all__ = ["CommandError", "UsageError", "run_local_sweeps"]


# -- sync and demo ------------------------------------------------------------------------------
def sync(args: argparse.Namespace) -> int:
    from villages_sync_ops.cli.sync_command import sync as run_sync

    return guarded(lambda: run_sync(args))


def demo(args: argparse.Namespace) -> int:
    from villages_sync_ops.cli.demo import run_demo

    return run_demo(events=args.events, seed=args.seed, as_json=args.json, dynamodb=args.dynamodb)


# -- operations ---------------------------------------------------------------------------------
def status(args: argparse.Namespace) -> int:
    target = open_target(args, create=False)
    if getattr(args, "watch", False):
        from villages_sync_ops.cli.monitor import watch

        return watch(target, runs=args.runs, interval=args.interval)
    depths = guarded(
        lambda: queue_depths(target.clients.sqs, target.queue_urls, dlq_names=target.dlq_names)
    )
    runs = guarded(lambda: target.runs.recent_runs(args.runs))
    events_in_queue = sum(d.visible + d.in_flight for d in depths if d.name == "EventsQueue")
    now = time.time()
    if args.json:
        print_json(
            {
                "target": target.description,
                "queues": [
                    {
                        "name": d.name,
                        "visible": d.visible,
                        "in_flight": d.in_flight,
                        "delayed": d.delayed,
                        "is_dlq": d.is_dlq,
                    }
                    for d in depths
                ],
                "runs": [
                    {
                        **run_as_dict(run),
                        "display_status": display_status(
                            run, now=now, events_in_queue=events_in_queue
                        ),
                    }
                    for run in runs
                ],
            }
        )
        return EXIT_OK
    print_line(f"Target: {target.description}")
    print_table(queue_table(depths))
    if not runs:
        print_line("No runs yet.")
        return EXIT_OK
    print_table(runs_table(runs, now=now, events_in_queue=events_in_queue))
    for run in runs:
        if run.error or run.sweep_reason:
            print_line(f"{run.run_id}: {run.error or run.sweep_reason}")
    return EXIT_OK


def events(args: argparse.Namespace) -> int:
    days = parse_days(args.date, today=datetime.now(LOCAL_TZ).date())
    target = open_target(args, create=False)
    now = time.time()
    by_day = [
        (day, visible_events(guarded(lambda day=day: target.events.events_on(day)), now=now,
                             venue=args.venue))
        for day in days
    ]  # fmt: skip
    shown = [item for _, items in by_day for item in items]
    if args.json:
        print_json(
            {
                "date": days[0].isoformat(),
                "dates": [day.isoformat() for day in days],
                "count": len(shown),
                "events": shown,
            }
        )
        return EXIT_OK
    venue = f" at venues matching {args.venue!r}" if args.venue else ""
    for day, items in by_day:
        print_line(f"{day:%A %d %B %Y}{venue}: {len(items)} event(s)")
        if items:
            print_table(events_table(items))
    return EXIT_OK


def changes(args: argparse.Namespace) -> int:
    from villages_sync_ops.cli.changes import changes_command

    return changes_command(args, local_tz=LOCAL_TZ)


def runs(args: argparse.Namespace) -> int:
    from villages_sync_ops.cli.monitor import runs_command

    target = open_target(args, create=False)
    return guarded(lambda: runs_command(args, target))


def logs(args: argparse.Namespace) -> int:
    from villages_sync_ops.cli.logs_command import logs_command

    return guarded(lambda: logs_command(args))


def replay_dlq(args: argparse.Namespace) -> int:
    target = open_target(args, create=False)
    if args.queue == "all":  # a stack deployed before the reminders has no RemindersDLQ
        wanted = [dlq for dlq in DLQ_SOURCES if dlq in target.queue_urls]
    else:
        wanted = [
            {"events": "EventsDLQ", "sweep": "SweepDLQ", "reminders": "RemindersDLQ"}[args.queue]
        ]
    sqs = impatient_sqs(target.clients.sqs)
    if args.show:
        from villages_sync_ops.cli.monitor import show_dead_letters

        return guarded(
            lambda: show_dead_letters(sqs, target, wanted, limit=args.max or 10, as_json=args.json)
        )
    reports = []
    for dlq in wanted:
        if dlq not in target.queue_urls or DLQ_SOURCES[dlq] not in target.queue_urls:
            raise CommandError(f"{target.description} has no {dlq} and source queue")
        report = guarded(
            lambda dlq=dlq: replay_queue(
                sqs,
                dlq_url=target.queue_urls[dlq],
                source_url=target.queue_urls[DLQ_SOURCES[dlq]],
                dry_run=args.dry_run,
                max_messages=args.max,
            )
        )
        reports.append((dlq, report))
    if args.json:
        print_json([{"dlq": dlq, **asdict(r)} for dlq, r in reports])
    else:
        for dlq, r in reports:
            verb = "would move" if r.dry_run else "moved"
            print(
                f"{dlq} -> {DLQ_SOURCES[dlq]}: {verb} {r.moved}, failed {r.failed}, "
                f"left in DLQ {r.remaining_in_dlq} ({r.method})"
            )
    return EXIT_FAILED if any(r.failed for _, r in reports) else EXIT_OK


def emulator(args: argparse.Namespace) -> int:
    home = state_dir(create=args.action == "start")
    if args.action == "start":
        try:
            endpoint = shared_emulator.ensure_shared_emulator(home, dynamodb=args.dynamodb)
        except (RuntimeError, OSError) as error:
            raise CommandError(str(error)) from error
        print(f"emulator running at {endpoint} (state in its memory; `emulator stop` ends it)")
        print(f"  export AWS_ENDPOINT_URL={endpoint}  # to use it from the AWS CLI or boto3")
        found = shared_emulator.shared_emulator_status(home)
        if found and found.dynamodb == "local":
            print(f"DynamoDB Local at {found.dynamodb_url} serves DynamoDB (moto serves SQS)")
            print(f"  export AWS_ENDPOINT_URL_DYNAMODB={found.dynamodb_url}")
    elif args.action == "stop":
        stopped = shared_emulator.stop_shared_emulator(home)
        print("emulator stopped: its data is gone" if stopped else "no emulator was running")
    else:
        found = shared_emulator.shared_emulator_status(home)
        if not found:
            print("no emulator running (the next command that needs one starts it)")
            return EXIT_FAILED
        print(f"emulator running at {found.endpoint_url} (pid {found.pid})")
        if found.dynamodb == "local":
            print(f"DynamoDB Local at {found.dynamodb_url} (pid {found.dynamodb_pid})")
    return EXIT_OK


def calendar(args: argparse.Namespace) -> int:
    from villages_sync_ops.standin.fault_options import faults_from
    from villages_sync_ops.standin.server import serve

    faults = faults_from(args.fault)
    try:
        serve(port=args.port, count=args.events, seed=args.seed, faults=faults)
    except OSError as error:
        raise CommandError(
            f"cannot listen on 127.0.0.1:{args.port} ({error.strerror or error}); "
            "choose another port with --port"
        ) from None
    return EXIT_OK
