"""One local ``sync`` at a time per state directory and environment.

Two syncs against the same queues would receive each other's messages and leave one run
``enqueued`` for ever. An advisory ``flock`` on a file in the state directory: the kernel
releases it when the holder exits, however it exits, so a crash never leaves a stale lock.
(In AWS the producer's reserved concurrency of 1 does the same job.)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class LockHeldError(RuntimeError):
    def __init__(self, environment: str, holder: str) -> None:
        super().__init__(
            f"another sync is running for environment {environment!r} (pid {holder}); "
            f"wait for it to finish, or stop it (Ctrl-C in its terminal, or kill {holder})"
        )
        self.holder = holder


@contextlib.contextmanager
def sync_lock(state_dir: Path, environment: str) -> Iterator[Path]:
    """Hold the environment's sync lock for the block; LockHeldError naming the holder's pid."""
    locks = state_dir / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    path = locks / f"sync-{environment}.lock"
    with path.open("a+", encoding="ascii") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise LockHeldError(environment, handle.read().strip() or "unknown") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield path
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
