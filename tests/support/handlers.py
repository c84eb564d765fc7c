"""Tiny Lambda handlers for tests of the local runtime and the SQS event source.

Tests put this directory on sys.path with ``monkeypatch.syspath_prepend`` and invoke these as
``handlers.<name>``, the way Lambda imports a handler from its task root.
"""

from __future__ import annotations

import os
from typing import Any

RUNTIME_VARS = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_EXECUTION_ENV",
    "_HANDLER",
    "LAMBDA_TASK_ROOT",
    "GREETING",
)


def describe_context(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The context's attributes and the environment as the handler sees them."""
    return {
        "function_name": context.function_name,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "env": {name: os.environ.get(name) for name in RUNTIME_VARS},
        "event": event,
    }


def fail(event: dict[str, Any], context: Any) -> None:
    raise ValueError(f"cannot handle {event.get('name', 'this')}")


def not_serialisable(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"when": object()}


def mutate_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    event["added"] = True
    event["items"].append("from handler")
    return {"seen": len(event["items"])}


def returns_none(event: dict[str, Any], context: Any) -> None:
    return None


def sqs_fail_bodies_starting_poison(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An SQS handler with partial batch responses: records whose body starts "poison" fail."""
    failures = [
        {"itemIdentifier": r["messageId"]}
        for r in event["Records"]
        if r["body"].startswith("poison")
    ]
    return {"batchItemFailures": failures}
