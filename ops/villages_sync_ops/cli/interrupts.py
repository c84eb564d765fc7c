"""How a command is stopped from outside: Ctrl-C, SIGTERM or SIGHUP, or its reader going away.

Each is a ``KeyboardInterrupt`` (so it passes every ``except Exception``, the local function
runtime's included, and a sync stops the same way whichever it was) that carries the signal a
shell would report: the command exits 128 + that number (130 Ctrl-C, 129 SIGHUP, 141 a closed
pipe, 143 SIGTERM), as ``gh``, ``kubectl`` and the shell's own tools do.

SIGTERM is handled directly, not turned into a SIGINT sent to ourselves: a background job of a
script ignores SIGINT, so that route left ``villages-sync sync … & kill -TERM $!`` running.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
from collections.abc import Iterator
from typing import Any, TextIO


class Stopped(KeyboardInterrupt):
    """Stopped from outside; ``signum`` is the signal a shell would report."""

    signum: int = signal.SIGINT
    why: str = "Ctrl-C"


class Terminated(Stopped):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.why = signal.Signals(signum).name


class OutputClosed(Stopped):
    """The reader of stdout or stderr went away (``sync | head -2``)."""

    signum = signal.SIGPIPE
    why = "output closed"


def stop_signal(error: BaseException) -> int:
    """The signal behind an interruption (SIGINT for a plain Ctrl-C)."""
    return int(getattr(error, "signum", signal.SIGINT))


def stop_reason(error: BaseException) -> str:
    return str(getattr(error, "why", "Ctrl-C"))


def exit_code(error: BaseException) -> int:
    return 128 + stop_signal(error)


@contextlib.contextmanager
def terminations_as_interrupts() -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``Terminated`` in the main thread for as long as the block runs."""

    def stop(signum: int, _frame: Any) -> None:
        raise Terminated(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def close_stream(stream: TextIO) -> None:
    """Point a stream whose reader went away at /dev/null, so that later writes (and the flush
    at exit) neither fail nor print "Exception ignored ... BrokenPipeError"."""
    with contextlib.suppress(OSError, ValueError):
        fd = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


def reader_gone(stream: TextIO) -> bool:
    """True when ``stream`` is a pipe whose reading end is closed (Linux reports POLLERR on the
    writing end), found without writing: what ``tail -f`` checks while it waits."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return False
    poller = select.poll()
    poller.register(fd, 0)  # no events asked: POLLERR and POLLHUP are always reported
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))
