"""The client factory's endpoints, the boto3 way: no request leaves the process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from villages_sync.aws.clients import _cached_clients, aws_clients

MOTO = "http://127.0.0.1:4566"
DYNAMODB_LOCAL = "http://127.0.0.1:8000"
NOWHERE = "http://127.0.0.1:9"
ENDPOINT_VARS = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ENDPOINT_VARS:
        monkeypatch.delenv(name, raising=False)
    _cached_clients.cache_clear()
    yield
    _cached_clients.cache_clear()


def endpoints(clients) -> tuple[str, str]:
    return clients.dynamodb.meta.endpoint_url, clients.sqs.meta.endpoint_url


def test_aws_clients_service_variables_each_service_goes_to_its_own(monkeypatch):
    # Given the global variable and DynamoDB's own
    monkeypatch.setenv("AWS_ENDPOINT_URL", MOTO)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", DYNAMODB_LOCAL)

    # When clients are made without arguments (as the handlers do)
    clients = aws_clients(region="us-east-1")

    # Then DynamoDB goes to its own endpoint and SQS to the global one
    assert endpoints(clients) == (DYNAMODB_LOCAL, MOTO)


def test_aws_clients_sqs_variable_wins_over_global_for_sqs_only(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", DYNAMODB_LOCAL)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", MOTO)

    clients = aws_clients(region="us-east-1")

    assert endpoints(clients) == (DYNAMODB_LOCAL, MOTO)


def test_aws_clients_explicit_endpoint_wins_over_every_variable_for_both(monkeypatch):
    # Given every variable pointing nowhere
    for name in ENDPOINT_VARS[:3]:
        monkeypatch.setenv(name, NOWHERE)

    # When an endpoint is given (the CLI's --endpoint-url)
    clients = aws_clients(MOTO, "us-east-1")

    # Then both services use it
    assert endpoints(clients) == (MOTO, MOTO)


def test_aws_clients_explicit_dynamodb_endpoint_only_moves_dynamodb(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", NOWHERE)

    clients = aws_clients(MOTO, "us-east-1", dynamodb_endpoint_url=DYNAMODB_LOCAL)

    assert endpoints(clients) == (DYNAMODB_LOCAL, MOTO)


def test_aws_clients_nothing_configured_is_aws_itself():
    clients = aws_clients(region="eu-west-1")

    assert endpoints(clients) == (
        "https://dynamodb.eu-west-1.amazonaws.com",
        "https://sqs.eu-west-1.amazonaws.com",
    )


def test_aws_clients_ignore_configured_endpoints_honoured(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", MOTO)
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")

    clients = aws_clients(region="us-east-1")

    assert endpoints(clients)[0] == "https://dynamodb.us-east-1.amazonaws.com"


def test_aws_clients_from_environment_share_the_explicit_callers_clients(monkeypatch):
    # Given the clients a local deployment made with explicit endpoints
    deployed = aws_clients(MOTO, "us-east-1", dynamodb_endpoint_url=DYNAMODB_LOCAL)

    # When a handler asks for clients and finds the same endpoints in its environment
    monkeypatch.setenv("AWS_ENDPOINT_URL", MOTO)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", MOTO)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", DYNAMODB_LOCAL)
    handlers = aws_clients(region="us-east-1")

    # Then they are the same clients (so the tests' botocore fault hooks reach the handlers)
    assert handlers is deployed


def test_aws_clients_other_endpoint_in_environment_gets_fresh_clients(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", MOTO)
    first = aws_clients(region="us-east-1")

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", DYNAMODB_LOCAL)
    second = aws_clients(region="us-east-1")

    assert second is not first
    assert endpoints(second) == (DYNAMODB_LOCAL, MOTO)
