"""The raw-pages bucket: one object a run, written once by the producer, read by the CLI.

Keys live under ``PREFIX`` (the only place the producer's role may write). Errors become
``RawCaptureError`` with a sentence an operator can act on (the bucket is missing, access
is denied, the capture expired), never a botocore traceback.
"""

from __future__ import annotations

from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from villages_sync.calendar_api.raw_pages import CONTENT_TYPE

PREFIX = "raw-pages/"


class RawCaptureError(RuntimeError):
    """The capture could not be written or read; the message says why, in one line."""


def capture_key(run_id: str) -> str:
    return f"{PREFIX}{run_id}.jsonl.gz"


def capture_location(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def split_location(location: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key)."""
    bucket, _, key = location.removeprefix("s3://").partition("/")
    return bucket, key


def put_capture(s3: Any, bucket: str, key: str, body: IO[bytes]) -> None:
    """One PutObject (the body is a finished gzip file). Server-side encryption is asked for
    explicitly as well as being the bucket's default."""
    try:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=CONTENT_TYPE,
            ContentEncoding="gzip",
            ServerSideEncryption="AES256",
        )
    except (ClientError, BotoCoreError) as error:
        raise RawCaptureError(_problem(error, bucket, key, "writing")) from None


def get_capture(s3: Any, bucket: str, key: str, out: IO[bytes]) -> int:
    """The capture's bytes into ``out`` as stored (gzip); returns how many."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        size = 0
        for chunk in iter(lambda: body.read(1024 * 1024), b""):
            out.write(chunk)
            size += len(chunk)
        return size
    except (ClientError, BotoCoreError) as error:
        raise RawCaptureError(_problem(error, bucket, key, "reading")) from None


def _problem(error: Exception, bucket: str, key: str, doing: str) -> str:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code == "NoSuchBucket":
            return f"bucket {bucket} does not exist ({doing} {key})"
        if code in ("AccessDenied", "403", "AllAccessDisabled"):
            return f"access to s3://{bucket}/{key} denied ({doing})"
        if code in ("NoSuchKey", "404"):
            return (
                f"s3://{bucket}/{key} is gone (captures expire after RawCaptureDays, or it "
                "was deleted)"
            )
        return f"{doing} s3://{bucket}/{key} failed: {code}: {error}"
    return f"{doing} s3://{bucket}/{key} failed: {type(error).__name__}: {error}"
