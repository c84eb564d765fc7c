"""Fixtures every tier shares: a moto server over HTTP on 127.0.0.1, and fake AWS credentials."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
SUPPORT = Path(__file__).resolve().parent / "support"


@pytest.fixture(scope="session", autouse=True)
def _aws_credentials() -> Iterator[None]:
    """Fake credentials, so nothing here can reach a real AWS account."""
    saved = {k: os.environ.get(k) for k in _AWS_VARS}
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


_AWS_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """One moto server for the session, on a free loopback port; its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_endpoint(moto_server: str) -> Iterator[str]:
    """The session's moto server, emptied before each test so tests never see each other's data."""
    import requests

    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    yield moto_server


@pytest.fixture
def dynamodb(moto_endpoint: str):
    return boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture
def sqs(moto_endpoint: str):
    return boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture
def deployment(moto_endpoint: str):
    """The template's tables and queues, created in the (freshly reset) moto server."""
    from villages_sync.local.pipeline import deploy_locally

    return deploy_locally(moto_endpoint, environment="test", region=REGION)


@pytest.fixture
def make_item():
    """Builds a valid stored event (EventItem) with overridable fields."""
    from villages_sync.normalise import content_hash_of

    def build(event_id: str = "1001", **fields):
        item = {
            "event_id": event_id,
            "title": f"Concert {event_id}",
            "description": "A band on the square.",
            "event_date": "2026-11-24",
            "start_time": "17:00",
            "end_time": "21:00",
            "location": "Spanish Springs Town Square",
            "category": "entertainment",
            "last_updated": 1795000000,
            "ttl": 1802800000,
            "start_iso": "2026-11-24T17:00:00-05:00",
            "all_day": False,
            "cancelled": False,
            "featured": False,
            "subcategories": ["classic-rock"],
        }
        item.update(fields)
        item.pop("content_hash", None)
        item["content_hash"] = content_hash_of(item)
        return item

    return build


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """template.yaml, parsed (once per test module)."""
    from villages_sync.local.template import load_template

    return load_template()


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> str:
    """The tests' handler module importable as ``handlers``, as from a Lambda task root."""
    monkeypatch.syspath_prepend(str(SUPPORT))
    monkeypatch.delitem(sys.modules, "handlers", raising=False)
    return "handlers"
