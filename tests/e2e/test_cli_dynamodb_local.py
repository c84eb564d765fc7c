"""`--dynamodb local` as a user runs it: the shared emulator and the demo on DynamoDB Local,
and the one line a machine without it gets."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import boto3
import pytest
from support.cli import run_cli
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import RunningCalendar

REGION = "us-east-1"


@pytest.fixture
def without_dynamodb_local(cli_env, tmp_path) -> dict[str, str]:
    """The environment of a machine where `make dynamodb-local` never ran."""
    return {**cli_env, "DYNAMODB_LOCAL_DIR": str(tmp_path / "not-installed")}


@pytest.mark.parametrize(
    "command", [["emulator", "start", "--dynamodb", "local"], ["demo", "--dynamodb", "local"]]
)
def test_cli_dynamodb_local_missing_one_line_naming_make_target(without_dynamodb_local, command):
    # Given no DynamoDB Local installed / When a user asks for it
    result = run_cli(*command, env=without_dynamodb_local)

    # Then one line says how to get it, and nothing was left running
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "make dynamodb-local" in result.stderr
    status = run_cli("emulator", "status", env=without_dynamodb_local)
    assert "no emulator running" in status.stdout


def test_cli_emulator_dynamodb_local_start_sync_status_stop(requires_dynamodb_local, cli_env):
    # Given the shared emulator started with DynamoDB Local
    events = generate_events(200, seed=3, today=datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date())
    try:
        start = run_cli("emulator", "start", "--dynamodb", "local", env=cli_env)
        status = run_cli("emulator", "status", env=cli_env)
        # When a user syncs with no endpoint at all
        with RunningCalendar(events) as calendar:
            sync = run_cli(
                "sync", "--calendar-base-url", calendar.base_url, "--json", "--quiet", env=cli_env
            )
        lines = {line.split(" at ")[0]: line for line in status.stdout.splitlines()}
        moto = lines["emulator running"].split()[3]
        dynamodb_local = lines["DynamoDB Local"].split()[3]
        tables = {
            name: boto3.client("dynamodb", endpoint_url=url, region_name=REGION).list_tables()
            for name, url in (("moto", moto), ("local", dynamodb_local))
        }
    finally:
        stop = run_cli("emulator", "stop", env=cli_env)

    # Then status names both servers and pids, the run completed, its tables are in DynamoDB
    # Local and none in moto; stop ends both
    assert start.returncode == 0, start.stderr
    assert "AWS_ENDPOINT_URL_DYNAMODB=" in start.stdout
    assert status.returncode == 0 and "pid" in lines["DynamoDB Local"]
    assert sync.returncode == 0, sync.stderr + sync.stdout
    assert json.loads(sync.stdout)["run"]["status"] == "completed"
    assert sorted(tables["local"]["TableNames"]) == [
        "villages-events-local",
        "villages-sync-changes-local",
        "villages-sync-reminders-local",
        "villages-sync-runs-local",
    ]
    assert tables["moto"]["TableNames"] == []
    assert "stopped" in stop.stdout
    assert "no emulator running" in run_cli("emulator", "status", env=cli_env).stdout


def test_cli_demo_dynamodb_local_days_add_update_then_delete(requires_dynamodb_local, cli_env):
    # Given nothing running / When a user runs the demo on DynamoDB Local (small, for speed)
    result = run_cli("demo", "--events", "100", "--dynamodb", "local", "--json", env=cli_env)

    # Then every run completed; the second added and updated, the third deleted what the
    # second missed (two strikes), as on moto
    assert result.returncode == 0, result.stderr[-2000:]
    day_one, day_two, day_three = json.loads(result.stdout)["days"]
    assert {day["run"]["status"] for day in (day_one, day_two, day_three)} == {"completed"}
    assert day_one["run"]["upserts"]["added"] == day_one["run"]["events"]
    assert day_two["run"]["upserts"]["added"] > 0
    assert day_two["run"]["upserts"]["updated"] > 0
    assert day_two["run"]["missed"] > 0
    assert day_three["run"]["deleted"] == day_two["run"]["missed"]
