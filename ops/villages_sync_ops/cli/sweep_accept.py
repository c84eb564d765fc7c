"""``villages-sync sweep accept RUN_ID --reason TEXT``: run a refused sweep deliberately.

The run is judged first on every check, and the refusal and what the accept waives are shown
before anything is recorded; a timing or state refusal is not acceptable (wait for the next
run). The accept is recorded on the run (who, why, what it waives, the refusal as it stood),
then the run's sweep is requested again on
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
from villages_sync.models import SweepOutcome
from villages_sync.settings import SweepSettings
from villages_sync.sweep_policy import (
    ACCEPTABLE,
    SweepRefusal,
    calendar_refusals,
    decide_sweep,
    refusal_of,
)
from villages_sync.sweep_trigger import encode_sweep_request

from villages_sync_ops.cli import commands
from villages_sync_ops.cli.summaries import EXIT_OK, EXIT_SWEEP_REFUSED

# The preview judges with the sweep's default rules (the deployed function's own settings
# decide in the end: it judges the run again, waiving only what is recorded here).
SWEEP_DEFAULTS = SweepSettings(table_name="", runs_table_name="")

DESCRIPTION = """\
Accept the refused sweep of a completed run. The run is judged on every
check first, and the command prints the refusal and each judgement of
the calendar's answer the accept waives (drift, too many invalid events,
too few events against the baseline, too many deletions); then it records
who accepted it, why and what it waives, and runs its sweep, which waives
only those. A refusal for timing or state (a newer run completed or is
running, the run saw nothing) cannot be accepted: wait for the next run.
If the sweep runs, the run becomes the new baseline. Items are still
deleted only after SWEEP_MISSES_BEFORE_DELETE clean runs in a row missed
them. See docs/operations.md, "What an accept waives".
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
    original = run.sweep_reason
    refusal = refusal_of(original.removeprefix("accept refused: "))
    print(f"Run {run.run_id}: sweep refused: {original}")
    if refusal not in ACCEPTABLE:
        # A timing or state refusal (a newer run completed or was running, the run saw
        # nothing): the run was never judged on the calendar's answer, and the next run's
        # own sweep will judge the calendar afresh. Checked before anything is recorded.
        raise commands.CommandError(
            f"run {run.run_id} was refused {refusal or 'for its state'}, not for the "
            "calendar's answer: an accept cannot waive that. Wait for the next run: its own "
            "sweep judges the calendar again"
        )
    # Judge the run on every check now, and name what the accept waives before acting.
    decision = commands._guarded(
        lambda: decide_sweep(
            run,
            latest_completed_run_id=runs.latest_completed_run_id(),
            baseline=runs.previous_baseline_run(run.run_id),
            min_ratio=SWEEP_DEFAULTS.min_ratio,
            waived=ACCEPTABLE,
        )
    )
    if not decision.allowed:
        raise commands.CommandError(
            f"run {run.run_id} cannot be accepted now: {decision.reason}. Nothing accepted"
        )
    judged = commands._guarded(
        lambda: calendar_refusals(
            run,
            baseline=runs.previous_baseline_run(run.run_id),
            min_ratio=SWEEP_DEFAULTS.min_ratio,
        )
    )
    waives = sorted({str(refusal), *(str(d.refusal) for d in judged)})
    for found in judged:
        print(f"  waives      {found.reason}")
    if refusal is SweepRefusal.TOO_MANY_DELETIONS:
        print(f"  waives      {original}")
    never = ", ".join(sorted(str(r) for r in SweepRefusal if r not in ACCEPTABLE))
    print(f"  never       {never}; and two-strike deletion still applies")
    recorded = commands._guarded(
        lambda: runs.record_accept(
            run.run_id,
            accepted_by=args.by,
            reason=args.reason.strip(),
            waives=waives,
            refused_reason=original,
        )
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
    print(f"  accepted by {args.by} ({args.reason.strip()})")
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
