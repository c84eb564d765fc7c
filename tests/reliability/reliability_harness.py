"""The reliability harness: drives the local pipeline, reads back state, injects AWS faults."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from botocore.awsrequest import AWSResponse
from support.sqs import message_count, receive_bodies, send_bodies
from villages_sync.normalise import normalise_events, window_for
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.local.pipeline import PRODUCER, LocalPipeline, SyncOptions, scheduled_event

TZ = ZoneInfo(DEFAULT_TIMEZONE)
FAST_RETRIES = {
    "BACKOFF_BASE_SECONDS": "0.01",
    "BACKOFF_MAX_SECONDS": "0.2",
    "TIMEOUT_SECONDS": "5",
}
# The fault matrix runs with the sweep's two outer safety nets off (deletion on the first miss,
# no cap on the share deleted), so that each fault's effect shows in one run and the run
# marker's conditions alone must keep every live event: a stricter test of them than the
# defaults give. The nets themselves are proven at their defaults by
# test_deletion_state_machine.py, test_sweep_policy.py and the events-table adapter tests.
ONE_STRIKE = {"SWEEP_MISSES_BEFORE_DELETE": "1", "MAX_DELETE_RATIO": "1"}


def today():
    return datetime.now(TZ).date()


# --- the harness -----------------------------------------------------------------------------


def expected_items(raw_events: list[dict]) -> dict[str, str]:
    """event_id -> content_hash of the valid events of today's window, by the normaliser."""
    now = datetime.now(TZ)
    result = normalise_events(raw_events, tz=TZ, window=window_for(now, TZ, 90), last_updated=0)
    return {item["event_id"]: item["content_hash"] for item in result.items}


class Harness:
    """Drives the real handlers through the local pipeline and reads back what they left."""

    def __init__(self, deployment: Any) -> None:
        self.deployment = deployment
        self.sqs = deployment.clients.sqs
        self.dynamodb = deployment.clients.dynamodb
        self.log = io.StringIO()

    def pipeline(self, base_url: str, **extra_env: str) -> LocalPipeline:
        options = SyncOptions(
            calendar_base_url=base_url,
            function_log=self.log,
            extra_env={**FAST_RETRIES, **ONE_STRIKE, **extra_env},
        )
        return LocalPipeline(self.deployment, options)

    def sync(self, base_url: str, **extra_env: str):
        return self.pipeline(base_url, **extra_env).run_sync()

    def produce(self, base_url: str, **extra_env: str) -> tuple[LocalPipeline, Any]:
        """Only the producer: the run's messages wait on the events queue."""
        pipeline = self.pipeline(base_url, **extra_env)
        invocation = pipeline.invoke_function(PRODUCER, scheduled_event(self.deployment.region))
        return pipeline, invocation

    def stored(self) -> dict[str, dict[str, Any]]:
        """Every item of the events table, by event_id (a scan; event_id is the only key)."""
        table = self.deployment.resources.tables["EventsTable"]
        items: dict[str, dict[str, Any]] = {}
        # Tombstones (what the sweep leaves of a deleted item) are not events.
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=table, FilterExpression="attribute_not_exists(deleted_by)"
        )
        for page in pages:
            for raw in page["Items"]:
                items[raw["event_id"]["S"]] = {
                    "content_hash": raw["content_hash"]["S"],
                    "run_id": raw["run_id"]["S"],
                }
        return items

    def stored_hashes(self) -> dict[str, str]:
        return {k: v["content_hash"] for k, v in self.stored().items()}

    def assert_exact(
        self,
        expected: dict[str, str],
        run: Any = None,
        before: Iterable[str] = (),
    ) -> dict[str, int | None]:
        """Assert the table holds exactly ``expected`` (ids and content); the report's figures.

        ``duplicated`` counts the events ``run`` wrote as ADDED more than once: its run record's
        ``added`` count beyond the distinct expected events that were not in the table
        (``before``: the ids stored when the run started; empty for a fresh table). A scan of
        the table cannot show a duplicate (event_id is its only key), so this is the place a
        double write can show. It is a lower bound: a crashed attempt's writes are counted by
        its retry as unchanged, so ``added`` may fall short of the new events. Without
        ``run`` (no single run to compare, e.g. overlapping runs) it is None: not measured.
        """
        stored = self.stored_hashes()
        lost = set(expected) - set(stored)
        extra = set(stored) - set(expected)
        stale = sum(1 for k, v in expected.items() if k in stored and stored[k] != v)
        assert lost == set(), "lost"
        assert extra == set(), "left behind"
        assert stale == 0, "stale content"
        assert stored == expected
        duplicated = None
        if run is not None:
            new = set(expected) - set(before)
            duplicated = max(0, run.upserts.get("added", 0) - len(new))
            assert duplicated == 0, f"added {run.upserts.get('added', 0)} of {len(new)} new"
        return {"events": len(expected), "lost": len(lost), "duplicated": duplicated}

    def queue_url(self, logical_id: str) -> str:
        return self.deployment.resources.queue_urls[logical_id]

    def queue_count(self, logical_id: str) -> int:
        """Messages on the queue, visible and in flight."""
        return message_count(self.sqs, self.queue_url(logical_id))

    def take_messages(self, logical_id: str = "EventsQueue") -> list[str]:
        """Remove every message from the queue; their bodies, in receive order."""
        return receive_bodies(
            self.sqs, self.queue_url(logical_id), visibility_timeout=300, delete=True
        )

    def put_messages(self, bodies: list[str], logical_id: str = "EventsQueue") -> None:
        send_bodies(self.sqs, self.queue_url(logical_id), bodies)


# --- botocore-level fault injection ----------------------------------------------------------


def error_response(request: Any, status: int, code: str, message: str) -> AWSResponse:
    """A raw AWS JSON-protocol error answer, as DynamoDB or SQS would send it."""
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})
    headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(request.url, status, headers, _RawBody(body.encode()))


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        return self._body


@contextlib.contextmanager
def hooked(client: Any, event: str, handler: Callable[..., Any]) -> Iterator[None]:
    """Register ``handler`` on the (cached, shared) client's event system for the block."""
    unique_id = f"reliability-{id(handler)}"
    client.meta.events.register_first(event, handler, unique_id=unique_id)
    try:
        yield
    finally:
        client.meta.events.unregister(event, handler, unique_id=unique_id)


TEXT_FIELDS = ("title", "description", "location", "category", "venue_category", "address")
_TAG = re.compile(r"<[A-Za-z!/?][^<>]*>")
_UNSAFE_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")  # controls, format, surrogates, ...


def unclean_fields(item: dict) -> list[str]:
    """The text fields of a stored item that hold markup or control/format characters."""
    return [
        name
        for name in TEXT_FIELDS
        if (value := item.get(name))
        and (
            _TAG.search(value)
            or any(unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in value)
        )
    ]


def current_test_id() -> str:
    """The running test's node id (PYTEST_CURRENT_TEST without its " (call)" phase; ids of
    parametrized tests may contain spaces, so only the last word goes)."""
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]


@contextlib.contextmanager
def failing_send_entries(
    sqs: Any, counter: CallCounter, how_many: Callable[[int, list[dict]], int]
) -> Iterator[None]:
    """SendMessageBatch call number ``n`` leaves out its first ``how_many(n, entries)`` entries
    and reports them in ``Failed`` (as SQS does for entries it could not take), so the sender
    must send them again."""
    dropped: dict[int, list[str]] = {}

    def drop_entries(params: dict, **_: Any) -> None:
        call = counter.next()
        n = how_many(call, params["Entries"])
        if n:
            dropped[call] = [entry["Id"] for entry in params["Entries"][:n]]
            params["Entries"] = params["Entries"][n:]
            counter.injected += n

    def report_failed(parsed: dict, **_: Any) -> None:
        parsed.setdefault("Failed", []).extend(
            {"Id": i, "SenderFault": False, "Code": "InternalError", "Message": "injected"}
            for i in dropped.pop(counter.calls, [])
        )

    with (
        hooked(sqs, "provide-client-params.sqs.SendMessageBatch", drop_entries),
        hooked(sqs, "after-call.sqs.SendMessageBatch", report_failed),
    ):
        yield


class CallCounter:
    def __init__(self) -> None:
        self.calls = 0
        self.injected = 0
        self.lock = threading.Lock()

    def next(self) -> int:
        with self.lock:
            self.calls += 1
            return self.calls
