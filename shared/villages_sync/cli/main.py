"""``villages-sync``: run the pipeline locally, and operate it locally or in AWS."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from villages_sync.cli import commands
from villages_sync.cli import skill as skill_commands
from villages_sync.cli.summaries import EXIT_FAILED
from villages_sync.local.emulator import DYNAMODB_BACKENDS

DESCRIPTION = """\
Keep a DynamoDB copy of The Villages community calendar.

Locally, every command shares one AWS emulator (a moto server on 127.0.0.1, started on demand:
see `villages-sync emulator --help`); `--endpoint-url` or AWS_ENDPOINT_URL points elsewhere,
and `--stack NAME` finds a deployed stack's resources from its outputs.
"""

EPILOG = """\
examples:
  villages-sync demo                                   the whole pipeline, offline, twice
  villages-sync calendar serve --port 8080 &           a stand-in calendar on 127.0.0.1
  villages-sync sync --calendar-base-url http://127.0.0.1:8080
  villages-sync events --date today --venue "spanish springs"
  villages-sync status
  villages-sync replay-dlq --dry-run
  villages-sync sweep accept RUN_ID --reason "calendar really halved"
  villages-sync skill ask --date tomorrow --venue brownwood --part-of-day evening

exit codes: 0 success; 1 the run or command failed (nothing was deleted); 2 bad arguments;
3 the run completed but its sweep refused to delete (see the reason it prints); 4 the run was
degraded: too many events failed validation, the valid ones were stored, nothing deleted.
"""


def _add_target_options(parser: argparse.ArgumentParser, *, stack: bool = True) -> None:
    parser.add_argument(
        "--endpoint-url",
        help="AWS endpoint (wins over AWS_ENDPOINT_URL); default: the shared local emulator",
    )
    parser.add_argument(
        "--dynamodb-endpoint-url",
        help="DynamoDB's own endpoint (wins over AWS_ENDPOINT_URL_DYNAMODB and --endpoint-url)",
    )
    parser.add_argument(
        "--env", default="local", help="the template's Environment parameter (default: local)"
    )
    parser.add_argument("--region", help="AWS region (default: the usual AWS configuration)")
    if stack:
        parser.add_argument(
            "--stack", help="a deployed CloudFormation stack: resources come from its outputs"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="villages-sync",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    demo.add_argument("--events", type=int, default=2000, help="calendar size (default 2000)")
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
        "template's tables and queues there when missing. Exit 0 when the run completed and "
        "swept, 1 when it failed, 3 when it completed but the sweep refused to delete.",
    )
    _add_target_options(sync, stack=False)
    sync.add_argument(
        "--calendar-base-url",
        help="serve all three calendar URLs from this base (default: the real site)",
    )
    sync.add_argument("--days-ahead", type=int, help="window length in days (default 90)")
    sync.add_argument("--json", action="store_true", help="print the summary as JSON")
    sync.add_argument("--quiet", action="store_true", help="no progress lines")
    sync.set_defaults(handler=commands.sync)

    status = sub.add_parser(
        "status", help="queue depths (visible, in flight) and the last runs with their outcome"
    )
    _add_target_options(status)
    status.add_argument("--runs", type=int, default=5, help="how many runs to list (default 5)")
    status.add_argument("--json", action="store_true", help="print as JSON")
    status.set_defaults(handler=commands.status)

    events = sub.add_parser(
        "events",
        help="the skill's read path: one day's events, in time order",
        description="Reads one local date through the date-index, hiding cancelled events "
        "and items past their ttl (DynamoDB deletes expired items only eventually).",
    )
    _add_target_options(events)
    events.add_argument(
        "--date", default="today", help="today, tomorrow or YYYY-MM-DD (default today)"
    )
    events.add_argument("--venue", help="only venues whose name contains this text")
    events.add_argument("--json", action="store_true", help="print as JSON")
    events.set_defaults(handler=commands.events)

    replay = sub.add_parser(
        "replay-dlq",
        help="move dead-letter messages back to their source queue",
        description="Uses StartMessageMoveTask where the endpoint supports it, otherwise "
        "receive, send, then delete (a message is deleted from the DLQ only once sent).",
    )
    _add_target_options(replay)
    replay.add_argument(
        "--queue",
        choices=("events", "sweep", "all"),
        default="all",
        help="which DLQ (default all)",
    )
    replay.add_argument("--dry-run", action="store_true", help="count, move nothing")
    replay.add_argument("--max", type=int, help="move at most N messages per DLQ")
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

    from villages_sync.cli.sweep_accept import add_parser as add_sweep_parser

    add_sweep_parser(sub, _add_target_options)

    calendar = sub.add_parser("calendar", help="the stand-in calendar (for local runs)")
    calendar.add_argument("action", choices=("serve",))
    calendar.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (8080)")
    calendar.add_argument("--events", type=int, default=3000, help="how many events (3000)")
    calendar.add_argument("--seed", type=int, default=2026, help="data set seed (2026)")
    calendar.set_defaults(handler=commands.calendar)
    skill_commands.register(sub, _add_target_options)  # villages_sync.cli.skill
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except commands.CommandError as error:
        print(f"villages-sync {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
