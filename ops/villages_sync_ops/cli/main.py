# PYTHON_ARGCOMPLETE_OK
"""``villages-sync``: run the pipeline locally, and operate it locally or in AWS.

Over 400 lines for a reason: it is the command line's whole grammar, one ``add_parser`` after
another with its help text, read top to bottom as the reference ``--help`` prints; what each
command does lives in ``commands`` and the modules it calls."""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import sys
import traceback
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn
from urllib.parse import urlsplit

from villages_sync_ops.cli import calendar_commands, commands
from villages_sync_ops.cli import skill as skill_commands
from villages_sync_ops.cli.function_logs import function_choice
from villages_sync_ops.cli.interrupts import (
    OutputClosed,
    close_stream,
    exit_code,
    terminations_as_interrupts,
)
from villages_sync_ops.cli.run_refs import run_reference
from villages_sync_ops.cli.summaries import EXIT_FAILED, EXIT_USAGE
from villages_sync_ops.local.emulator import DYNAMODB_BACKENDS
from villages_sync_ops.standin.fault_options import fault_help, parse_fault

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what `status | head` gets from any Unix tool

DESCRIPTION = """\
Keep a DynamoDB copy of The Villages community calendar.

Locally, every command shares one AWS emulator (a moto server on 127.0.0.1,
started on demand: see `villages-sync emulator --help`); `--endpoint-url` or
AWS_ENDPOINT_URL points elsewhere, and `--stack NAME` finds a deployed stack's
resources from its outputs.
"""

EPILOG = """\
examples:
  villages-sync demo                           the whole pipeline, offline
  villages-sync calendar serve --port 8080 &   a stand-in calendar on 127.0.0.1
  villages-sync sync --calendar-base-url http://127.0.0.1:8080
  villages-sync events --date today --venue "spanish springs"
  villages-sync changes --since 24h            what the calendar changed lately
  villages-sync status --watch                 queue depths and runs, live
  villages-sync runs show RUN_ID               one run's record
  villages-sync runs capture latest --out F    the raw pages that run was served
  villages-sync logs --run RUN_ID              that run's function logs
  villages-sync replay-dlq --show              read dead letters, move nothing
  villages-sync sweep accept RUN_ID --reason "calendar really halved"
  villages-sync skill ask --date tomorrow --venue brownwood \\
      --part-of-day evening

exit codes: 0 success; 1 the run or command failed (nothing was deleted);
2 bad arguments or settings; 3 the run completed but its sweep refused to
delete (see the reason it prints); 4 the run was degraded: too many events
failed validation, the valid ones were stored, nothing deleted; 130
interrupted (Ctrl-C or SIGTERM: the run is marked failed, nothing deleted).
"""


def _endpoint_url(text: str) -> str:
    """An http(s) URL with a host: botocore's own error for anything else is a traceback."""
    parsed = urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an http(s) URL with a host (e.g. http://127.0.0.1:4566)"
        )
    return text


def _environment_name(text: str) -> str:
    """--env, checked against the template's Environment parameter (AllowedPattern) at once,
    for every command: a name no stack could have is a usage error, not "no such table"."""
    from villages_sync_ops.local.template import load_template

    spec = load_template().get("Parameters", {}).get("Environment", {})
    pattern = spec.get("AllowedPattern")
    if pattern and not re.fullmatch(pattern, text):
        why = spec.get("ConstraintDescription", f"the pattern {pattern}")
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid Environment: {why}")
    return text


def _endpoint_variables_problem(environ: Mapping[str, str]) -> str | None:
    """AWS_ENDPOINT_URL and its per-service twins, checked as --endpoint-url is: botocore's own
    answer to 'notaurl' is a ValueError deep inside the first call."""
    if environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() == "true":
        return None
    for name in sorted(environ):
        if name == "AWS_ENDPOINT_URL" or name.startswith("AWS_ENDPOINT_URL_"):
            value = environ[name].strip()
            if not value:
                continue
            try:
                _endpoint_url(value)
            except argparse.ArgumentTypeError as error:
                return f"the environment variable {name}: {error} (unset it or fix it)"
    return None


def _fault(text: str) -> str:
    try:
        parse_fault(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not more than 0")
    return value


def _add_target_options(parser: argparse.ArgumentParser, *, stack: bool = True) -> None:
    parser.add_argument(
        "--endpoint-url",
        type=_endpoint_url,
        help="AWS endpoint (wins over AWS_ENDPOINT_URL); default: the shared local emulator",
    )
    parser.add_argument(
        "--dynamodb-endpoint-url",
        type=_endpoint_url,
        help="DynamoDB's own endpoint (wins over AWS_ENDPOINT_URL_DYNAMODB and --endpoint-url)",
    )
    parser.add_argument(
        "--env",
        default="local",
        type=_environment_name,
        help="the template's Environment parameter (default: local)",
    )
    parser.add_argument("--region", help="AWS region (default: the usual AWS configuration)")
    if stack:
        parser.add_argument(
            "--stack", help="a deployed CloudFormation stack: resources come from its outputs"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="villages-sync",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--debug", action="store_true", help="show Python tracebacks instead of one-line errors"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="run the whole pipeline offline over three simulated runs",
        description="Starts an embedded AWS emulator and a stand-in calendar (both on "
        "127.0.0.1) and syncs three times: the calendar changes after the first run (events "
        "added, updated, removed); the second run adds and updates and counts each removed "
        "event's first miss; the third deletes them (two clean runs in a row missed them). "
        "Then reads today's events back. Leaves nothing running.",
    )
    demo.add_argument(
        "--events", type=_positive_int, default=2000, help="calendar size (default 2000)"
    )
    demo.add_argument("--seed", type=int, default=2026, help="data set seed (default 2026)")
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    demo.add_argument(
        "--dynamodb",
        choices=DYNAMODB_BACKENDS,
        default="moto",
        help="DynamoDB from moto (default) or DynamoDB Local (AWS's own; `make dynamodb-local`)",
    )
    demo.set_defaults(handler=commands.demo)

    sync = sub.add_parser(
        "sync",
        help="one real run: producer, queue, consumer, sweep",
        description="Runs the Lambda handlers locally against an AWS endpoint, creating the "
        "template's tables and queues there when missing. Every function's settings are "
        "checked first (exit 2 naming the variable). Settings, lowest first: template.yaml "
        "with --parameter-overrides; shell variables that name a setting (DAYS_AHEAD=5); "
        "--env-vars FILE.json (SAM's format). One sync at a time per environment. Exit 0 "
        "when the run completed and swept, 1 when it failed, 2 bad arguments or settings, 3 "
        "when it completed but the sweep refused to delete, 130 when interrupted (the run is "
        "marked failed; nothing is deleted).",
    )
    _add_target_options(sync, stack=False)
    sync.add_argument(
        "--calendar-base-url",
        help="serve all three calendar URLs from this base (the CalendarBaseUrl parameter)",
    )
    sync.add_argument(
        "--days-ahead", type=int, help="window length in days (the DaysAhead parameter, 0-366)"
    )
    sync.add_argument(
        "--parameter-overrides",
        nargs="+",
        metavar="KEY=VALUE",
        help="template parameters, as `sam deploy` takes them (e.g. DaysAhead=7 LogLevel=DEBUG)",
    )
    sync.add_argument(
        "--env-vars",
        metavar="FILE.json",
        help='function variables, SAM\'s format: {"ProducerFunction": {"MAX_CONCURRENCY": "4"}, '
        '"Parameters": {"LOG_LEVEL": "DEBUG"}} (Parameters: every function that has it)',
    )
    sync.add_argument("--json", action="store_true", help="print the summary as JSON")
    sync.add_argument("--quiet", action="store_true", help="no progress lines")
    sync.set_defaults(handler=commands.sync)

    status = sub.add_parser(
        "status",
        help="queue depths (visible, in flight) and the last runs with their outcome",
        description="Reads only: never starts an emulator nor creates tables or queues. A run "
        "still scraping or enqueued 15 minutes after it started, with nothing left on the "
        "events queue, is shown as abandoned.",
    )
    _add_target_options(status)
    status.add_argument(
        "--runs", type=_positive_int, default=5, help="how many runs to list (default 5)"
    )
    status.add_argument("--json", action="store_true", help="print as JSON")
    status.add_argument(
        "--watch", action="store_true", help="redraw every --interval seconds until Ctrl-C"
    )
    status.add_argument(
        "--interval", type=_positive_float, default=2.0, help="seconds between redraws (2)"
    )
    status.set_defaults(handler=commands.status)

    runs = sub.add_parser(
        "runs",
        help="list runs; `runs show RUN_ID`; `runs diff A B` (what changed between two runs); "
        "`runs capture RUN_ID --out FILE` (the pages the calendar served it)",
        description="list: the last runs. show RUN_ID: every field of one run's record (counts, "
        "rejects by reason, drift, sweep outcome and reason, timings). diff A B: events added, "
        "removed, rescheduled and retitled between two runs, from the views the consumer "
        "keeps in the runs table. capture RUN_ID --out FILE: the raw pages the calendar "
        "served that run (gzip JSON lines), for `calendar serve --replay FILE`.",
    )
    _add_target_options(runs)
    runs.add_argument(
        "action", nargs="?", choices=("list", "show", "diff", "capture"), default="list"
    )
    runs.add_argument(
        "run_ids",
        nargs="*",
        metavar="RUN_ID",
        type=run_reference,
        help="a run id, a unique prefix of one (like git's), or 'latest'",
    )
    runs.add_argument("--runs", type=_positive_int, default=10, help="how many to list (10)")
    runs.add_argument("--out", metavar="FILE", help="capture: where to write the raw pages")
    runs.add_argument("--json", action="store_true", help="print as JSON")
    runs.set_defaults(handler=commands.runs)

    logs = sub.add_parser(
        "logs",
        help="the functions' JSON logs of one run (local files, or CloudWatch with --stack)",
        description="Locally, each sync keeps its functions' logs in one JSON-lines file per "
        "run under the state directory. With --stack, reads the stack's log groups "
        "(filter_log_events; the last 24 hours).",
    )
    _add_target_options(logs)
    logs.add_argument(
        "--run",
        metavar="RUN_ID",
        type=run_reference,
        help="which run: an id, a unique prefix or 'latest' (default: the newest)",
    )
    logs.add_argument(
        "--function",
        type=function_choice,
        help="only this function: producer, consumer, sweep, skill or reminders "
        "(or ProducerFunction, ...)",
    )
    logs.add_argument("--follow", action="store_true", help="keep printing new lines (Ctrl-C)")
    logs.add_argument("--json", action="store_true", help="print the JSON records as they are")
    logs.set_defaults(handler=commands.logs)

    events = sub.add_parser(
        "events",
        help="the skill's read path: one day's events, in time order",
        description="Reads one local date through the date-index, hiding cancelled events "
        "and items past their ttl (DynamoDB deletes expired items only eventually).",
    )
    _add_target_options(events)
    events.add_argument(
        "--date",
        default="today",
        help="the day(s), as `skill ask` takes them: today, tomorrow, saturday, this weekend, "
        "next week, YYYY-MM-DD... (default today)",
    )
    events.add_argument("--venue", help="only venues whose name contains this text")
    events.add_argument("--json", action="store_true", help="print as JSON")
    events.set_defaults(handler=commands.events)

    changes = sub.add_parser(
        "changes",
        help="what changed in the calendar: the change feed's events (kept 30 days)",
        description="Lists the changes the change feed published (Event Added, Moved, "
        "Cancelled, Updated, Removed), oldest first, from the changes table. --since takes "
        "today, yesterday, YYYY-MM-DD, YYYY-MM-DDTHH:MM or a span back (90m, 24h, 7d).",
    )
    _add_target_options(changes)
    changes.add_argument("--since", metavar="WHEN", help="from when (default: all kept)")
    changes.add_argument(
        "--run",
        metavar="RUN_ID",
        type=run_reference,
        help="only what this run changed: an id, a unique prefix or 'latest'",
    )
    changes.add_argument("--json", action="store_true", help="print as JSON")
    changes.set_defaults(handler=commands.changes)

    replay = sub.add_parser(
        "replay-dlq",
        help="move dead-letter messages back to their source queue",
        description="Uses StartMessageMoveTask where the endpoint supports it, otherwise "
        "receive, send, then delete (a message is deleted from the DLQ only once sent).",
    )
    _add_target_options(replay)
    replay.add_argument(
        "--queue",
        choices=("events", "sweep", "reminders", "all"),
        default="all",
        help="which DLQ (default all)",
    )
    replay.add_argument("--dry-run", action="store_true", help="count, move nothing")
    replay.add_argument(
        "--show",
        action="store_true",
        help="print the dead letters (decoded, truncated), move nothing",
    )
    replay.add_argument(
        "--max", type=_positive_int, help="move (or show) at most N messages per DLQ"
    )
    replay.add_argument("--json", action="store_true", help="print as JSON")
    replay.set_defaults(handler=commands.replay_dlq)

    emulator = sub.add_parser(
        "emulator",
        help="the shared local AWS emulator: start, stop, status",
        description="A moto server on 127.0.0.1 that every command shares. Its data lives in "
        "its memory: it survives between commands, not a stop or a reboot.",
    )
    emulator.add_argument("action", choices=("start", "stop", "status"))
    emulator.add_argument(
        "--dynamodb",
        choices=DYNAMODB_BACKENDS,
        help="start: DynamoDB from moto (default) or DynamoDB Local beside it (AWS's own "
        "implementation; needs java and `make dynamodb-local`); SQS is always moto",
    )
    emulator.set_defaults(handler=commands.emulator)

    from villages_sync_ops.cli.sweep_accept import add_parser as add_sweep_parser

    add_sweep_parser(sub, _add_target_options)

    calendar = sub.add_parser(
        "calendar",
        help="the stand-in calendar (for local runs); check, record or replay a calendar",
        epilog=fault_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    calendar.add_argument("action", choices=("serve", "check", "record"))
    calendar.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (8080)")
    calendar.add_argument(
        "--events", type=_positive_int, default=3000, help="how many events (3000)"
    )
    calendar.add_argument("--seed", type=int, default=2026, help="data set seed (2026)")
    calendar.add_argument(
        "--fault",
        action="append",
        type=_fault,
        default=[],
        metavar="NAME[=VALUE]",
        help="misbehave as the real site might (repeatable; the list below)",
    )
    # calendar check, record, serve --replay: villages_sync_ops.cli.calendar_commands
    calendar_commands.add_arguments(calendar, _endpoint_url)
    calendar.set_defaults(handler=lambda a: calendar_commands.dispatch(a, commands.calendar))
    skill_commands.register(sub, _add_target_options)  # villages_sync_ops.cli.skill
    skill_commands.register_reminders(sub)  # the stand-in Alexa's reminders
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors are JSON on stderr when the command line asks for --json
    (what `gh ... --json` and `aws ... --output json` callers parse)."""

    def error(self, message: str) -> NoReturn:
        if "--json" in (_ARGV or []):
            _print_error(self.prog, message, EXIT_USAGE, as_json=True)
            self.exit(EXIT_USAGE)
        super().error(message)


_ARGV: list[str] | None = None


def _print_error(command: str, message: str, code: int, *, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps({"error": message, "command": command, "exit_code": code}), file=sys.stderr
        )
    else:
        print(f"{command}: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    global _ARGV
    _ARGV = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    _enable_completion(parser)
    args = parser.parse_args(_ARGV)
    command = f"villages-sync {args.command}"
    as_json = bool(getattr(args, "json", False))
    problem = _endpoint_variables_problem(os.environ) if args.command != "calendar" else None
    if problem:
        _print_error(command, problem, EXIT_USAGE, as_json=as_json)
        return EXIT_USAGE
    try:
        with terminations_as_interrupts():  # SIGTERM and SIGHUP stop a command as Ctrl-C does
            code = int(args.handler(args))
            sys.stdout.flush()  # inside the try: a closed pipe is reported here, not at exit
        return code
    except commands.UsageError as error:
        _print_error(command, str(error), EXIT_USAGE, as_json=as_json)
        return EXIT_USAGE
    except commands.CommandError as error:
        if args.debug:
            traceback.print_exc()
        _print_error(command, str(error), EXIT_FAILED, as_json=as_json)
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (`status | head`): stop quietly, as other Unix tools do.
        close_stream(sys.stdout)
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt as stop:  # Ctrl-C, SIGTERM, SIGHUP, a closed pipe: 128 + signal
        if isinstance(stop, OutputClosed):
            close_stream(sys.stdout)
        return exit_code(stop)
    except Exception as error:  # the last resort: one line, the traceback only with --debug
        if args.debug:
            raise
        _print_error(
            command,
            f"unexpected {type(error).__name__}: {error} "
            "(run again with --debug for the traceback)",
            EXIT_FAILED,
            as_json=as_json,
        )
        return EXIT_FAILED
    finally:
        # The process ends now: the interpreter's final collections need not walk what the
        # command built. The demo's in-process emulator holds millions of objects, and after
        # its last line the 2,000-event demo sat 23 s in gc_collect_main (py-spy) before exiting.
        gc.freeze()


def _version() -> str:
    try:
        return version("villages-events-sync")
    except PackageNotFoundError:
        return "unknown"


def _enable_completion(parser: argparse.ArgumentParser) -> None:
    """Shell completion (README: `eval "$(register-python-argcomplete villages-sync)"`)."""
    if "_ARGCOMPLETE" not in os.environ:
        return  # not asked to complete: skip the import
    import argcomplete

    argcomplete.autocomplete(parser)


if __name__ == "__main__":
    sys.exit(main())
