"""Every failed or refused sync ends with the next command or check to run."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support.cli import run_cli
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.local.ports import free_port
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_backends(
    "moto", reason="the command line's behaviour, not DynamoDB's: its subprocesses use one endpoint"
)

TODAY = datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()


def test_unreachable_calendar_says_to_check_the_url_and_that_the_next_sync_retries(
    deployment, moto_endpoint, cli_env
):
    url = f"http://127.0.0.1:{free_port()}"
    result = run_cli(
        "sync", "--endpoint-url", moto_endpoint, "--env", "test", "--calendar-base-url", url,
        env=cli_env,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("  next ")
    assert url in last and "--calendar-base-url" in last and "next sync retries" in last


def test_refused_sweep_ends_with_the_sweep_accept_line(deployment, moto_endpoint, cli_env):
    # Given a baseline of 200 events, then a calendar with a third of them (refused: too few)
    target = ["--endpoint-url", moto_endpoint, "--env", "test"]
    events = generate_events(200, seed=21, today=TODAY)
    with RunningCalendar(events) as calendar:
        first = run_cli("sync", *target, "--calendar-base-url", calendar.base_url, env=cli_env)
        calendar.set_events(events[:60])
        text = run_cli("sync", *target, "--calendar-base-url", calendar.base_url, env=cli_env)
        calendar.set_events(events[:60])
        as_json = run_cli(
            "sync", *target, "--calendar-base-url", calendar.base_url, "--json", env=cli_env
        )

    # Then exit 3, and the summary's last line is the accept command for that run
    assert first.returncode == 0, first.stderr
    assert text.returncode == 3, text.stdout + text.stderr
    last = text.stdout.strip().splitlines()[-1]
    assert "villages-sync sweep accept 2" in last and "--reason" in last and "--env test" in last
    summary = json.loads(as_json.stdout)
    assert summary["exit_code"] == 3
    assert f"sweep accept {summary['run_id']}" in summary["next"]
