"""Moving dead letters back to their source queue, losing nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:  # the stubs are a development dependency, not the functions'
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        DeleteMessageBatchRequestEntryTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )


MOVE_TASK = "message-move-task"
RECEIVE_SEND_DELETE = "receive-send-delete"
_UNSUPPORTED = {
    "UnsupportedOperation",
    "InvalidAction",
    "NotImplemented",
    "UnknownOperationException",
}


@dataclass(frozen=True)
class ReplayReport:
    moved: int
    failed: int
    dry_run: bool
    method: str
    remaining_in_dlq: int


def replay_dlq(
    sqs: SQSClient,
    *,
    dlq_url: str,
    source_url: str,
    dry_run: bool = False,
    max_messages: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Move messages from ``dlq_url`` to ``source_url``.

    StartMessageMoveTask where the endpoint has it (and no ``max_messages`` is asked: the task
    cannot stop at a count); otherwise receive, send, then delete only what was sent. A crash
    between send and delete leaves a duplicate, never a loss: the consumer is idempotent.
    """
    waiting = _visible(sqs, dlq_url)
    if dry_run:
        count = waiting if max_messages is None else min(waiting, max_messages)
        return ReplayReport(count, 0, True, RECEIVE_SEND_DELETE, waiting)
    if max_messages is None and waiting and _start_move_task(sqs, dlq_url, source_url):
        return ReplayReport(waiting, 0, False, MOVE_TASK, _visible(sqs, dlq_url))
    moved = failed = 0
    limit = max_messages if max_messages is not None else float("inf")
    while moved < limit:
        received = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=int(min(10, limit - moved)),
            MessageAttributeNames=["All"],
            VisibilityTimeout=60,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not received:
            break
        entries: list[SendMessageBatchRequestEntryTypeDef] = []
        for index, message in enumerate(received):
            entry: SendMessageBatchRequestEntryTypeDef = {
                "Id": str(index),
                "MessageBody": message["Body"],
            }
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            entries.append(entry)
        result = sqs.send_message_batch(QueueUrl=source_url, Entries=entries)
        sent = {item["Id"] for item in result.get("Successful", [])}
        failed += len(result.get("Failed", []))
        done: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(received)
            if str(i) in sent
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=dlq_url, Entries=done)
        moved += len(done)
        if on_progress:
            on_progress(moved)
        if result.get("Failed"):
            break  # leave the rest where it is and report it
    return ReplayReport(moved, failed, False, RECEIVE_SEND_DELETE, _visible(sqs, dlq_url))


def _start_move_task(sqs: SQSClient, dlq_url: str, source_url: str) -> bool:
    """Ask SQS to move the messages itself; False where the endpoint cannot (emulators).

    Falling back is always safe, so any server error falls back too (moto answers the action
    with HTTP 500). Give this a client with few retries: the caller decides how patient to be.
    """
    try:
        sqs.start_message_move_task(
            SourceArn=_arn(sqs, dlq_url), DestinationArn=_arn(sqs, source_url)
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _UNSUPPORTED or code in ("500", "501") or status >= 500:
            return False
        raise
    return True


def _visible(sqs: SQSClient, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _arn(sqs: SQSClient, url: str) -> str:
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return arn
