"""AWS client factory: boto3 resolves region, credentials and endpoints itself.

Endpoints, the boto3 way: an explicit URL wins; otherwise ``AWS_ENDPOINT_URL_DYNAMODB`` /
``AWS_ENDPOINT_URL_SQS``, then ``AWS_ENDPOINT_URL`` (then the shared config file), all resolved by
boto3 itself, so DynamoDB and SQS may live at different endpoints (DynamoDB Local beside moto).

Clients are created on first use (never at import time) and cached per endpoint and region,
so a warm Lambda reuses its connections and a test that points elsewhere gets fresh ones. The
cache key is the endpoint a client will use, however it was named (argument or environment):
a handler that finds its endpoints in the environment shares the clients, and so any botocore
event hooks, of the local deployment that passed the same URLs as arguments.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import (  # Any: the S3 client (no S3 stubs: one PutObject, one GetObject)
    TYPE_CHECKING,
    Any,
)

import boto3
from botocore.config import Config

if TYPE_CHECKING:  # the stubs are a development dependency, not the functions'
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient


# Adaptive retry mode backs off on throttling (DynamoDB, SQS) with a client-side rate limiter;
# the pool is sized for the consumer's parallel writes.
_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8}, max_pool_connections=32)


@dataclass(frozen=True, slots=True)
class AwsClients:
    dynamodb: DynamoDBClient
    sqs: SQSClient


def aws_clients(
    endpoint_url: str | None = None,
    region: str | None = None,
    *,
    dynamodb_endpoint_url: str | None = None,
) -> AwsClients:
    """Clients for the given endpoints (default: what boto3 finds in the environment).

    ``endpoint_url`` applies to both services unless ``dynamodb_endpoint_url`` is given.
    """
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return _cached_clients(
        dynamodb_endpoint_url or endpoint_url or configured_endpoint("dynamodb"),
        endpoint_url or configured_endpoint("sqs"),
        region,
    )


def configured_endpoint(service: str) -> str | None:
    """The endpoint boto3 takes from the environment for ``service`` (None: it decides)."""
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() == "true":
        return None
    specific = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}", "").strip()
    return specific or os.environ.get("AWS_ENDPOINT_URL", "").strip() or None


@lru_cache(maxsize=8)
def _cached_clients(
    dynamodb_endpoint: str | None, sqs_endpoint: str | None, region: str | None
) -> AwsClients:
    session = boto3.session.Session(region_name=region)
    return AwsClients(
        dynamodb=session.client(
            "dynamodb", endpoint_url=_explicit(dynamodb_endpoint, "dynamodb"), config=_CONFIG
        ),
        sqs=session.client("sqs", endpoint_url=_explicit(sqs_endpoint, "sqs"), config=_CONFIG),
    )


def _explicit(endpoint: str | None, service: str) -> str | None:
    """Pass an endpoint to boto3 only when its own resolution would not arrive at it."""
    return None if endpoint == configured_endpoint(service) else endpoint


def s3_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """An S3 client (the raw-pages bucket), made only where one is needed: the producer when
    capture is on, ``runs capture``. Path-style addressing at an explicit endpoint (an
    emulator on 127.0.0.1 has no bucket subdomains)."""
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return _cached_s3(endpoint_url or configured_endpoint("s3"), region)


@lru_cache(maxsize=8)
def _cached_s3(endpoint: str | None, region: str | None) -> Any:
    config = _CONFIG
    if endpoint:
        config = config.merge(Config(s3={"addressing_style": "path"}))
    session = boto3.session.Session(region_name=region)
    return session.client("s3", endpoint_url=_explicit(endpoint, "s3"), config=config)


def events_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """An EventBridge client (the changes bus), made only where one is needed: the change feed
    and the tests that read the bus."""
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return _cached_events(endpoint_url or configured_endpoint("events"), region)


@lru_cache(maxsize=8)
def _cached_events(endpoint: str | None, region: str | None) -> Any:
    session = boto3.session.Session(region_name=region)
    return session.client("events", endpoint_url=_explicit(endpoint, "events"), config=_CONFIG)
