"""A recording read back for a replay: a VCR.py cassette or a run's raw-pages capture.

The two are told apart by their first bytes (a capture is gzip, a cassette YAML). Whatever is
wrong with a file (not a recording, truncated, another version) is one ``CassetteError`` line.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from pathlib import Path
from typing import Any

from villages_sync.calendar_api.raw_pages import FORMAT, GZIP_MAGIC, VERSION

from villages_sync_ops.calendar_api.cassettes import (
    CassetteError,
    Interaction,
    RecordedAnswer,
    load_cassette,
)


class CaptureError(CassetteError):
    """Not a raw-pages capture this tool can replay: says why, in one line."""


def is_capture(head: bytes) -> bool:
    """Whether a file starting with ``head`` is (meant to be) a raw-pages capture: gzip."""
    return head.startswith(GZIP_MAGIC)


def load_capture(path: Path) -> list[Interaction]:
    """The answers of a capture, in recorded order, as a replay serves them; CaptureError
    (one line) for a file that is not one, is truncated, or is of another version. Requests
    that got no answer (a timeout) have nothing to replay and are left out."""
    try:
        with gzip.open(path, "rb") as stream:
            lines = stream.read().splitlines()
    except FileNotFoundError:
        raise CaptureError(f"{path}: no such file") from None
    except EOFError:
        raise CaptureError(f"{path}: the capture is truncated (its gzip stream ends early)") from (
            None
        )
    except (OSError, zlib.error) as error:
        raise CaptureError(f"{path}: not a raw-pages capture ({error})") from None
    if not lines:
        raise CaptureError(f"{path}: an empty gzip file, not a raw-pages capture")
    header = _json_line(path, 1, lines[0])
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CaptureError(f"{path}: gzip, but not a raw-pages capture (no '{FORMAT}' header)")
    if header.get("version") != VERSION:
        raise CaptureError(
            f"{path}: capture version {header.get('version')!r}; this tool replays version "
            f"{VERSION}"
        )
    interactions = []
    for number, raw in enumerate(lines[1:], start=2):
        line = _json_line(path, number, raw)
        interaction = _interaction(path, number, line)
        if interaction is not None:
            interactions.append(interaction)
    if not interactions:
        raise CaptureError(f"{path}: the capture holds no answered request")
    return interactions


def _json_line(path: Path, number: int, raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise CaptureError(f"{path}: line {number} is not JSON (truncated capture?)") from None


def _interaction(path: Path, number: int, line: Any) -> Interaction | None:
    try:
        if line["status"] is None:
            return None
        if "body_base64" in line:
            body = base64.b64decode(line["body_base64"], validate=True)
        else:
            body = str(line["body"]).encode("utf-8")
        headers = [(str(name), str(value)) for name, value in line.get("headers", [])]
        answer = RecordedAnswer(int(line["status"]), headers, body)
        return Interaction(str(line["method"]).upper(), str(line["url"]), answer)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise CaptureError(f"{path}: line {number} is not a page (truncated capture?)") from None


def load_recording(path: Path) -> list[Interaction]:
    """A capture or a cassette, told apart by their first bytes (gzip or YAML)."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(2)
    except FileNotFoundError:
        raise CassetteError(f"{path}: no such file") from None
    except OSError as error:
        raise CassetteError(f"{path}: cannot be read ({error.strerror or error})") from None
    return load_capture(path) if is_capture(head) else load_cassette(path)
