"""``villages-sync sweep accept RUN_ID --reason TEXT``: run a refused sweep deliberately.

The accept is recorded on the run (who and why), then the run's sweep is requested again on
the sweep queue, so the SweepFunction runs it with its own settings and role: locally this
command drains that queue at once and prints the outcome; against ``--stack`` the deployed
function does it within seconds. An accept overrides only the refusals about the calendar's
answer (drift, a degraded run, too few events, too many deletions), never a run that did not
complete or that a newer run replaced; two-strike deletion still applies.
"""

from __future__ import annotations

import argparse
import getpass
import socket
from collections.abc import Callable
from typing import Any

from villages_sync.aws.runs_table import RunNotFoundError
from villages_sync.cli import commands
from villages_sync.cli.summaries import EXIT_OK, EXIT_SWEEP_REFUSED
from villages_sync.models import SweepOutcome
from villages_sync.sweep_trigger import encode_sweep_request

DESCRIPTION = """\
Accept the refused sweep of a completed run: record who accepted it and
why, then run its sweep, overriding the refusals about the calendar's
answer (drift, too many invalid events, too few events against the
baseline, too many deletions). The run becomes the new baseline. Items
are still deleted only after SWEEP_MISSES_BEFORE_DELETE clean runs in a
row missed them. See docs/operations.md, "A refused or degraded run".
"""


def default_operator() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):
        return "unknown"


def add_parser(sub: Any, add_target_options: Callable[[argparse.ArgumentParser], None]) -> None:
    sweep = sub.add_parser("sweep", help="a run's sweep: accept one that was refused")
    actions = sweep.add_subparsers(dest="sweep_action", required=True, metavar="ACTION")
    accept = actions.add_parser(
        "accept",
        help="run a refused sweep deliberately, recording who and why",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_target_options(accept)
    accept.add_argument("run_id", metavar="RUN_ID", help="the run (see `villages-sync status`)")
    accept.add_argument("--reason", required=True, help="why this run is right (recorded)")
    accept.add_argument(
        "--by", default=default_operator(), help="who accepts it (default: user@host)"
    )
    accept.set_defaults(handler=accept_sweep)


def accept_sweep(args: argparse.Namespace) -> int:
    if not args.reason.strip():
        raise commands.CommandError("--reason must say why the run is right")
    target = commands._target(args)
    runs = target.runs
    try:
        run = commands._guarded(lambda: runs.get(args.run_id))
    except RunNotFoundError as error:
        raise commands.CommandError(str(error)) from error
    if run.sweep_outcome is not SweepOutcome.REFUSED:
        state = f"its sweep {run.sweep_outcome}" if run.sweep_outcome else f"it is {run.status}"
        raise commands.CommandError(f"run {run.run_id} has no refused sweep to accept ({state})")
    recorded = commands._guarded(
        lambda: runs.record_accept(run.run_id, accepted_by=args.by, reason=args.reason.strip())
    )
    if not recorded:
        raise commands.CommandError(f"run {run.run_id} changed meanwhile: nothing accepted")
    if "SweepQueue" not in target.queue_urls:
        raise commands.CommandError(f"{target.description} has no SweepQueue")
    commands._guarded(
        lambda: target.clients.sqs.send_message(
            QueueUrl=target.queue_urls["SweepQueue"], MessageBody=encode_sweep_request(run.run_id)
        )
    )
    print(f"Run {run.run_id}: accepted by {args.by} ({args.reason.strip()})")
    if args.stack:
        print("  sweep requested: the deployed SweepFunction runs it; `status` shows the outcome")
        return EXIT_OK
    commands._guarded(lambda: commands.run_local_sweeps(args))
    after = runs.get(run.run_id)
    if after.sweep_outcome is SweepOutcome.SWEPT:
        print(
            f"  sweep       ran: {after.deleted_count} deleted, {after.missed_count} missed "
            "(deleted if still missing next run); this run is now the baseline"
        )
        return EXIT_OK
    print(f"  sweep       REFUSED, nothing deleted: {after.sweep_reason}")
    return EXIT_SWEEP_REFUSED
