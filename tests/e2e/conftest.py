"""Fixtures of the command-line tests (the command itself: support.cli.run_cli)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The test process's environment without endpoint overrides, and a home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    env["VILLAGES_SYNC_HOME"] = str(tmp_path / "home")
    return env
