"""`calendar record` then `calendar serve --replay`: a recorded scrape synced again stores
exactly what the sync of the recorded site stored; bad cassettes and exhausted replays."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import pytest
from support.cli import CLI, run_cli
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.replay import RunningReplay
from villages_sync_ops.standin.server import DEFAULT_TOKEN, Faults, RunningCalendar

FAST = {"BACKOFF_BASE_SECONDS": "0.01", "BACKOFF_MAX_SECONDS": "0.05"}
VOLATILE = ("last_updated", "run_id")  # which run wrote the item, and when


@pytest.fixture
def calendar_events() -> list[dict]:
    return generate_events(260, seed=22, today=datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date())


def stored_events(endpoint: str, env: str) -> dict[str, dict]:
    table = boto3.resource("dynamodb", endpoint_url=endpoint).Table(f"villages-events-{env}")
    items: list[dict] = []
    kwargs: dict = {}
    while True:
        page = table.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return {
        str(item["event_id"]): {k: v for k, v in item.items() if k not in VOLATILE}
        for item in items
    }


def sync(endpoint: str, base_url: str, env_name: str, cli_env: dict[str, str]) -> dict:
    result = run_cli(
        "sync", "--endpoint-url", endpoint, "--env", env_name, "--calendar-base-url", base_url,
        "--json", "--quiet", env={**cli_env, **FAST},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_record_then_replay_stores_what_the_recorded_sync_stored(
    moto_endpoint: str, cli_env: dict[str, str], calendar_events: list[dict], tmp_path: Path
) -> None:
    cassette = tmp_path / "scrape.yaml"
    # Given a stand-in whose first events request fails once, recorded by `calendar record`
    with RunningCalendar(calendar_events, faults=Faults(fail_first_n=1)) as calendar:
        recorded = run_cli(
            "calendar", "record", "--base-url", calendar, "--out", str(cassette),
            env={**cli_env, **FAST},
        )  # fmt: skip
        # and a sync of that site (its data unchanged since)
        calendar.faults.fail_first_n = 0
        original = sync(moto_endpoint, calendar, "rec", cli_env)

    # When the recording is replayed and synced into another environment
    with RunningReplay(cassette) as replay_url:
        replayed = sync(moto_endpoint, replay_url, "replay", cli_env)

    # Then the recording kept the retry, redacted its secrets, and the two stores are equal
    assert recorded.returncode == 0, recorded.stderr
    assert "1 retries" in recorded.stdout
    text = cassette.read_text()
    assert text.count("code: 500") == 1
    assert DEFAULT_TOKEN not in text and "REDACTED_TOKEN" in text
    assert "tv_calendar_session=[redacted]" in text
    stored = stored_events(moto_endpoint, "rec")
    assert len(stored) > 100
    replayed_items = stored_events(moto_endpoint, "replay")
    differing = {
        k for e in stored for k in stored[e] if stored[e][k] != replayed_items.get(e, {}).get(k)
    }
    assert differing == set(), differing
    assert replayed_items == stored
    assert replayed["run"]["status"] == original["run"]["status"] == "completed"


def test_replay_past_its_recording_answers_404_and_sync_reports_the_calendar(
    moto_endpoint: str, cli_env: dict[str, str], calendar_events: list[dict], tmp_path: Path
) -> None:
    cassette = tmp_path / "scrape.yaml"
    with RunningCalendar(calendar_events) as calendar:
        run_cli("calendar", "record", "--base-url", calendar, "--out", str(cassette), env=cli_env)
    with RunningReplay(cassette) as replay_url:
        first = run_cli(
            "sync", "--endpoint-url", moto_endpoint, "--calendar-base-url", replay_url,
            "--quiet", env={**cli_env, **FAST},
        )  # fmt: skip
        # When a second sync asks the same replay again: every page is used up
        second = run_cli(
            "sync", "--endpoint-url", moto_endpoint, "--calendar-base-url", replay_url,
            "--quiet", env={**cli_env, **FAST},
        )  # fmt: skip

    assert first.returncode == 0, first.stderr
    assert second.returncode == 1
    assert "Traceback" not in second.stderr
    assert "HTTP 404" in second.stderr + second.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("just some text\n", "not a cassette (no 'interactions')"),
        ("interactions:\n- request: {method: GET, uri: 'http://x/'\n", "YAML breaks"),
        ("interactions:\n- request: {method: GET}\n  response: {}\nversion: 1\n", "incomplete"),
        ("interactions: []\nversion: 2\n", "cassette version 2"),
    ],
    ids=["not a cassette", "truncated", "incomplete", "version"],
)
def test_serve_replay_bad_cassette_one_line_exit_2(
    cli_env: dict[str, str], tmp_path: Path, content: str, message: str
) -> None:
    cassette = tmp_path / "bad.yaml"
    cassette.write_text(content)

    result = run_cli("calendar", "serve", "--replay", str(cassette), "--port", "0", env=cli_env)

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def test_serve_replay_unrecorded_request_is_a_404_naming_it(
    cli_env: dict[str, str], calendar_events: list[dict], tmp_path: Path
) -> None:
    import urllib.error
    import urllib.request

    cassette = tmp_path / "scrape.yaml"
    with RunningCalendar(calendar_events) as calendar:
        run_cli("calendar", "record", "--base-url", calendar, "--out", str(cassette), env=cli_env)
    process = subprocess.Popen(
        [*CLI, "calendar", "serve", "--replay", str(cassette), "--port", "0"],
        env=cli_env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline() if process.stdout else ""
        base_url = line.split(" at ")[1].split(" ")[0]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base_url}/events/?startRow=5&endRow=6", timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert refused.value.code == 404
    assert "GET /events/?startRow=5&endRow=6 not recorded" in refused.value.read().decode()


def test_record_with_nothing_answering_writes_nothing_and_says_so(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    # Given a base URL where nothing listens (port 9 on the loopback: discard, never served)
    cassette = tmp_path / "none.yaml"

    result = run_cli(
        "calendar", "record", "--base-url", "http://127.0.0.1:9", "--out", str(cassette),
        env={**cli_env, **FAST},
    )  # fmt: skip

    assert result.returncode == 1
    assert not cassette.exists()
    assert "nothing answered, no cassette written" in result.stderr
    assert "Traceback" not in result.stderr
