"""The changes bus: PutEvents, ten entries a call (its limit), failed entries retried.

PutEvents answers per entry: a call can succeed while some entries failed (throttling, an
internal error). Those are sent again, with back-off, up to ``max_attempts`` times; what still
fails is returned so the caller fails those stream records (and Lambda retries them).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from villages_sync.changes import CHANGE_SOURCE, Change

logger = logging.getLogger(__name__)

MAX_ENTRIES = 10  # PutEvents' limit per call


class ChangesBus:
    def __init__(
        self,
        events: Any,  # an EventBridge client (no stubs in the layer: one call)
        bus_name: str,
        *,
        max_attempts: int = 4,
        backoff_seconds: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._events = events
        self.bus_name = bus_name
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self._sleep = sleep

    def publish(self, changes: Sequence[tuple[Change, int]]) -> set[str]:
        """Put each (change, changed_at) on the bus; the ids of those that never got on."""
        pending = list(changes)
        for attempt in range(self.max_attempts):
            if not pending:
                break
            if attempt:
                self._sleep(self.backoff_seconds * 2 ** (attempt - 1))
            failed: list[tuple[Change, int]] = []
            for start in range(0, len(pending), MAX_ENTRIES):
                failed += self._put(pending[start : start + MAX_ENTRIES])
            pending = failed
        return {change.change_id for change, _ in pending}

    def _put(self, chunk: Sequence[tuple[Change, int]]) -> list[tuple[Change, int]]:
        entries = [
            {
                "Source": CHANGE_SOURCE,
                "DetailType": str(change.kind),
                "Detail": json.dumps(change.detail, sort_keys=True),
                "EventBusName": self.bus_name,
                "Time": changed_at,
            }
            for change, changed_at in chunk
        ]
        try:
            answer = self._events.put_events(Entries=entries)
        except (ClientError, BotoCoreError) as error:
            logger.warning("PutEvents failed", extra={"entries": len(entries), "error": str(error)})
            return list(chunk)
        results = answer.get("Entries", [])
        failed = [
            sent
            for sent, result in zip(chunk, results, strict=False)
            if result.get("ErrorCode") or not result.get("EventId")
        ]
        failed += list(chunk[len(results) :])  # an answer missing entries: those failed too
        if failed:
            codes = sorted({str(r.get("ErrorCode")) for r in results if r.get("ErrorCode")})
            logger.warning(
                "PutEvents entries failed", extra={"failed": len(failed), "codes": codes}
            )
        return failed
