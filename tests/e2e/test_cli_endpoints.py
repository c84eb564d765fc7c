"""DynamoDB at its own endpoint: where `villages-sync` puts tables and queues, shown by where
they are afterwards. On the moto backend the DynamoDB endpoint is a second moto server (its own
process, so its own data); on the local backend it is DynamoDB Local."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import boto3
import pytest
import requests
from support.cli import run_cli
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.local.emulator import moto_process
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import RunningCalendar

REGION = "us-east-1"
NOWHERE = "http://127.0.0.1:9"  # nothing listens on the discard port


@pytest.fixture(scope="module")
def second_moto() -> Iterator[str]:
    with moto_process() as moto:
        yield moto.endpoint_url


@pytest.fixture
def separate_dynamodb(
    dynamodb_backend: str, dynamodb_endpoint: str, request: pytest.FixtureRequest
) -> str:
    """An empty DynamoDB endpoint that is not the SQS one (moto_endpoint)."""
    if dynamodb_backend == "local":
        return dynamodb_endpoint
    endpoint = str(request.getfixturevalue("second_moto"))
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)
    return endpoint


@pytest.fixture
def calendar_events():
    return generate_events(300, seed=11, today=datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date())


def where_things_are(sqs_endpoint: str, dynamodb_endpoint: str) -> dict[str, list[str]]:
    def tables(endpoint: str) -> list[str]:
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
        return sorted(client.list_tables()["TableNames"])

    sqs = boto3.client("sqs", endpoint_url=sqs_endpoint, region_name=REGION)
    return {
        "tables at the DynamoDB endpoint": tables(dynamodb_endpoint),
        "tables at the SQS endpoint": tables(sqs_endpoint),
        "queues at the SQS endpoint": sorted(
            url.rsplit("/", 1)[1] for url in sqs.list_queues().get("QueueUrls", [])
        ),
    }


def item_count(dynamodb_endpoint: str, table: str) -> int:
    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name=REGION)
    return client.scan(TableName=table, Select="COUNT")["Count"]


def test_cli_sync_dynamodb_endpoint_variable_tables_there_queues_at_endpoint_url(
    moto_endpoint, separate_dynamodb, cli_env, calendar_events
):
    # Given AWS_ENDPOINT_URL at moto and AWS_ENDPOINT_URL_DYNAMODB at another endpoint
    env = {
        **cli_env,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": separate_dynamodb,
    }

    # When a user syncs, then lists today's events, with no endpoint flags
    with RunningCalendar(calendar_events) as calendar:
        sync = run_cli(
            "sync", "--env", "e2e", "--calendar-base-url", calendar.base_url, "--json", env=env
        )
    events = run_cli("events", "--env", "e2e", "--json", env=env)

    # Then the run completed; the tables (with the events) are at the DynamoDB endpoint only,
    # the queues at AWS_ENDPOINT_URL; and the read path found the events there
    assert sync.returncode == 0, sync.stderr + sync.stdout
    assert json.loads(sync.stdout)["run"]["status"] == "completed"
    found = where_things_are(moto_endpoint, separate_dynamodb)
    assert found["tables at the DynamoDB endpoint"] == [
        "villages-events-e2e",
        "villages-sync-changes-e2e",
        "villages-sync-reminders-e2e",
        "villages-sync-runs-e2e",
    ]
    assert found["tables at the SQS endpoint"] == []
    assert len(found["queues at the SQS endpoint"]) == 7
    assert item_count(separate_dynamodb, "villages-events-e2e") > 0
    assert events.returncode == 0, events.stderr
    assert json.loads(events.stdout)["date"]


def test_cli_sync_dynamodb_endpoint_flag_wins_over_every_variable(
    moto_endpoint, separate_dynamodb, cli_env, calendar_events
):
    # Given every endpoint variable pointing nowhere
    env = {
        **cli_env,
        "AWS_ENDPOINT_URL": NOWHERE,
        "AWS_ENDPOINT_URL_SQS": NOWHERE,
        "AWS_ENDPOINT_URL_DYNAMODB": NOWHERE,
    }
    flags = ["--endpoint-url", moto_endpoint, "--dynamodb-endpoint-url", separate_dynamodb]

    # When a user syncs and asks for the status with both flags
    with RunningCalendar(calendar_events) as calendar:
        sync = run_cli(
            "sync", *flags, "--env", "e2e", "--calendar-base-url", calendar.base_url, env=env
        )
    status = run_cli("status", *flags, "--env", "e2e", "--json", env=env)

    # Then DynamoDB calls went to the DynamoDB flag's endpoint, SQS calls to --endpoint-url
    assert sync.returncode == 0, sync.stderr + sync.stdout
    found = where_things_are(moto_endpoint, separate_dynamodb)
    assert found["tables at the DynamoDB endpoint"] == [
        "villages-events-e2e",
        "villages-sync-changes-e2e",
        "villages-sync-reminders-e2e",
        "villages-sync-runs-e2e",
    ]
    assert found["tables at the SQS endpoint"] == []
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["runs"][0]["status"] == "completed"
    assert separate_dynamodb in state["target"]


def test_cli_endpoint_url_flag_alone_serves_both_despite_dynamodb_variable(moto_endpoint, cli_env):
    # Given the template's tables and queues at one endpoint, AWS_ENDPOINT_URL_DYNAMODB pointing
    # nowhere, and only --endpoint-url given
    from villages_sync_ops.local.pipeline import deploy_locally

    deploy_locally(moto_endpoint, environment="e2e", region="us-east-1")
    env = {**cli_env, "AWS_ENDPOINT_URL_DYNAMODB": NOWHERE}

    # When status reads them (read-only: it finds the tables where it looks, or exits 1)
    result = run_cli("status", "--endpoint-url", moto_endpoint, "--env", "e2e", "--json", env=env)

    # Then the flag's endpoint served DynamoDB too: the tables were found and read
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["runs"] == []
    found = where_things_are(moto_endpoint, moto_endpoint)
    assert "villages-sync-runs-e2e" in found["tables at the SQS endpoint"]
