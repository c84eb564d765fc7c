"""A run's raw pages: every answer the calendar gave one scrape, as gzip JSON lines.

The first line says what the file is (``format``, ``version``, the run); each next line is one
exchange of the producer's client, in the order the answers finished: the request it answered
(``method``, ``url`` with credentials redacted), ``status``, the few response headers a replay
needs (``Content-Type``, ``Retry-After``, ``Location``) and the ``body`` as text (or
``body_base64`` when it is not UTF-8); a request that got no answer has ``status`` null and its
``error``. Any gzip and JSON tool reads it (``zcat f | jq``); ``calendar serve --replay`` serves
it back like a cassette (``recordings`` reads both).

Writing: the pages are compressed as they arrive (level 1: the scrape must not wait on it)
into a spooled file (memory up to ``SPOOL_BYTES``, then a temporary file), so memory holds the
compressed capture, not the pages; ``finish()`` hands over the whole file for one upload.
Redacted as in a cassette: the token (learnt from the auth script as it passes) wherever it
appears, the ``Authorization`` and ``Cookie`` headers (never written), a URL's user info and
credential-like query parameters.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any

import aiohttp
from yarl import URL

from villages_sync.calendar_api.exchange_log import Exchange, ExchangeLog
from villages_sync.calendar_api.site_session import extract_token

FORMAT = "villages-sync-raw-pages"
VERSION = 1
GZIP_MAGIC = b"\x1f\x8b"
CONTENT_TYPE = "application/x-ndjson"
SPOOL_BYTES = 16 * 1024 * 1024  # compressed; past this the capture moves to a temporary file
KEPT_HEADERS = ("content-type", "retry-after", "location")
# As cassettes write them (calendar_api.cassettes, which the Lambda layer does not ship: YAML).
REDACTED = "[redacted]"
REDACTED_TOKEN = "REDACTED_TOKEN"  # still a token the client's patterns read
_SECRET_QUERY_WORDS = ("token", "key", "secret", "password", "auth", "signature", "session")


@dataclass
class RawPagesWriter:
    """``ClientSession(trace_configs=[writer.trace_config()])``; ``finish()`` after the scrape."""

    run_id: str
    started_at: int = 0
    pages: int = 0  # exchanges written
    raw_bytes: int = 0  # bodies as served (after the transport's decompression)
    gzip_bytes: int = 0  # the file, once finished
    problem: str = ""  # writing failed (then nothing more is written, and nothing kept)
    _token: str | None = field(default=None, init=False)
    _file: IO[bytes] = field(init=False)
    _gzip: gzip.GzipFile = field(init=False)
    _log: ExchangeLog = field(init=False)

    def __post_init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self._gzip = gzip.GzipFile(fileobj=self._file, mode="wb", compresslevel=1, mtime=0)
        # The log keeps nothing: each exchange is written as it finishes, then forgotten.
        self._log = ExchangeLog(on_finished=self.write, keep=False)
        header = {"format": FORMAT, "version": VERSION, "run_id": self.run_id}
        self._line({**header, "started_at": self.started_at})

    def trace_config(self) -> aiohttp.TraceConfig:
        return self._log.trace_config()

    def write(self, exchange: Exchange) -> None:
        """Never raises: it runs inside the client's requests, which a capture must not fail."""
        if self.problem:
            return
        try:
            self._write(exchange)
        except Exception as error:
            self.problem = f"{type(error).__name__}: {error}"

    def _write(self, exchange: Exchange) -> None:
        body = exchange.body or b""
        self._learn_token(exchange, body)
        if self._token and body:
            body = body.replace(self._token.encode(), REDACTED_TOKEN.encode())
        line: dict[str, Any] = {
            "method": exchange.method,
            "url": self.redact_url(exchange.url),
            "status": exchange.status,
            "headers": [
                [name, value]
                for name, value in exchange.response_headers
                if name.lower() in KEPT_HEADERS
            ],
        }
        if exchange.error:
            line["error"] = self._redact(exchange.error)
        try:
            line["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            line["body_base64"] = base64.b64encode(body).decode("ascii")
        if exchange.seconds is not None:
            line["seconds"] = round(exchange.seconds, 4)
        self._line(line)
        self.pages += 1
        self.raw_bytes += len(body)

    def _learn_token(self, exchange: Exchange, body: bytes) -> None:
        """The token, from the header an events request carried it in, or from a body that
        holds it (the auth script: a request without credentials). Events pages, which carry
        it, are not searched: a regex over every page cost more than the rest of the capture."""
        authorization = next(
            (v for k, v in exchange.request_headers.items() if k.lower() == "authorization"), ""
        )
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() == "basic" and credential:
            self._remember(credential.strip())
        elif body:
            self._remember(extract_token(body.decode("utf-8", errors="replace")))

    def _remember(self, token: str | None) -> None:
        if token and token != REDACTED_TOKEN:
            self._token = token

    def redact_url(self, url: str) -> str:
        parsed = URL(url)
        if parsed.user or parsed.password:
            parsed = parsed.with_user(None)
        query = [
            (name, REDACTED if _credential_like(name) else value)
            for name, value in parsed.query.items()
        ]
        if query:
            parsed = parsed.with_query(query)
        return self._redact(str(parsed))

    def _redact(self, text: str) -> str:
        return text.replace(self._token, REDACTED_TOKEN) if self._token else text

    def _line(self, value: dict[str, Any]) -> None:
        self._gzip.write(json.dumps(value, ensure_ascii=False).encode("utf-8") + b"\n")

    def finish(self) -> IO[bytes]:
        """The whole gzip file, rewound, for one upload (the writer takes no more pages)."""
        if not self._gzip.closed:
            self._gzip.close()
            self.gzip_bytes = _size(self._file)
        self._file.seek(0)
        return self._file

    def close(self) -> None:
        self._gzip.close()
        self._file.close()


def _size(stream: IO[bytes]) -> int:
    here = stream.tell()
    size = stream.seek(0, io.SEEK_END)
    stream.seek(here)
    return size


def _credential_like(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_QUERY_WORDS)
