"""``villages-sync demo``: the whole pipeline offline, over three simulated runs.

Day 1 fills an empty table; overnight the stand-in calendar changes (events added, edited and
removed); day 2 adds and updates, and counts the removed events' first miss; day 3, the calendar
unchanged, deletes them: an event goes only when two clean runs in a row missed it. After days 2
and 3 the change feed's list says what changed (the stream read by the local runtime). Everything
runs on 127.0.0.1 and stops at the end.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.aws.changes_table import ChangesTable
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync.visible_events import visible_events

from villages_sync_ops.cli.changes import change_as_dict, print_changes
from villages_sync_ops.cli.local_alexa import local_alexa
from villages_sync_ops.cli.output import ProgressPrinter, print_json, print_line, print_table
from villages_sync_ops.cli.skill import first_page
from villages_sync_ops.cli.summaries import EXIT_FAILED, EXIT_OK, sync_as_dict, sync_text
from villages_sync_ops.cli.tables import events_table
from villages_sync_ops.local.dynamodb_local import DynamoDBLocalUnavailable, embedded_dynamodb
from villages_sync_ops.local.emulator import EmbeddedEmulator, use_emulator_credentials
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions, deploy_locally
from villages_sync_ops.standin.dataset import generate_events, mutate_events
from villages_sync_ops.standin.server import RunningCalendar

LOCAL_TZ = ZoneInfo(DEFAULT_TIMEZONE)
# Today's events the text output lists; the rest are counted, with where to read them.
TODAY_SHOWN = 15


def print_todays_events(today: date, todays: list[dict[str, Any]]) -> None:
    print(f"== today, {today:%A %d %B %Y}: {len(todays)} event(s) ==")
    if todays:
        print_table(events_table(todays[:TODAY_SHOWN]))
    if len(todays) > TODAY_SHOWN:
        # The demo's emulator is gone when it ends: --json is where the rest can be read.
        more = len(todays) - TODAY_SHOWN
        print(f"  ... and {more} more (villages-sync demo --json lists them all)")


def _changes_of(deployment: Any, run_id: str | None) -> list[Any]:
    """The changes the change feed recorded for one run (read from its changes table)."""
    if not run_id:
        return []
    table = ChangesTable(deployment.clients.dynamodb, deployment.resources.tables["ChangesTable"])
    return list(table.since(0, run_id=run_id))


def run_demo(*, events: int, seed: int, as_json: bool, dynamodb: str = "moto") -> int:
    use_emulator_credentials()
    progress = ProgressPrinter(quiet=as_json)
    today = datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()
    day_one = generate_events(events, seed=seed, today=today)
    day_two = mutate_events(
        day_one, seed=seed + 1, added=events // 20, removed=events // 25, changed=events // 10
    )
    results: list[dict[str, Any]] = []
    function_log = io.StringIO()  # the functions' JSON logs: kept out of the demo's output
    started = time.monotonic()
    try:
        dynamodb_server = embedded_dynamodb(dynamodb)
    except DynamoDBLocalUnavailable as error:
        print(f"villages-sync demo: {error}", file=sys.stderr)
        return EXIT_FAILED
    with (
        EmbeddedEmulator() as aws,
        dynamodb_server as ddb,
        RunningCalendar(day_one) as calendar,
        contextlib.ExitStack() as stack,
    ):
        dynamodb_url = ddb.endpoint_url if ddb else aws.endpoint_url
        progress("setup", f"AWS emulator {aws.endpoint_url}, calendar {calendar.base_url}")
        if ddb:
            progress("setup", f"DynamoDB Local {dynamodb_url} (AWS's own DynamoDB)")
        deployment = deploy_locally(
            aws.endpoint_url, dynamodb_endpoint_url=dynamodb_url, environment="demo"
        )
        # RemindersFunction follows the change feed against a stand-in Alexa that keeps
        # nothing: the demo's tables (its reminders among them) go when it ends.
        alexa = stack.enter_context(
            local_alexa(deployment, function_log=function_log, state_file=None)
        )
        options = SyncOptions(
            calendar_base_url=calendar.base_url,
            function_log=function_log,
            function_env=alexa.function_env({}),
            trim_read_stream_records=True,  # moto is in this process (local/moto_streams.py)
        )
        for label, data in (("day 1", day_one), ("day 2", day_two), ("day 3", day_two)):
            calendar.set_events(data)
            progress(label, f"the calendar has {len(data)} events")
            report = LocalPipeline(deployment, options, progress).run_sync()
            progress.done()
            results.append({"day": label, **sync_as_dict(report)})
            if not as_json:
                print(f"\n== {label} ==")
                for line in sync_text(report).splitlines():
                    print_line(line)  # folded to the width (80 columns included)
                print()
            if not report.succeeded:
                print_json(results) if as_json else print(function_log.getvalue()[-4000:])
                return EXIT_FAILED
            changed = _changes_of(deployment, report.run_id)
            results[-1]["changes"] = [change_as_dict(change) for change in changed]
            if not as_json and label != "day 1":
                # Day 1 adds everything; from day 2 on, the change feed says what changed.
                print_changes(
                    changed, local_tz=LOCAL_TZ, heading=f"what changed on {label}", limit=10
                )
                print()
        todays = visible_events(deployment.events.events_on(today), now=time.time())
        skill_says = first_page(deployment, date_words="tomorrow", log=function_log)
    elapsed = time.monotonic() - started
    if as_json:
        print_json(
            {"days": results, "today": todays, "skill": skill_says, "seconds": round(elapsed, 1)}
        )
        return EXIT_OK
    print_todays_events(today, todays)
    print('\n== the skill, asked "what\'s on tomorrow?" ==')
    print_line(str(skill_says))
    print(f"\nDemo finished in {elapsed:.1f} s; emulators and calendar stopped.")
    return EXIT_OK
