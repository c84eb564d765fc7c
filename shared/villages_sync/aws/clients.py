"""AWS client factory: boto3 resolves region, credentials and ``AWS_ENDPOINT_URL`` itself.

Clients are created on first use (never at import time) and cached per endpoint and region,
so a warm Lambda reuses its connections and a test that points elsewhere gets fresh ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

# Adaptive retry mode backs off on throttling (DynamoDB, SQS) with a client-side rate limiter;
# the pool is sized for the consumer's parallel writes.
_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8}, max_pool_connections=32)


@dataclass(frozen=True, slots=True)
class AwsClients:
    dynamodb: Any
    sqs: Any


def aws_clients(endpoint_url: str | None = None, region: str | None = None) -> AwsClients:
    """Clients for the given endpoint (default: ``AWS_ENDPOINT_URL`` or AWS itself)."""
    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return _cached_clients(endpoint, region)


@lru_cache(maxsize=8)
def _cached_clients(endpoint_url: str | None, region: str | None) -> AwsClients:
    session = boto3.session.Session(region_name=region)
    return AwsClients(
        dynamodb=session.client("dynamodb", endpoint_url=endpoint_url, config=_CONFIG),
        sqs=session.client("sqs", endpoint_url=endpoint_url, config=_CONFIG),
    )
