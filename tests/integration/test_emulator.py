"""The local emulator: the embedded server, and the shared background one."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import boto3
import pytest
from villages_sync_ops.local.emulator import (
    EmbeddedEmulator,
    ensure_shared_emulator,
    shared_emulator_status,
    stop_shared_emulator,
)

REGION = "us-east-1"


def answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_embedded_emulator_serves_then_stops() -> None:
    # Given an embedded emulator
    with EmbeddedEmulator() as aws:
        endpoint = aws.endpoint_url
        # When a client uses it
        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)
        url = sqs.create_queue(QueueName="probe")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="hello")
        # Then it serves requests on 127.0.0.1
        assert endpoint.startswith("http://127.0.0.1:")
        assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "hello"
    # and once the block ends it no longer answers
    assert not answers(endpoint)


def test_shared_emulator_started_once_shared_and_stopped(tmp_path: Path) -> None:
    # Given no shared emulator in a fresh state directory
    assert shared_emulator_status(tmp_path) is None
    try:
        # When it is ensured twice
        first = ensure_shared_emulator(tmp_path)
        second = ensure_shared_emulator(tmp_path)
        # Then it started once: same URL, and the status reports it
        assert second == first
        status = shared_emulator_status(tmp_path)
        assert status is not None
        assert status.endpoint_url == first
        assert first == f"http://127.0.0.1:{status.port}"
        # and data written with one client is read by another
        writer = boto3.client("dynamodb", endpoint_url=first, region_name=REGION)
        writer.create_table(
            TableName="shared",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        writer.put_item(TableName="shared", Item={"pk": {"S": "a"}, "v": {"S": "kept"}})
        reader = boto3.client("dynamodb", endpoint_url=second, region_name=REGION)
        item = reader.get_item(TableName="shared", Key={"pk": {"S": "a"}})["Item"]
        assert item["v"] == {"S": "kept"}
    finally:
        stopped = stop_shared_emulator(tmp_path)
    # When stopped, it was running, no longer answers and the status is None
    assert stopped is True
    assert not answers(first)
    assert shared_emulator_status(tmp_path) is None
    assert stop_shared_emulator(tmp_path) is False


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"pid": 1}',
        '{"pid": 999999999, "port": 1, "endpoint_url": "http://127.0.0.1:1", "started_at": 0}',
    ],
)
def test_shared_emulator_status_stale_state_file_none(tmp_path: Path, content: str) -> None:
    # Given a state file that is corrupt or names a process that is gone
    (tmp_path / "emulator.json").write_text(content)
    # When the status is read
    # Then there is no running emulator
    assert shared_emulator_status(tmp_path) is None


def test_embedded_emulator_second_in_same_process_starts_empty() -> None:
    # Given a queue created in one embedded emulator
    from villages_sync_ops.local.emulator import EmbeddedEmulator

    with EmbeddedEmulator() as first:
        boto3.client("sqs", endpoint_url=first.endpoint_url).create_queue(QueueName="left-over")

    # When another embedded emulator starts in the same process
    with EmbeddedEmulator() as second:
        queues = boto3.client("sqs", endpoint_url=second.endpoint_url).list_queues()

    # Then it has none of the first one's data (moto's state is per process)
    assert queues.get("QueueUrls", []) == []
