"""Every HTTP exchange one aiohttp session makes, as the client made it: an aiohttp trace.

``calendar check`` runs the producer's own client with this trace on its session and judges
the raw answers (a body the client refused to parse is exactly what the check must see).
Nothing here changes a request or a response; it only keeps a copy.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace

import aiohttp


@dataclass(slots=True)
class Exchange:
    """One request and what came of it: a response (status, headers, body) or an error."""

    method: str
    url: str
    request_headers: dict[str, str]
    started: float  # loop time
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None  # None until (unless) the client read it
    error: str = ""  # a network failure or timeout: no response at all
    finished: float | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.finished is None else self.finished - self.started


@dataclass
class ExchangeLog:
    """``ClientSession(trace_configs=[log.trace_config()])``; ``log.exchanges`` in start order."""

    exchanges: list[Exchange] = field(default_factory=list)

    def trace_config(self) -> aiohttp.TraceConfig:
        config = aiohttp.TraceConfig()
        config.on_request_start.append(self._started)
        config.on_request_end.append(self._answered)
        config.on_request_exception.append(self._failed)
        config.on_response_chunk_received.append(self._body_read)
        return config

    async def _started(
        self, _: aiohttp.ClientSession, context: SimpleNamespace, params: object
    ) -> None:
        exchange = Exchange(
            method=params.method,  # type: ignore[attr-defined]
            url=str(params.url),  # type: ignore[attr-defined]
            request_headers=dict(params.headers),  # type: ignore[attr-defined]
            started=asyncio.get_running_loop().time(),
        )
        context.exchange = exchange
        self.exchanges.append(exchange)

    async def _answered(
        self, _: aiohttp.ClientSession, context: SimpleNamespace, params: object
    ) -> None:
        exchange: Exchange = context.exchange
        response: aiohttp.ClientResponse = params.response  # type: ignore[attr-defined]
        exchange.status = response.status
        exchange.response_headers = list(response.headers.items())
        exchange.finished = asyncio.get_running_loop().time()

    async def _failed(
        self, _: aiohttp.ClientSession, context: SimpleNamespace, params: object
    ) -> None:
        exchange: Exchange = context.exchange
        error: BaseException = params.exception  # type: ignore[attr-defined]
        exchange.error = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        exchange.finished = asyncio.get_running_loop().time()

    async def _body_read(
        self, _: aiohttp.ClientSession, context: SimpleNamespace, params: object
    ) -> None:
        exchange: Exchange = context.exchange
        chunk: bytes = params.chunk  # type: ignore[attr-defined]
        exchange.body = chunk if exchange.body is None else exchange.body + chunk
        exchange.finished = asyncio.get_running_loop().time()
