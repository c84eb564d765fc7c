"""The local Lambda runtime: context, environment, JSON in and out, Lambda's error shape."""

from __future__ import annotations

import os
import re
import time
import uuid
from typing import Any

import pytest
from villages_sync_ops.local.lambda_runtime import LambdaContext, invoke, make_context


def run(handler: str, event: dict[str, Any], **overrides: Any):
    options: dict[str, Any] = {
        "env": {"GREETING": "hello"},
        "function_name": "villages-consumer-test",
        "timeout_seconds": 30,
        "memory_mb": 256,
        "region": "eu-west-1",
    }
    options.update(overrides)
    return invoke(handler, event, **options)


def test_make_context_fields_lambda_shape() -> None:
    # Given a function's settings
    # When a context is made
    context = make_context("sync-fn", timeout_seconds=60, memory_mb=512, region="us-west-2")
    # Then it has Lambda's attributes, in Lambda's formats
    assert isinstance(context, LambdaContext)
    assert context.function_name == "sync-fn"
    assert context.invoked_function_arn == "arn:aws:lambda:us-west-2:123456789012:function:sync-fn"
    assert context.memory_limit_in_mb == 512
    assert str(uuid.UUID(context.aws_request_id)) == context.aws_request_id
    assert context.log_group_name == "/aws/lambda/sync-fn"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", context.log_stream_name)
    assert context.function_version == "$LATEST"


def test_make_context_remaining_time_decreasing_and_within_timeout() -> None:
    # Given a fresh context with a 2 s timeout
    context = make_context("fn", timeout_seconds=2, memory_mb=128, region="us-east-1")
    first = context.get_remaining_time_in_millis()
    # When time passes (polled with a deadline, no sleep)
    deadline = time.monotonic() + 1.0
    later = first
    while later >= first and time.monotonic() < deadline:
        later = context.get_remaining_time_in_millis()
    # Then the remaining time is at most the timeout and goes down
    assert 1900 <= first <= 2000
    assert later < first


def test_make_context_past_deadline_remaining_zero() -> None:
    # Given a context with no time at all
    context = make_context("fn", timeout_seconds=-1, memory_mb=128, region="us-east-1")
    # When asked for the remaining time
    # Then it is 0, never negative
    assert context.get_remaining_time_in_millis() == 0


def test_invoke_handler_sees_context_env_and_runtime_vars(handlers: str) -> None:
    # Given a handler that reports what it sees
    # When it is invoked
    result = run(f"{handlers}.describe_context", {"name": "probe"})
    # Then it saw the function's env, Lambda's runtime variables and a consistent context
    assert result.succeeded
    seen = result.payload
    assert seen["event"] == {"name": "probe"}
    assert seen["function_name"] == "villages-consumer-test"
    assert seen["invoked_function_arn"] == (
        "arn:aws:lambda:eu-west-1:123456789012:function:villages-consumer-test"
    )
    assert seen["memory_limit_in_mb"] == 256
    assert seen["aws_request_id"] == result.request_id
    assert 0 < seen["remaining_ms"] <= 30_000
    assert seen["env"] == {
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": "villages-consumer-test",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/villages-consumer-test",
        "AWS_LAMBDA_LOG_STREAM_NAME": seen["log_stream_name"],
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "_HANDLER": "handlers.describe_context",
        "LAMBDA_TASK_ROOT": os.getcwd(),
        "GREETING": "hello",
    }


def test_invoke_after_call_environment_restored(
    handlers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a process environment with its own values
    monkeypatch.setenv("GREETING", "outer")
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("_HANDLER", raising=False)
    before = dict(os.environ)
    # When a function with other values is invoked (successfully, then failing)
    ok = run(f"{handlers}.describe_context", {})
    failed = run(f"{handlers}.fail", {})
    # Then the handler saw its own values and the environment is exactly as before
    assert ok.payload["env"]["GREETING"] == "hello"
    assert not failed.succeeded
    assert dict(os.environ) == before
    assert os.environ["GREETING"] == "outer"
    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ
    assert "_HANDLER" not in os.environ


def test_invoke_handler_raises_lambda_error_shape(handlers: str) -> None:
    # Given a handler that raises
    # When it is invoked
    result = run(f"{handlers}.fail", {"name": "event 7"})
    # Then the invocation carries Lambda's error shape and no payload
    assert result.payload is None
    assert not result.succeeded
    assert result.error is not None
    assert result.error["errorType"] == "ValueError"
    assert result.error["errorMessage"] == "cannot handle event 7"
    assert isinstance(result.error["stackTrace"], list)
    assert any("handlers.py" in line for line in result.error["stackTrace"])


@pytest.mark.parametrize(
    ("handler", "error_type"),
    [
        ("handlers.not_serialisable", "TypeError"),
        ("handlers.no_such_function", "AttributeError"),
        ("no_such_module_here.handler", "ModuleNotFoundError"),
    ],
)
def test_invoke_bad_result_or_handler_error(handlers: str, handler: str, error_type: str) -> None:
    # Given a handler whose result is not JSON, or that does not exist
    # When it is invoked
    result = run(handler, {})
    # Then the invocation is an error of that type, with no payload
    assert result.payload is None
    assert result.error is not None
    assert result.error["errorType"] == error_type


def test_invoke_returns_none_payload_none_success(handlers: str) -> None:
    # Given a handler that returns nothing
    # When it is invoked
    result = run(f"{handlers}.returns_none", {})
    # Then it succeeded with a None payload
    assert result.succeeded
    assert result.payload is None
    assert result.duration_ms >= 0


def test_invoke_handler_mutates_event_caller_copy_unchanged(handlers: str) -> None:
    # Given an event the handler will mutate
    event = {"items": ["from caller"]}
    # When it is invoked
    result = run(f"{handlers}.mutate_event", event)
    # Then the handler saw its own copy and the caller's event is unchanged
    assert result.payload == {"seen": 2}
    assert event == {"items": ["from caller"]}


def test_invoke_ran_past_timeout_reported_as_timeout(handlers: str) -> None:
    # Given a timeout that is already over when the handler returns
    # When it is invoked
    result = run(f"{handlers}.returns_none", {}, timeout_seconds=0)
    # Then it is reported as Lambda reports a timeout
    assert result.payload is None
    assert result.error is not None
    assert result.error["errorType"] == "Sandbox.Timedout"
