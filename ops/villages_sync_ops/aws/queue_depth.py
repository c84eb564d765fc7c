"""How many messages each queue holds: visible, in flight, delayed."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # the stubs are a development dependency, not the functions'
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType


_ATTRIBUTES: tuple[QueueAttributeNameType, ...] = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


@dataclass(frozen=True)
class QueueDepth:
    name: str
    url: str
    visible: int
    in_flight: int
    delayed: int
    is_dlq: bool


def queue_depths(
    sqs: SQSClient, queues: Mapping[str, str], *, dlq_names: Collection[str] = ()
) -> list[QueueDepth]:
    depths = []
    for name, url in queues.items():
        # By name: the stubs type the answer's keys as the names SQS may return.
        attributes = cast(
            "Mapping[str, str]",
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(_ATTRIBUTES))["Attributes"],
        )
        visible, in_flight, delayed = (int(attributes.get(a, 0)) for a in _ATTRIBUTES)
        depths.append(QueueDepth(name, url, visible, in_flight, delayed, name in dlq_names))
    return depths
