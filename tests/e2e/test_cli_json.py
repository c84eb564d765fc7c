"""Every command with --json prints JSON only on stdout; its errors are JSON on stderr
({"error": …, "exit_code": N}) with the same exit code. `jq` never meets a stray line."""

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
def good_then_failed(deployment, moto_endpoint, cli_env):
    target = ["--endpoint-url", moto_endpoint, "--env", "test", "--json"]
    with RunningCalendar(generate_events(60, seed=3, today=TODAY)) as calendar:
        good = run_cli("sync", *target, "--calendar-base-url", calendar.base_url, env=cli_env)
    bad = run_cli(
        "sync", *target, "--calendar-base-url", f"http://127.0.0.1:{free_port()}", env=cli_env
    )
    assert good.returncode == 0, good.stderr
    assert bad.returncode == 1, bad.stderr
    return json.loads(good.stdout)["run_id"], json.loads(bad.stdout)["run_id"]


COMMANDS = [
    ["status"],
    ["runs"],
    ["runs", "show", "{good}"],
    ["runs", "show", "latest"],
    ["runs", "diff", "{good}", "{failed}"],
    ["events", "--date", "today"],
    ["changes", "--since", "today"],
    ["replay-dlq", "--show"],
    ["replay-dlq", "--dry-run"],
]


def test_every_command_with_json_prints_json_only(good_then_failed, moto_endpoint, cli_env):
    # One pair of syncs for every command (each pair is two CLI syncs: a test's worth of time)
    good, failed = good_then_failed
    for command in COMMANDS:
        args = [a.format(good=good, failed=failed) for a in command]

        # When the command runs with --json (piped, as into jq)
        result = run_cli(
            *args, "--endpoint-url", moto_endpoint, "--env", "test", "--json", env=cli_env
        )

        # Then stdout is one JSON document and nothing else
        assert result.returncode == 0, (command, result.stderr)
        try:
            json.loads(result.stdout)
        except json.JSONDecodeError as error:
            pytest.fail(f"{' '.join(command)}: stdout is not one JSON document ({error})")


def test_logs_json_prints_one_json_record_a_line(good_then_failed, cli_env):
    result = run_cli("logs", "--run", good_then_failed[0], "--json", env=cli_env)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records and all(isinstance(r, dict) for r in records)


def test_runs_diff_against_a_failed_run_warns(good_then_failed, moto_endpoint, cli_env):
    good, failed = good_then_failed
    target = ("--endpoint-url", moto_endpoint, "--env", "test")
    as_json = run_cli("runs", "diff", good, failed, *target, "--json", env=cli_env)
    as_text = run_cli("runs", "diff", good, failed, *target, env=cli_env)
    assert as_json.returncode == 0 and as_text.returncode == 0
    warnings = json.loads(as_json.stdout)["warnings"]
    assert any(failed in w and "failed" in w for w in warnings)
    assert f"warning: run {failed} is failed" in as_text.stderr
    # the table keeps the venue and the id that --json has
    header = as_text.stdout.splitlines()[1]
    assert "venue" in header and "id" in header


ERRORS = [
    (["runs", "show", "20260101T000000.000000Z-abcdef"], 1),
    (["runs", "show", "../x"], 2),
    (["events", "--date", "someday"], 2),
    (["logs", "--function", "nosuch"], 2),
]


def test_errors_with_json_are_json_on_stderr(good_then_failed, moto_endpoint, cli_env):
    for command, code in ERRORS:
        target = [] if command[0] == "logs" else ["--endpoint-url", moto_endpoint, "--env", "test"]
        result = run_cli(*command, *target, "--json", env=cli_env)
        assert result.returncode == code, (command, result.stderr)
        assert result.stdout == "", command
        error = json.loads(result.stderr)
        assert error["exit_code"] == code and error["error"], command
