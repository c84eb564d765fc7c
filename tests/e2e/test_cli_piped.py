"""Piped (stdout not a terminal), the output is plain whole lines: nothing folded at 80
columns, nothing cut with an ellipsis, no trailing spaces; `| grep` and `| cut` see it all."""

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


@pytest.fixture
def good_and_failed_runs(deployment, moto_endpoint, cli_env):
    """A completed run, then one whose calendar was unreachable (a long error text)."""
    target = ["--endpoint-url", moto_endpoint, "--env", "test", "--quiet", "--json"]
    with RunningCalendar(generate_events(60, seed=3, today=TODAY)) as calendar:
        good = run_cli("sync", *target, "--calendar-base-url", calendar.base_url, env=cli_env)
    bad = run_cli(
        "sync", *target, "--calendar-base-url", f"http://127.0.0.1:{free_port()}",
        env=cli_env,
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
    return json.loads(good.stdout)["run_id"], json.loads(bad.stdout)["run_id"]


def test_piped_runs_show_prints_every_value_whole(good_and_failed_runs, moto_endpoint, cli_env):
    target = ("--endpoint-url", moto_endpoint, "--env", "test")
    env = {**cli_env, "COLUMNS": "80"}  # a narrow terminal setting must not matter in a pipe
    for run_id in good_and_failed_runs:
        # When the operator pipes `runs show` (as into grep)
        as_text = run_cli("runs", "show", run_id, *target, env=env)
        as_json = run_cli("runs", "show", run_id, *target, "--json", env=env)
        assert as_text.returncode == 0 and as_json.returncode == 0, as_text.stderr

        # Then every string value appears whole on one line, and no line has trailing spaces
        lines = as_text.stdout.splitlines()
        for name, value in json.loads(as_json.stdout).items():
            if isinstance(value, str) and value:
                assert any(name in line and value in line for line in lines), (name, value)
        assert [line for line in lines if line != line.rstrip()] == []
        assert "…" not in as_text.stdout


def test_piped_runs_and_status_lines_are_not_folded(good_and_failed_runs, moto_endpoint, cli_env):
    target = ("--endpoint-url", moto_endpoint, "--env", "test")
    env = {**cli_env, "COLUMNS": "40"}
    for command in (("runs",), ("status",)):
        result = run_cli(*command, *target, env=env)
        assert result.returncode == 0, result.stderr
        # each run id is on the same line as its status: rows are not folded into two
        for run_id in good_and_failed_runs:
            line = next(line for line in result.stdout.splitlines() if run_id in line)
            assert "completed" in line or "failed" in line, line
        assert [line for line in result.stdout.splitlines() if line != line.rstrip()] == []
