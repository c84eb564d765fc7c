"""JSON over HTTP(S) with the standard library: the skill's cold start loads no HTTP client
package (urllib is already imported by botocore), and the calls are few and small.

A connection error or a timeout is answered as a 503 (unavailable: retried as one), so the
callers' one policy (``villages_sync.reminders.delivery``) covers it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

UNAVAILABLE = 503
MAX_BODY_BYTES = 1024 * 1024  # Alexa's answers are a few hundred bytes; never read more


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    body: Any  # the JSON body, or None (empty, or not JSON)
    retry_after: float | None = None  # seconds, from Retry-After when given as a number


class JsonHttp(Protocol):
    def __call__(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None
    ) -> HttpAnswer: ...


class UrllibHttp:
    """``JsonHttp`` over urllib, with one timeout for connecting and reading."""

    def __init__(self, timeout_seconds: float = 5.0) -> None:
        self.timeout_seconds = timeout_seconds

    def __call__(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None
    ) -> HttpAnswer:
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("Alexa's APIs are reached over https (plain http: 127.0.0.1 only)")
        request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                return HttpAnswer(response.status, _json(response.read(MAX_BODY_BYTES)))
        except urllib.error.HTTPError as error:
            with error:
                body_bytes = error.read(MAX_BODY_BYTES)
            return HttpAnswer(
                error.code, _json(body_bytes), _seconds(error.headers.get("Retry-After"))
            )
        except (TimeoutError, urllib.error.URLError, ConnectionError):
            return HttpAnswer(UNAVAILABLE, None)


def json_body(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
