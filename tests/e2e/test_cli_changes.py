"""`villages-sync changes`: what the change feed published, as an operator reads it."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support.cli import run_cli
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_backends(
    "moto", reason="the command line's behaviour, not DynamoDB's: its subprocesses use one endpoint"
)

TODAY = datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()


def test_cli_changes_lists_what_a_retitle_changed_by_run(deployment, moto_endpoint, cli_env):
    # Given two syncs, the second after one event was retitled
    target = ["--endpoint-url", moto_endpoint, "--env", "test"]
    events = generate_events(30, seed=5, today=TODAY)
    with RunningCalendar(events) as calendar:
        base = ["--calendar-base-url", calendar.base_url, "--json"]
        first = run_cli("sync", *target, *base, env=cli_env)
        events[0]["title"] = "Retitled Show"
        calendar.set_events(events)
        second = run_cli("sync", *target, *base, env=cli_env)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    second_run = json.loads(second.stdout)["run_id"]

    # When the operator asks what the latest run changed, as JSON and as text (piped)
    as_json = run_cli("changes", *target, "--run", "latest", "--json", env=cli_env)
    as_text = run_cli("changes", *target, "--since", "1h", env=cli_env)

    # Then exactly the retitle is listed for that run, and the text names it
    assert as_json.returncode == 0, as_json.stderr
    listed = json.loads(as_json.stdout)
    assert listed["run_id"] == second_run
    assert [(c["detail_type"], c["changed"]) for c in listed["changes"]] == [
        ("Event Updated", ["title"])
    ]
    assert listed["changes"][0]["after"]["title"] == "Retitled Show"
    assert as_text.returncode == 0, as_text.stderr
    assert "1 updated" in as_text.stdout
    assert "Retitled Show" in as_text.stdout


@pytest.mark.parametrize("since", ["last tuesday", "2026-13-40", "5 weeks"])
def test_cli_changes_bad_since_is_a_usage_error(deployment, moto_endpoint, cli_env, since):
    # When --since is not a time the command knows
    result = run_cli(
        "changes", "--endpoint-url", moto_endpoint, "--env", "test", "--since", since, env=cli_env
    )

    # Then it exits 2 with one line naming the grammar
    assert result.returncode == 2
    assert "--since" in result.stderr and "24h" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
