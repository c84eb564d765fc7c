"""The `villages-sync` command as a user runs it: a subprocess, its output and exit code."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support.cli import run_cli
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import Faults, RunningCalendar


@pytest.fixture
def cli_env(cli_env: dict[str, str]) -> dict[str, str]:
    """The e2e environment, with fast retries: these tests sync against a failing calendar."""
    return {**cli_env, "BACKOFF_BASE_SECONDS": "0.01"}


@pytest.fixture
def calendar_events():
    return generate_events(400, seed=5, today=datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date())


def test_cli_help_lists_every_command(cli_env):
    # Given the installed command / When asked for help
    result = run_cli("--help", env=cli_env)

    # Then every command and the exit codes are explained
    assert result.returncode == 0
    for command in ("demo", "sync", "status", "events", "replay-dlq", "emulator", "calendar"):
        assert command in result.stdout
    assert "exit codes" in result.stdout


def test_cli_sync_then_events_and_status_read_the_same_endpoint(
    moto_endpoint, cli_env, calendar_events
):
    # Given a stand-in calendar and an empty moto server
    with RunningCalendar(calendar_events) as calendar:
        # When a user syncs, then lists today's events and the status
        sync = run_cli(
            "sync",
            "--endpoint-url",
            moto_endpoint,
            "--calendar-base-url",
            calendar.base_url,
            "--json",
            env=cli_env,
        )
    events = run_cli(
        "events", "--endpoint-url", moto_endpoint, "--date", "today", "--json", env=cli_env
    )
    status = run_cli("status", "--endpoint-url", moto_endpoint, "--json", env=cli_env)

    # Then the sync succeeded (exit 0), and both reads see its results
    assert sync.returncode == 0, sync.stderr
    summary = json.loads(sync.stdout)
    assert summary["run"]["status"] == "completed"
    assert summary["run"]["sweep"] == "swept"
    today = json.loads(events.stdout)
    assert events.returncode == 0
    assert all(not e["cancelled"] for e in today["events"])
    times = [e["start_time"] for e in today["events"] if not e["all_day"]]
    assert times == sorted(times)
    state = json.loads(status.stdout)
    assert state["runs"][0]["run_id"] == summary["run_id"]
    assert {q["name"] for q in state["queues"]} >= {"EventsQueue", "EventsDLQ"}


def test_cli_sync_calendar_down_exits_1_and_says_why(moto_endpoint, cli_env, calendar_events):
    # Given a calendar that is down
    with RunningCalendar(calendar_events, faults=Faults(down=True)) as calendar:
        # When a user syncs
        result = run_cli(
            "sync",
            "--endpoint-url",
            moto_endpoint,
            "--calendar-base-url",
            calendar.base_url,
            env={**cli_env, "MAX_ATTEMPTS": "3"},
        )

    # Then the command fails with exit 1 and names the failure and that nothing was deleted
    assert result.returncode == 1
    assert "failed" in result.stdout
    assert "never swept" in result.stdout
    # And the retries were shown with their attempt and wait; the functions' own warnings
    # (Powertools' "No application metrics to publish") stayed in the function log
    assert "attempt 1 failed, next in" in result.stderr
    assert "No application metrics" not in result.stderr + result.stdout


def test_cli_events_bad_date_exits_2_naming_the_value(moto_endpoint, cli_env):
    # Given a bad --date / When a user lists events
    result = run_cli(
        "events", "--endpoint-url", moto_endpoint, "--date", "next friday", env=cli_env
    )

    # Then the error (a bad argument: exit 2) names the value and the accepted forms
    assert result.returncode == 2
    assert "'next friday'" in result.stderr
    assert "YYYY-MM-DD" in result.stderr


def test_cli_shared_emulator_keeps_state_between_commands(cli_env, calendar_events):
    # Given no endpoint at all: the commands share the on-demand local emulator
    try:
        with RunningCalendar(calendar_events) as calendar:
            # When a user syncs and then asks for the status in a separate command
            sync = run_cli("sync", "--calendar-base-url", calendar.base_url, "--quiet", env=cli_env)
        status = run_cli("status", "--json", env=cli_env)

        # Then the second command sees the first one's run
        assert sync.returncode == 0, sync.stderr + sync.stdout
        assert json.loads(status.stdout)["runs"][0]["status"] == "completed"
    finally:
        stop = run_cli("emulator", "stop", env=cli_env)
    assert "stopped" in stop.stdout


def test_cli_demo_days_show_added_updated_missed_then_deleted(cli_env):
    # Given nothing running at all / When a user runs the demo (small, for speed)
    result = run_cli("demo", "--events", "100", "--json", env=cli_env)

    # Then every day completed; day two added and updated and counted the removed events'
    # first miss; day three deleted exactly those; today was read back
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    day_one, day_two, day_three = summary["days"]
    assert day_one["run"]["upserts"]["added"] == day_one["run"]["events"]
    assert day_two["run"]["upserts"]["added"] > 0
    assert day_two["run"]["upserts"]["updated"] > 0
    assert day_two["run"]["missed"] > 0 and day_two["run"]["deleted"] == 0
    assert day_three["run"]["deleted"] == day_two["run"]["missed"]
    assert all(
        event["event_date"] == summary["today"][0]["event_date"] for event in summary["today"]
    )
