"""``villages-sync logs``: a local run's function log (``--follow`` like ``tail -f``), or a deployed
stack's CloudWatch Logs. Only reads. Split from ``monitor`` (which watches runs and queues)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from typing import Any

from villages_sync_ops.cli.errors import CommandError, state_dir
from villages_sync_ops.cli.function_logs import (
    format_record,
    is_metrics_line,
    matches_function,
    read_records,
    run_logs_dir,
)
from villages_sync_ops.cli.interrupts import OutputClosed, Stopped, reader_gone
from villages_sync_ops.cli.run_refs import resolve_log_path
from villages_sync_ops.cli.summaries import EXIT_OK
from villages_sync_ops.cli.target_access import open_target

FOLLOW_POLL_SECONDS = 0.5


def logs_command(args: argparse.Namespace) -> int:
    if args.stack:
        return _cloudwatch_logs(args)
    home = state_dir(create=False)
    path = resolve_log_path(run_logs_dir(home), args.run)
    if path is None:
        which = f"run {args.run}" if args.run else "any run"
        raise CommandError(
            f"no local log for {which} in {home / 'logs' / 'runs'} "
            "(logs are kept per local sync; in AWS use --stack NAME)"
        )
    with path.open(encoding="utf-8") as handle:
        for record in read_records(_lines(handle, follow=args.follow)):
            if is_metrics_line(record) or not matches_function(record, args.function):
                continue
            print(
                json.dumps(record)
                if args.json
                else format_record(record, whole=not sys.stdout.isatty()),
                flush=True,
            )
    return EXIT_OK


def _lines(handle: Any, *, follow: bool) -> Iterator[str]:
    """The file's lines; with ``follow``, then new ones as they come, until Ctrl-C."""
    pending = ""
    while True:
        chunk = handle.readline()
        if chunk:
            pending += chunk
            if pending.endswith("\n"):
                yield pending
                pending = ""
            continue
        if not follow:
            if pending:
                yield pending
            return
        if reader_gone(sys.stdout):  # `logs --follow | head`: stop once head has gone
            raise OutputClosed
        try:
            time.sleep(FOLLOW_POLL_SECONDS)  # tail -f: wait for the writer
        except Stopped:
            raise
        except KeyboardInterrupt:
            return


def _cloudwatch_logs(args: argparse.Namespace) -> int:
    import boto3

    open_target(args, create=False)  # checks the stack and the region first
    cloudformation = boto3.client(
        "cloudformation", endpoint_url=args.endpoint_url, region_name=args.region
    )
    resources = cloudformation.describe_stack_resources(StackName=args.stack)["StackResources"]
    groups = [
        r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::Logs::LogGroup"
        and (not args.function or args.function.lower() in r["LogicalResourceId"].lower())
    ]
    logs = boto3.client("logs", endpoint_url=args.endpoint_url, region_name=args.region)
    start = int((time.time() - 24 * 3600) * 1000)
    while True:
        for group in groups:
            kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start}
            if args.run:
                kwargs["filterPattern"] = f'"{args.run}"'
            for page in logs.get_paginator("filter_log_events").paginate(**kwargs):
                for event in page.get("events", []):
                    start = max(start, event["timestamp"] + 1)
                    records = list(read_records(iter([event["message"]])))
                    if records and is_metrics_line(records[0]):
                        continue
                    line = (
                        format_record(records[0], whole=not sys.stdout.isatty())
                        if records
                        else event["message"].rstrip()
                    )
                    print(json.dumps(event) if args.json else line, flush=True)
        if not args.follow:
            return EXIT_OK
        if reader_gone(sys.stdout):
            raise OutputClosed
        try:
            time.sleep(5)  # CloudWatch Logs: a poll every few seconds is what `aws logs tail` does
        except Stopped:
            raise
        except KeyboardInterrupt:
            return EXIT_OK
