"""``villages-sync sync``: one real run, locally, that is safe to interrupt.

Before anything is created, every function's settings are checked as the function would parse
them (exit 2 naming the variable). One sync at a time per state directory and environment (a
lock). Ctrl-C, SIGTERM, SIGHUP or a closed pipe stops the run where it is: the run is marked
failed ("interrupted"), so it is never swept; the messages a consumer batch held are made visible
again at once, so the next sync consumes them instead of waiting out their visibility timeout;
exit 128 + the signal (130 Ctrl-C, 143 SIGTERM, 141 a closed pipe: cli/interrupts.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from villages_sync_ops.cli.errors import CommandError, UsageError, state_dir
from villages_sync_ops.cli.function_logs import FunctionLogWriter, run_logs_dir
from villages_sync_ops.cli.interrupts import exit_code, reader_gone, stop_reason
from villages_sync_ops.cli.local_alexa import local_alexa
from villages_sync_ops.cli.next_steps import next_step
from villages_sync_ops.cli.output import ProgressPrinter, print_json, print_line
from villages_sync_ops.cli.run_lock import LockHeldError, sync_lock
from villages_sync_ops.cli.skill import ALEXA_FILE
from villages_sync_ops.cli.summaries import deletions_text, sync_as_dict, sync_exit_code, sync_text
from villages_sync_ops.cli.targets import local_endpoints
from villages_sync_ops.local.function_settings import (
    EnvVarsFile,
    SettingsProblem,
    check_settings,
    describe_overrides,
    function_overrides,
    known_settings,
    load_env_vars_file,
    offline_functions,
    parse_parameter_overrides,
    shell_settings,
)
from villages_sync_ops.local.intrinsics import TemplateError
from villages_sync_ops.local.pipeline import (
    LocalPipeline,
    SyncInterrupted,
    SyncOptions,
    deploy_locally,
)
from villages_sync_ops.local.template import DEFAULT_REGION, load_template


def sync(args: argparse.Namespace) -> int:
    progress = ProgressPrinter(quiet=args.json or args.quiet)
    region = args.region or DEFAULT_REGION
    parameters, overrides = _settings(args, region)
    home = state_dir(create=True)
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(sync_lock(home, args.env))
        except LockHeldError as error:
            raise CommandError(str(error)) from None
        return _run(args, progress, parameters, overrides, home, region)


def _run(
    args: argparse.Namespace,
    progress: ProgressPrinter,
    parameters: dict[str, str],
    overrides: dict[str, dict[str, str]],
    home: Path,
    region: str,
) -> int:
    endpoints = local_endpoints(args.endpoint_url, args.dynamodb_endpoint_url)
    progress("setup", f"tables and queues of {args.env!r} in {endpoints}")
    for line in describe_overrides(overrides):
        progress("settings", line)
    deployment = deploy_locally(
        endpoints.sqs,
        dynamodb_endpoint_url=endpoints.dynamodb,
        region=region,
        parameters=parameters,
    )
    log = FunctionLogWriter(run_logs_dir(home), on_record=lambda r: _show_retry(progress, r))
    try:
        # RemindersFunction follows the change feed against the stand-in Alexa that `skill ask`
        # and `reminders` use (cli/local_alexa.py); its messages reach the skill after the run.
        with local_alexa(deployment, function_log=log, state_file=home / ALEXA_FILE) as alexa:
            options = SyncOptions(function_log=log, function_env=alexa.function_env(overrides))
            pipeline = LocalPipeline(deployment, options, progress)
            try:
                report = pipeline.run_sync()  # SIGTERM/SIGHUP raise an interrupt (main.py)
            except SyncInterrupted as interrupted:
                with _ignoring_interrupts():
                    progress.done()
                    return _after_interrupt(pipeline, interrupted, log, args.json)
    finally:
        log.close()
    progress.done()
    if alexa.undelivered:
        print(
            f"villages-sync sync: the skill failed {alexa.undelivered} reminder message(s) "
            f"from the stand-in Alexa (see {log.path})",
            file=sys.stderr,
        )
    if args.json:
        step = next_step(report, env=args.env, calendar_base_url=args.calendar_base_url)
        print_json(
            {**sync_as_dict(report), "log": str(log.path), "settings": overrides, "next": step}
        )
    else:
        for line in sync_text(report).splitlines():
            print_line(line)  # folded to the terminal's width (a long error line included)
        if report.run_id:
            print_line(f"  logs        villages-sync logs --run {report.run_id}")
        step = next_step(report, env=args.env, calendar_base_url=args.calendar_base_url)
        if step:
            print_line(f"  next        {step}")
    return sync_exit_code(report)


def _settings(
    args: argparse.Namespace, region: str
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Template parameters and per-function overrides, every value checked (UsageError)."""
    try:
        parameters = parse_parameter_overrides(args.parameter_overrides or [])
        overridden = parameters.get("Environment", args.env)
        if overridden != args.env:
            # Checked against the template first (exit 2 naming it), then: --env names the
            # state, the lock and the tables, so it is the one way to choose the environment.
            try:
                offline_functions(load_template(), {**parameters}, region)
            except TemplateError as error:
                raise SettingsProblem(f"{error} (see template.yaml's Parameters)") from None
            raise SettingsProblem(
                f"--parameter-overrides Environment={overridden} differs from --env {args.env}: "
                f"choose the environment with --env {overridden}"
            )
        parameters["Environment"] = args.env
        if args.days_ahead is not None:
            parameters["DaysAhead"] = str(args.days_ahead)
        if args.calendar_base_url is not None:
            parameters["CalendarBaseUrl"] = args.calendar_base_url
        try:
            functions = offline_functions(load_template(), parameters, region)
        except TemplateError as error:
            raise SettingsProblem(f"{error} (see template.yaml's Parameters)") from None
        known = known_settings(functions)
        env_vars = (
            load_env_vars_file(Path(args.env_vars), list(functions))
            if args.env_vars
            else EnvVarsFile()
        )
        overrides = function_overrides(
            known, shell=shell_settings(os.environ, known), env_vars=env_vars
        )
        check_settings(functions, overrides)
    except SettingsProblem as problem:
        raise UsageError(str(problem)) from None
    return parameters, overrides


def _after_interrupt(
    pipeline: LocalPipeline, interrupted: SyncInterrupted, log: FunctionLogWriter, as_json: bool
) -> int:
    why = stop_reason(interrupted.stop)
    outcome = pipeline.interrupt(interrupted.run_id, f"{why} during the {interrupted.stage}")
    run = outcome.run
    code = exit_code(interrupted.stop)
    # The summary goes where someone still reads: stdout, else stderr, else nowhere.
    out = sys.stderr if reader_gone(sys.stdout) and not reader_gone(sys.stderr) else sys.stdout
    if as_json:
        print_json(
            {
                "interrupted": True,
                "stopped_by": why,
                "stage": interrupted.stage,
                "run_id": outcome.run_id,
                "marked_failed": outcome.marked_failed,
                "messages_left": outcome.messages_left,
                "deleted": run.deleted_count if run else 0,
                "missed": run.missed_count if run else 0,
                "sweep": str(run.sweep_outcome) if run and run.sweep_outcome else None,
                "exit_code": code,
            }
        )
        return code
    lines = []
    if outcome.run_id is None:
        stage = interrupted.stage
        lines.append(f"Interrupted during the {stage} ({why}), before a run was recorded.")
    else:
        status = str(run.status) if run else "unknown"
        done = f"{len(run.done_sequences)}/{run.message_count}" if run else "?"
        lines.append(f"Run {outcome.run_id}: interrupted during the {interrupted.stage} ({why})")
        lines.append(
            f"  status      {status}"
            + (" (marked failed: never swept)" if outcome.marked_failed else "")
        )
        lines.append(f"  messages    {done} consumed")
    lines.append(f"  left        {outcome.messages_left} message(s) on EventsQueue, visible now;")
    unapplied = run.message_count - len(run.done_sequences) if run else outcome.messages_left
    if outcome.messages_left > unapplied >= 0:
        # More than this run's unapplied messages: a batch cut short before its deletes put
        # applied ones back, or an earlier run left some. Say so, so the figures agree.
        lines.append(
            f"              ({unapplied} of this run's not yet applied; the other "
            f"{outcome.messages_left - unapplied} were applied by a batch cut short before "
            "its deletes, or left by an earlier run)"
        )
    lines.append("              the next sync consumes them (they are idempotent)")
    lines.append(f"  deletions   {deletions_text(run)}")
    lines.append("  next        villages-sync sync (or villages-sync status to look first)")
    for line in lines:
        print(line, file=out)
    return code


def _show_retry(progress: ProgressPrinter, record: dict[str, Any]) -> None:
    if "attempt" in record and "delay_seconds" in record:
        progress.retry(record["attempt"], record["delay_seconds"], str(record.get("problem", "")))


@contextlib.contextmanager
def _ignoring_interrupts() -> Iterator[None]:
    """A second Ctrl-C must not cut short the bookkeeping of the first (a few local calls)."""
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in stops}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
