"""What `sync` shows in an 80-column terminal agrees with its summary."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support.terminal import run_in_terminal
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_backends(
    "moto", reason="the command line's behaviour, not DynamoDB's: its subprocesses use one endpoint"
)

TODAY = datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()


def test_sync_progress_in_a_terminal_agrees_with_its_summary(deployment, moto_endpoint, cli_env):
    # Given a terminal of 80 columns and a 200-event calendar in two-event messages
    with RunningCalendar(generate_events(200, seed=11, today=TODAY)) as calendar:
        code, shown = run_in_terminal(
            "sync", "--endpoint-url", moto_endpoint, "--env", "test",
            "--calendar-base-url", calendar.base_url,
            env={**cli_env, "MESSAGE_MAX_EVENTS": "20"}, columns=80,
        )  # fmt: skip

    # Then the bars count what the summary counts, with no unknown total and no second clock
    assert code == 0, shown
    assert "/?" not in shown
    assert not re.search(r"\b\d:\d\d:\d\d\b", shown), shown  # the bar's own elapsed time
    sent = re.search(r"enqueued\s+\d+ events in (\d+) messages", shown)
    assert sent, shown
    assert f"{sent[1]}/{sent[1]} messages" in shown
