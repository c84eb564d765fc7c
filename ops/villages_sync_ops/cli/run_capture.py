"""``villages-sync runs capture RUN_ID --out FILE``: the pages the calendar served one run.

The run record says where its raw pages are (``raw_capture``) or why there are none
(``raw_capture_error``); the file written is the capture as stored (gzip JSON lines), which
``calendar serve --replay FILE`` serves back. Errors are one line: exit 1 for a run without a
capture, a failed capture, a bucket missing or denied; exit 2 for a bad ``--out``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from villages_sync.aws.clients import s3_client
from villages_sync.aws.raw_captures import RawCaptureError, get_capture, split_location

from villages_sync_ops.cli.errors import CommandError, UsageError
from villages_sync_ops.cli.output import print_json, print_line
from villages_sync_ops.cli.summaries import EXIT_OK
from villages_sync_ops.cli.targets import Target


def capture_command(args: argparse.Namespace, target: Target, run: Any) -> int:
    out = _out_path(args.out)
    if not run.raw_capture:
        if run.raw_capture_error:
            raise CommandError(f"run {run.run_id}: its capture failed: {run.raw_capture_error}")
        raise CommandError(
            f"run {run.run_id} has no capture (RawCapture was Disabled for it, or it ran "
            "before captures were kept)"
        )
    bucket, key = split_location(run.raw_capture)
    partial = out.with_name(f".{out.name}.part")
    try:
        with open(partial, "wb") as stream:
            size = get_capture(_s3_for(target), bucket, key, stream)
        os.replace(partial, out)
    except RawCaptureError as error:
        raise CommandError(f"run {run.run_id}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    if args.json:
        print_json({"run_id": run.run_id, "raw_capture": run.raw_capture, "out": str(out),
                    "bytes": size})  # fmt: skip
    else:
        print_line(
            f"wrote run {run.run_id}'s raw pages ({size} bytes, gzip JSON lines) to {out}; "
            f"replay them: villages-sync calendar serve --replay {out}"
        )
    return EXIT_OK


def _out_path(text: str | None) -> Path:
    if not text:
        raise UsageError("runs capture needs --out FILE")
    out = Path(text)
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: no directory {out.parent}")
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; name a file")
    return out


def _s3_for(target: Target) -> Any:
    """S3 where the target's queues are: the emulator's endpoint locally, AWS's for a stack."""
    sqs = target.clients.sqs
    endpoint = str(sqs.meta.endpoint_url)
    local = "amazonaws.com" not in endpoint
    return s3_client(endpoint if local else None, sqs.meta.region_name)
