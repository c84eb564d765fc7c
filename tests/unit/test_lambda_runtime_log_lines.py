"""The local Lambda runtime prints each Powertools log line once, every invocation."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import textwrap

from villages_sync.local.lambda_runtime import invoke

HANDLER = """
from aws_lambda_powertools import Logger

logger = Logger(service="twice-checked")


def handler(event, context):
    logger.info("one line", extra={"n": event["n"]})
    return {"ok": True}
"""


def test_invoke_prints_a_powertools_line_once_in_every_invocation(tmp_path, monkeypatch):
    # Given a handler module that logs through Powertools (created once, at import)
    (tmp_path / "twice_checked_handler.py").write_text(textwrap.dedent(HANDLER))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "twice_checked_handler", raising=False)

    # When it is invoked three times, as the event source mapping does (one output stream, as
    # a sync's function log is)
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        for n in range(3):
            result = invoke(
                "twice_checked_handler.handler", {"n": n}, env={}, function_name="f",
                timeout_seconds=5, memory_mb=128,
            )  # fmt: skip
            assert result.error is None, result.error
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]

    # Then every invocation printed its line exactly once
    mine = [line["n"] for line in lines if line.get("message") == "one line"]
    assert mine == [0, 1, 2], lines
