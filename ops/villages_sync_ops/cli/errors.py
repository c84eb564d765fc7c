"""Failures a user can act on, and the state directory they most often trip over."""

from __future__ import annotations

import os
from pathlib import Path

from villages_sync_ops.local.emulator import default_state_dir


class CommandError(RuntimeError):
    """A failure the user can act on; printed as one line, exit code 1."""


class UsageError(CommandError):
    """A bad argument or setting: printed as one line, exit code 2 (as argparse does)."""


def state_dir(*, create: bool) -> Path:
    """The state directory (``VILLAGES_SYNC_HOME``), checked: a CommandError saying what is wrong
    with it instead of an OSError deep inside. Read-only commands (``create=False``) accept a
    missing one: it just holds nothing yet."""
    path = default_state_dir()
    where = "VILLAGES_SYNC_HOME" if os.environ.get("VILLAGES_SYNC_HOME") else "the state directory"
    if path.exists() and not path.is_dir():
        raise CommandError(f"{where} {path} is a file, not a directory; point it at a directory")
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(
                f"{where} {path} cannot be created ({error.strerror}); "
                "point VILLAGES_SYNC_HOME at a writable directory"
            ) from None
        if not os.access(path, os.W_OK | os.X_OK):
            raise CommandError(
                f"{where} {path} is not writable; point VILLAGES_SYNC_HOME at a writable directory"
            )
    return path
