"""The local Lambda runtime prints each Powertools log line once, every invocation."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import textwrap

from villages_sync_ops.local.lambda_runtime import invoke

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


METERED_HANDLER = """
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="imported-elsewhere")
metrics = Metrics()


@metrics.log_metrics
def handler(event, context):
    logger.info("counted", extra={"n": event["n"]})
    metrics.add_metric(name="Things", unit=MetricUnit.Count, value=1)
    return {"ok": True}
"""


def test_invoke_of_a_handler_a_test_imported_first_runs_in_the_functions_own_settings(
    tmp_path, monkeypatch
):
    # Given a Powertools handler module that a test imported first, outside any invocation:
    # no metrics namespace in the environment, and stdout the test's own
    (tmp_path / "imported_elsewhere_handler.py").write_text(textwrap.dedent(METERED_HANDLER))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "imported_elsewhere_handler", raising=False)
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    with contextlib.redirect_stdout(io.StringIO()):
        __import__("imported_elsewhere_handler")

    # When the runtime invokes it twice, with the function's namespace, each time into a
    # different function log
    logs = [io.StringIO(), io.StringIO()]
    for n, log in enumerate(logs):
        with contextlib.redirect_stdout(log):
            result = invoke(
                "imported_elsewhere_handler.handler", {"n": n},
                env={"POWERTOOLS_METRICS_NAMESPACE": "VillagesSyncTest"},
                function_name="metered", timeout_seconds=5, memory_mb=128,
            )  # fmt: skip
        assert result.error is None, result.error  # was: "Must contain a metric namespace"

    # Then each invocation's log holds its own line and its metric, in the function's namespace
    for n, log in enumerate(logs):
        lines = [json.loads(line) for line in log.getvalue().splitlines()]
        assert [line["n"] for line in lines if line.get("message") == "counted"] == [n]
        namespaces = [
            directive["Namespace"]
            for line in lines
            for directive in line.get("_aws", {}).get("CloudWatchMetrics", [])
        ]
        assert namespaces == ["VillagesSyncTest"]
