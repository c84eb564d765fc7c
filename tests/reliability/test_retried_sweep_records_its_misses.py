"""Guards against a bug found in review: a sweep that dies after counting misses on the items, but
before adding them to the run record, is retried (the request comes back from the sweep queue) and
then records 0 missed: the retry skips every item already marked ``missed_by`` this run, so
``status`` and the EventsMissed metric say nothing was missed while the table holds items one strike
from deletion.
"""

from __future__ import annotations

import pytest
from support.feeds import filler, stored, sync
from villages_sync.aws.runs_table import RunsTable
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="the deletion rules on a hand-made feed, not of the emulator"
)


def test_retried_sweep_still_records_its_misses(deployment, monkeypatch):
    events = filler(40)
    with RunningCalendar(events) as calendar:
        sync(deployment, calendar.base_url)
        calendar.set_events(events[3:])  # three events really removed

        crashes = []
        original = RunsTable.record_missed

        def crash_once(self, run_id, count):
            if not crashes:
                crashes.append(run_id)
                raise TimeoutError("the sweep's Lambda timed out here")
            return original(self, run_id, count)

        monkeypatch.setattr(RunsTable, "record_missed", crash_once)
        report = sync(deployment, calendar.base_url)

    run_id = report.run.run_id
    # The first attempt died after striking; the local sweep queue redelivered the request and
    # the retry ran to the end (as SQS would after the visibility timeout).
    assert crashes == [run_id] and str(report.run.sweep_outcome) == "swept"
    struck = [i for i in stored(deployment).values() if i.get("missed_by") == run_id]
    assert len(struck) == 3
    assert report.run.missed_count == 3, (
        f"run record says missed={report.run.missed_count}, "
        f"table has {len(struck)} items missed by the run"
    )
