"""Each run's raw pages kept: a writer on the scrape's session, one upload when it ends.

A capture never fails the sync: whatever goes wrong (the writer, the bucket missing or
refusing, the run record's update) is logged, said on the run record (``raw_capture_error``)
and counted by the handler (``RawCaptureFailed``); the run goes on as if capture were off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from villages_sync.aws.raw_captures import (
    RawCaptureError,
    capture_key,
    capture_location,
    put_capture,
)
from villages_sync.aws.runs_table import RunsTable
from villages_sync.calendar_api.raw_pages import RawPagesWriter
from villages_sync.run_ids import RunId

logger = logging.getLogger(__name__)


@dataclass
class RawCapture:
    """One run's capture into ``bucket``: ``start`` before the scrape, ``keep`` after it."""

    s3: Any
    bucket: str
    location: str = ""  # s3://bucket/key once stored
    error: str = ""  # why it was not
    s3_requests: int = 0
    writer: RawPagesWriter | None = field(default=None, repr=False)

    def start(self, run_id: str, started_at: int) -> RawPagesWriter:
        self.writer = RawPagesWriter(run_id, started_at)
        return self.writer

    @property
    def failed(self) -> bool:
        return bool(self.error)

    def keep(self, runs: RunsTable, run_id: RunId) -> None:
        """Upload what the writer holds (one PutObject) and say where on the run record."""
        writer = self.writer
        if writer is None:
            return
        try:
            if writer.problem:
                raise RawCaptureError(f"the capture stopped mid-scrape: {writer.problem}")
            body = writer.finish()
            key = capture_key(run_id)
            self.s3_requests += 1
            put_capture(self.s3, self.bucket, key, body)
            self.location = capture_location(self.bucket, key)
            logger.info(
                "raw pages kept",
                extra={
                    "raw_capture": self.location,
                    "pages": writer.pages,
                    "raw_bytes": writer.raw_bytes,
                    "gzip_bytes": writer.gzip_bytes,
                },
            )
        except Exception as error:  # a capture never fails the run: recorded and counted
            self.error = str(error) if isinstance(error, RawCaptureError) else repr(error)
            logger.warning("raw pages not kept", extra={"raw_capture_error": self.error})
        finally:
            writer.close()
            self.writer = None
        try:
            runs.record_capture(run_id, location=self.location, error=self.error)
        except Exception as error:  # the record is for the operator; the run goes on
            logger.warning(
                "raw capture not noted on the run record",
                extra={"raw_capture": self.location, "problem": repr(error)},
            )
