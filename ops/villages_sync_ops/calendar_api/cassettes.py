"""One whole scrape recorded as a VCR.py cassette, and cassettes read back for a replay.

VCR.py patches aiohttp's ``ClientSession._request``, so the producer's own client runs
unchanged while every request it makes and every response it gets (the token script, the
calendar page, each events page, each retried 5xx or 429) lands in the cassette in order.
VCR.py records responses only: a timeout or a refused connection leaves no interaction
(the retry that followed it does).

Redacted in the file: the ``Authorization`` and ``Cookie`` request headers, ``Set-Cookie``
values, and the token wherever it appears in a body (the auth script keeps its shape, with
``REDACTED_TOKEN`` for the credential, so a replay still finds one to send).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from villages_sync.calendar_api.client import ScrapeResult, scrape_calendar
from villages_sync.calendar_api.site_session import extract_token
from villages_sync.settings import CalendarSettings

CASSETTE_VERSION = 1  # VCR.py's cassette format version
REDACTED = "[redacted]"
REDACTED_TOKEN = "REDACTED_TOKEN"  # stays a token the client's patterns read
_REQUEST_SECRETS = ("authorization", "cookie")


class CassetteError(ValueError):
    """Not a cassette this tool can replay: says why, in one line."""


@dataclass(frozen=True, slots=True)
class RecordedAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Interaction:
    method: str
    uri: str
    answer: RecordedAnswer


@dataclass
class _Redactor:
    """Learns the token from the auth script as it passes and removes it from every body."""

    token: str | None = None

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        body = response.get("body", {}).get("string", b"")
        raw = body.encode() if isinstance(body, str) else (body or b"")
        token = extract_token(raw.decode("utf-8", errors="replace")) if raw else None
        if token and token != REDACTED_TOKEN:
            self.token = token
        if self.token and raw:
            raw = raw.replace(self.token.encode(), REDACTED_TOKEN.encode())
            response["body"]["string"] = raw
        headers = response.get("headers", {})
        for name in list(headers):
            if name.lower() == "set-cookie":
                headers[name] = [_redact_cookie(value) for value in headers[name]]
        return response


def _redact_cookie(value: str) -> str:
    """``name=value; attributes`` with the value redacted (the name says what it was)."""
    pair, _, attributes = value.partition(";")
    name = pair.split("=", 1)[0]
    return f"{name}={REDACTED};{attributes}" if attributes else f"{name}={REDACTED}"


def record_scrape(settings: CalendarSettings, out: Path) -> ScrapeResult:
    """One whole scrape by the producer's client, every exchange written to ``out``."""
    import vcr  # only the recording command needs it

    redactor = _Redactor()
    recorder = vcr.VCR(
        record_mode="all",
        filter_headers=[(name, REDACTED) for name in _REQUEST_SECRETS],
        before_record_response=redactor.response,
        decode_compressed_response=True,
    )
    if out.exists():
        out.unlink()  # a new recording, not episodes appended to an old one
    with recorder.use_cassette(str(out), serializer="yaml"):
        return asyncio.run(scrape_calendar(settings))


def load_cassette(path: Path) -> list[Interaction]:
    """The interactions of a VCR.py cassette, in recorded order, or a ``CassetteError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CassetteError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CassetteError(f"{path}: cannot be read ({error})") from None
    try:
        data = yaml.load(text, Loader=_CassetteLoader)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise CassetteError(f"{path}: not a cassette (YAML breaks{at}: truncated?)") from None
    if not isinstance(data, dict) or "interactions" not in data:
        raise CassetteError(f"{path}: not a cassette (no 'interactions')")
    if data.get("version") != CASSETTE_VERSION:
        raise CassetteError(
            f"{path}: cassette version {data.get('version')!r}; this tool replays version "
            f"{CASSETTE_VERSION} (VCR.py's)"
        )
    interactions = data["interactions"]
    if not isinstance(interactions, list) or not interactions:
        raise CassetteError(f"{path}: the cassette records no requests")
    return [_interaction(path, n, raw) for n, raw in enumerate(interactions, start=1)]


def _interaction(path: Path, number: int, raw: object) -> Interaction:
    try:
        # ignore: raw is the cassette's YAML, unchecked; anything but a mapping raises here
        request, response = raw["request"], raw["response"]  # type: ignore[index]
        body = response.get("body", {}).get("string", b"")
        headers = [
            (str(name), str(value))
            for name, values in (response.get("headers") or {}).items()
            for value in _as_list(values)
        ]
        answer = RecordedAnswer(
            int(response["status"]["code"]),
            headers,
            body.encode() if isinstance(body, str) else bytes(body or b""),
        )
        return Interaction(str(request["method"]).upper(), str(request["uri"]), answer)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise CassetteError(
            f"{path}: interaction {number} is incomplete (truncated cassette?)"
        ) from None


def _as_list(values: object) -> Iterable[object]:
    return values if isinstance(values, list) else [values]


class _CassetteLoader(yaml.SafeLoader):
    """Safe YAML plus ``!!binary`` (bodies VCR.py writes as bytes); nothing executable."""
