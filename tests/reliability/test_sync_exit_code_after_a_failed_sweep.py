"""Guards against a bug found in review: `villages-sync sync` exited 0 ("success", README.md's exit
codes) when the run's sweep never ran: the sweep function failed (DynamoDB throttled its Query), the
request waits on the sweep queue, and ``sync_exit_code`` maps ``sweep_outcome is None`` to EXIT_OK.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from support.feeds import filler, sync
from villages_sync.aws.events_table import EventsTable
from villages_sync_ops.cli.summaries import EXIT_OK, sync_exit_code, sync_text
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="the deletion rules on a hand-made feed, not of the emulator"
)


def test_sync_whose_sweep_failed_does_not_exit_ok(deployment, monkeypatch):
    def throttled(self, window):
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
            "Query",
        )

    monkeypatch.setattr(EventsTable, "window_candidates", throttled)
    with RunningCalendar(filler(20)) as calendar:
        report = sync(deployment, calendar.base_url)

    assert str(report.run.status) == "completed" and report.run.sweep_outcome is None
    assert "sweep       not run" in sync_text(report)
    assert sync_exit_code(report) != EXIT_OK, "exit 0 = 'ok and swept', but nothing was swept"
