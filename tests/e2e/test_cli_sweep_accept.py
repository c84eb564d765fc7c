"""`villages-sync sweep accept`: an operator runs a refused sweep deliberately, as a user would."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from support.cli import run_cli
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import RunningCalendar


def _sync(base_url: str, endpoint: str, env: dict[str, str]):
    return run_cli(
        "sync", "--endpoint-url", endpoint, "--env", "test", "--calendar-base-url", base_url,
        "--json", env=env,
    )  # fmt: skip


def test_cli_sweep_accept_refused_run_sweeps_and_becomes_baseline(moto_endpoint, cli_env):
    # Given a synced calendar that then serves only half its events (a refused sweep)
    events = generate_events(200, seed=81, today=datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date())
    with RunningCalendar(events) as calendar:
        first = _sync(calendar.base_url, moto_endpoint, cli_env)
        calendar.set_events(events[:100])
        halved = _sync(calendar.base_url, moto_endpoint, cli_env)
        halved_run = json.loads(halved.stdout)["run"]

        # When the operator accepts it (wrongly typed first, then properly), and syncs again
        unknown = run_cli(
            "sweep", "accept", "20990101T000000.000000Z-nosuch", "--reason", "x",
            "--endpoint-url", moto_endpoint, "--env", "test", env=cli_env,
        )  # fmt: skip
        accepted = run_cli(
            "sweep", "accept", halved_run["run_id"], "--reason", "the calendar really halved",
            "--by", "ops@test", "--endpoint-url", moto_endpoint, "--env", "test", env=cli_env,
        )  # fmt: skip
        again = run_cli(
            "sweep", "accept", halved_run["run_id"], "--reason", "twice",
            "--endpoint-url", moto_endpoint, "--env", "test", env=cli_env,
        )  # fmt: skip
        status = run_cli(
            "status", "--endpoint-url", moto_endpoint, "--env", "test", "--json", env=cli_env
        )
        next_run = _sync(calendar.base_url, moto_endpoint, cli_env)

    # Then the halved run was refused (exit 3) with a reason, nothing deleted
    assert first.returncode == 0, first.stderr
    assert halved.returncode == 3, halved.stdout
    assert halved_run["sweep"] == "refused" and halved_run["deleted"] == 0
    assert "too_many_deletions_in_window" in halved_run["sweep_reason"]
    # and the accept ran its sweep (first misses only: two-strike still applies), recorded
    # who and why, and cannot be repeated; an unknown run is one clear error line
    assert unknown.returncode == 1 and "has no record" in unknown.stderr
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "accepted by ops@test" in accepted.stdout
    # (issue 18 case 3 / issue 20: the original refusal and what the accept waives are shown
    # before it acts, and the original refusal is kept beside the accept)
    assert f"sweep refused: {halved_run['sweep_reason']}" in accepted.stdout
    assert "waives      too_many_deletions_in_window" in accepted.stdout
    assert "never       " in accepted.stdout
    assert again.returncode == 1 and "no refused sweep to accept" in again.stderr
    record = next(
        r for r in json.loads(status.stdout)["runs"] if r["run_id"] == halved_run["run_id"]
    )
    assert (record["sweep"], record["accepted_by"]) == ("swept", "ops@test")
    assert record["accept_reason"] == "the calendar really halved" and record["missed"] > 0
    assert record["refused_reason"] == halved_run["sweep_reason"]
    assert record["accept_waives"] == ["too_many_deletions_in_window"]
    # and the accepted run is the new baseline: the next run at the same size sweeps, deleting
    # the events missed twice in a row
    next_record = json.loads(next_run.stdout)["run"]
    assert next_run.returncode == 0, next_run.stdout
    assert next_record["sweep"] == "swept" and next_record["deleted"] == record["missed"]
