"""The commands behind ``villages-sync``: each parses nothing, prints, and returns an exit code."""

from __future__ import annotations

import argparse
import contextlib
import time
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from villages_sync.aws.dlq import replay_dlq as replay_queue
from villages_sync.aws.queue_depth import queue_depths
from villages_sync.cli.output import ProgressPrinter, format_table, print_json
from villages_sync.cli.summaries import (
    EXIT_FAILED,
    EXIT_OK,
    run_as_dict,
    sync_as_dict,
    sync_exit_code,
    sync_text,
)
from villages_sync.cli.targets import (
    DLQ_SOURCES,
    Target,
    TargetError,
    local_endpoints,
    resolve_target,
)
from villages_sync.local import emulator as shared_emulator
from villages_sync.local.pipeline import LocalPipeline, SyncOptions, deploy_locally
from villages_sync.local.template import DEFAULT_REGION
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync.visible_events import visible_events

LOCAL_TZ = ZoneInfo(DEFAULT_TIMEZONE)


class CommandError(RuntimeError):
    """A failure the user can act on; printed as one line, exit code 1."""


# -- sync and demo ------------------------------------------------------------------------------
def sync(args: argparse.Namespace) -> int:
    progress = ProgressPrinter(quiet=args.json or args.quiet)
    endpoints = _guarded(lambda: local_endpoints(args.endpoint_url, args.dynamodb_endpoint_url))
    progress("setup", f"tables and queues from template.yaml in {endpoints}")
    deployment = _guarded(
        lambda: deploy_locally(
            endpoints.sqs,
            dynamodb_endpoint_url=endpoints.dynamodb,
            environment=args.env,
            region=args.region or DEFAULT_REGION,
        )
    )
    with _function_log() as (log, log_path):
        options = SyncOptions(
            calendar_base_url=args.calendar_base_url, days_ahead=args.days_ahead, function_log=log
        )
        report = LocalPipeline(deployment, options, progress).run_sync()
    progress.done()
    if args.json:
        print_json(sync_as_dict(report))
    else:
        print(sync_text(report))
        print(f"  logs        {log_path}")
    return sync_exit_code(report)


def run_local_sweeps(args: argparse.Namespace) -> None:
    """Drain the local queues (the sweep requests among them) through the local runtime."""
    endpoints = local_endpoints(args.endpoint_url, args.dynamodb_endpoint_url)
    deployment = deploy_locally(
        endpoints.sqs,
        dynamodb_endpoint_url=endpoints.dynamodb,
        environment=args.env,
        region=args.region or DEFAULT_REGION,
    )
    with _function_log() as (log, _path):
        LocalPipeline(deployment, SyncOptions(function_log=log)).drain_queues()


def demo(args: argparse.Namespace) -> int:
    from villages_sync.cli.demo import run_demo

    return run_demo(events=args.events, seed=args.seed, as_json=args.json, dynamodb=args.dynamodb)


# -- operations ---------------------------------------------------------------------------------
def status(args: argparse.Namespace) -> int:
    target = _target(args)
    depths = _guarded(
        lambda: queue_depths(target.clients.sqs, target.queue_urls, dlq_names=target.dlq_names)
    )
    runs = _guarded(lambda: target.runs.recent_runs(args.runs))
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
                "runs": [run_as_dict(run) for run in runs],
            }
        )
        return EXIT_OK
    print(f"Target: {target.description}\n")
    print(
        format_table(
            ("queue", "visible", "in flight", "delayed", ""),
            [(d.name, d.visible, d.in_flight, d.delayed, _dlq_note(d)) for d in depths],
        )
    )
    print()
    if not runs:
        print("No runs yet.")
        return EXIT_OK
    print(
        format_table(
            ("run", "started (UTC)", "status", "events", "messages", "sweep", "deleted"),
            [
                (
                    run.run_id,
                    datetime.fromtimestamp(run.started_at, UTC).strftime("%Y-%m-%d %H:%M"),
                    str(run.status) + (" (drift)" if run.drift else ""),
                    run.event_count,
                    f"{len(run.done_sequences)}/{run.message_count}",
                    str(run.sweep_outcome or "-"),
                    run.deleted_count,
                )
                for run in runs
            ],
        )
    )
    for run in runs:
        if run.error or run.sweep_reason:
            print(f"\n{run.run_id}: {run.error or run.sweep_reason}")
    return EXIT_OK


def events(args: argparse.Namespace) -> int:
    day = parse_day(args.date)
    target = _target(args)
    items = _guarded(lambda: target.events.events_on(day))
    shown = visible_events(items, now=time.time(), venue=args.venue)
    if args.json:
        print_json({"date": day.isoformat(), "count": len(shown), "events": shown})
        return EXIT_OK
    venue = f" at venues matching {args.venue!r}" if args.venue else ""
    print(f"{day:%A %d %B %Y}{venue}: {len(shown)} event(s)")
    for item in shown:
        when = "all day" if item.get("all_day") else item["start_time"]
        if item.get("end_time") and not item.get("all_day"):
            when += f"-{item['end_time']}"
        print(f"  {when:<11}  {item['title'][:60]:<60}  {item.get('location', '')}")
    return EXIT_OK


def replay_dlq(args: argparse.Namespace) -> int:
    target = _target(args)
    wanted = {"events": ["EventsDLQ"], "sweep": ["SweepDLQ"], "all": list(DLQ_SOURCES)}[args.queue]
    sqs = _impatient(target.clients.sqs)
    reports = []
    for dlq in wanted:
        if dlq not in target.queue_urls or DLQ_SOURCES[dlq] not in target.queue_urls:
            raise CommandError(f"{target.description} has no {dlq} and source queue")
        report = _guarded(
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
    state_dir = shared_emulator.default_state_dir()
    if args.action == "start":
        try:
            endpoint = shared_emulator.ensure_shared_emulator(state_dir, dynamodb=args.dynamodb)
        except (RuntimeError, OSError) as error:
            raise CommandError(str(error)) from error
        print(f"emulator running at {endpoint} (state in its memory; `emulator stop` ends it)")
        print(f"  export AWS_ENDPOINT_URL={endpoint}  # to use it from the AWS CLI or boto3")
        found = shared_emulator.shared_emulator_status(state_dir)
        if found and found.dynamodb == "local":
            print(f"DynamoDB Local at {found.dynamodb_url} serves DynamoDB (moto serves SQS)")
            print(f"  export AWS_ENDPOINT_URL_DYNAMODB={found.dynamodb_url}")
    elif args.action == "stop":
        stopped = shared_emulator.stop_shared_emulator(state_dir)
        print("emulator stopped: its data is gone" if stopped else "no emulator was running")
    else:
        found = shared_emulator.shared_emulator_status(state_dir)
        if not found:
            print("no emulator running (the next command that needs one starts it)")
            return EXIT_FAILED
        print(f"emulator running at {found.endpoint_url} (pid {found.pid})")
        if found.dynamodb == "local":
            print(f"DynamoDB Local at {found.dynamodb_url} (pid {found.dynamodb_pid})")
    return EXIT_OK


def calendar(args: argparse.Namespace) -> int:
    from villages_sync.standin.server import serve

    print(f"stand-in calendar on http://127.0.0.1:{args.port} ({args.events} events); Ctrl-C stops")
    serve(port=args.port, count=args.events, seed=args.seed)
    return EXIT_OK


# -- helpers ------------------------------------------------------------------------------------
def parse_day(text: str, *, today: date | None = None) -> date:
    today = today or datetime.now(LOCAL_TZ).date()
    lowered = text.strip().lower()
    if lowered == "today":
        return today
    if lowered == "tomorrow":
        return today + timedelta(days=1)
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"--date {text!r} is not today, tomorrow or YYYY-MM-DD") from None


def _target(args: argparse.Namespace) -> Target:
    try:
        return _guarded(
            lambda: resolve_target(
                endpoint_url=args.endpoint_url,
                dynamodb_endpoint_url=args.dynamodb_endpoint_url,
                stack=args.stack,
                environment=args.env,
                region=args.region,
            )
        )
    except TargetError as error:
        raise CommandError(str(error)) from error


def _guarded(call: Any) -> Any:
    """AWS errors become one clear line instead of a traceback."""
    try:
        return call()
    except (ClientError, BotoCoreError) as error:
        raise CommandError(str(error)) from error


def _impatient(sqs: Any) -> Any:
    """The same endpoint with two attempts per call: an emulator's "not implemented" answer to
    StartMessageMoveTask should fall back at once, not after the adaptive mode's back-off."""
    return boto3.client(
        "sqs",
        endpoint_url=sqs.meta.endpoint_url,
        region_name=sqs.meta.region_name,
        config=Config(retries={"total_max_attempts": 2, "mode": "standard"}),
    )


def _dlq_note(depth: Any) -> str:
    if depth.is_dlq and depth.visible:
        return "<- dead letters: see docs/operations.md, then replay-dlq"
    return ""


@contextlib.contextmanager
def _function_log() -> Any:
    log_dir = shared_emulator.default_state_dir() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    path: Path = log_dir / "functions.log"
    with path.open("a", encoding="utf-8") as log:
        stream: TextIO = log
        yield stream, path
