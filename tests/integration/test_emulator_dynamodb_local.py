"""The shared emulator with DynamoDB Local beside moto, and DynamoDB Local's own start-up."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import boto3
import pytest
from villages_sync_ops.local import dynamodb_local
from villages_sync_ops.local.emulator import (
    answers,
    ensure_shared_emulator,
    shared_emulator_status,
    stop_shared_emulator,
)

REGION = "us-east-1"
KEYS = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def listening_addresses(pid: int) -> set[str]:
    """Local addresses of the TCP sockets ``pid`` listens on (from ss)."""
    output = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    return {line.split()[3] for line in output.splitlines() if f"pid={pid}," in line}


def test_shared_emulator_dynamodb_local_serves_dynamodb_beside_moto(
    requires_dynamodb_local, tmp_path: Path
) -> None:
    # Given a fresh state directory
    try:
        # When the shared emulator starts with DynamoDB Local, and a table is created through it
        moto = ensure_shared_emulator(tmp_path, dynamodb="local")
        status = shared_emulator_status(tmp_path)
        assert status is not None
        boto3.client("dynamodb", endpoint_url=status.dynamodb_url, region_name=REGION).create_table(
            TableName="in-dynamodb-local", **KEYS
        )
        in_moto = boto3.client("dynamodb", endpoint_url=moto, region_name=REGION).list_tables()

        # Then DynamoDB Local (its own process, port and log) holds the table, moto does not,
        assert status.dynamodb == "local"
        assert status.dynamodb_pid not in (0, status.pid)
        assert status.dynamodb_url.startswith("http://127.0.0.1:")
        assert status.dynamodb_url != moto
        assert in_moto["TableNames"] == []
        assert (tmp_path / "dynamodb-local.log").exists()
        # it listens on loopback only,
        port = status.dynamodb_url.rsplit(":", 1)[1]
        addresses = listening_addresses(status.dynamodb_pid)
        assert addresses and all(
            a.endswith(f"127.0.0.1]:{port}") or a == f"127.0.0.1:{port}" for a in addresses
        ), addresses
        # a second start with the same backend is the same emulator, the other one is refused
        assert ensure_shared_emulator(tmp_path, dynamodb="local") == moto
        assert ensure_shared_emulator(tmp_path) == moto
        with pytest.raises(RuntimeError, match="emulator stop"):
            ensure_shared_emulator(tmp_path, dynamodb="moto")
    finally:
        stopped = stop_shared_emulator(tmp_path)

    # When stopped, both processes are gone
    assert stopped is True
    assert not dynamodb_local.answers(status.dynamodb_url)
    assert shared_emulator_status(tmp_path) is None


def test_shared_emulator_dynamodb_local_died_counts_as_stopped_and_restarts(
    requires_dynamodb_local, tmp_path: Path
) -> None:
    # Given a shared emulator whose DynamoDB Local was killed behind its back
    try:
        first = ensure_shared_emulator(tmp_path, dynamodb="local")
        dead = shared_emulator_status(tmp_path)
        assert dead is not None
        os.kill(dead.dynamodb_pid, signal.SIGKILL)

        # When it is asked for again
        assert shared_emulator_status(tmp_path) is None
        second = ensure_shared_emulator(tmp_path, dynamodb="local")

        # Then a whole new one runs, and the old moto half was stopped, not left behind
        fresh = shared_emulator_status(tmp_path)
        assert fresh is not None and fresh.pid != dead.pid
        assert second != first or fresh.dynamodb_pid != dead.dynamodb_pid
        assert not answers(dead.endpoint_url)
    finally:
        stop_shared_emulator(tmp_path)


def test_shared_emulator_dynamodb_local_missing_says_make_dynamodb_local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no jar where DynamoDB Local is looked for
    monkeypatch.setenv(dynamodb_local.DIR_ENV_VAR, str(tmp_path / "nothing-here"))

    # When the shared emulator is asked for DynamoDB Local
    with pytest.raises(dynamodb_local.DynamoDBLocalUnavailable) as raised:
        ensure_shared_emulator(tmp_path / "state", dynamodb="local")

    # Then one line says how to get it, and nothing was started
    assert "make dynamodb-local" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert shared_emulator_status(tmp_path / "state") is None
