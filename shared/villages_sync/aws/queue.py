"""Sending on SQS: message bodies with SendMessageBatch (retrying entries reported as failed)
and sweep requests (``SweepQueue``). The producer's sender that streams bodies from a running
scrape is in ``streaming_sender``: it needs asyncio, which the consumer and the sweep import this
module without (about 40 ms of their cold start)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from villages_sync.messages import SendEntry, plan_send_batches
from villages_sync.run_ids import RunId
from villages_sync.sweep_requests import encode_sweep_request

if TYPE_CHECKING:  # the stubs are a development dependency, not the functions'
    from mypy_boto3_sqs import SQSClient


class SendError(RuntimeError):
    """Some entries could not be sent after every attempt; names the queue and the reasons."""


@dataclass(slots=True)
class SendReport:
    messages: int = 0
    batch_calls: int = 0  # SendMessageBatch requests, retries included
    entry_retries: int = 0


def send_message_bodies(
    sqs: SQSClient,
    queue_url: str,
    bodies: Sequence[str],
    *,
    max_attempts: int = 5,
    backoff_seconds: float = 0.2,
    on_sent: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """Send every body, in batches planned within SQS limits (10 entries, 256 KiB).

    Entries that SQS reports as failed are sent again, with jittered back-off, up to
    ``max_attempts``; sender faults (``SenderFault``) are not retried because they cannot
    succeed. ``on_sent(n)`` reports progress after each batch.
    """
    report = SendReport()
    for batch in plan_send_batches(bodies):
        pending: list[SendEntry] = list(batch)
        for attempt in range(1, max_attempts + 1):
            response = sqs.send_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": entry.id, "MessageBody": entry.body} for entry in pending],
            )
            report.batch_calls += 1
            failed = response.get("Failed", [])
            report.messages += len(pending) - len(failed)
            if not failed:
                break
            permanent = [f for f in failed if f.get("SenderFault")]
            if permanent or attempt == max_attempts:
                reasons = sorted({f"{f.get('Code')}: {f.get('Message', '')}" for f in failed})
                raise SendError(
                    f"{queue_url}: {len(failed)} message(s) not sent after {attempt} "
                    f"attempt(s) ({'; '.join(reasons)})"
                )
            failed_ids = {f["Id"] for f in failed}
            pending = [entry for entry in pending if entry.id in failed_ids]
            report.entry_retries += len(pending)
            sleep(random.uniform(0, backoff_seconds * 2**attempt))
        if on_sent:
            on_sent(report.messages)
    return report


class SweepQueue:
    """The sweep queue: one request per completed run. Takes a boto3 SQS client."""

    def __init__(self, sqs: SQSClient, queue_url: str) -> None:
        self._sqs = sqs
        self.queue_url = queue_url

    def request_sweep(self, run_id: RunId) -> None:
        self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=encode_sweep_request(run_id))
