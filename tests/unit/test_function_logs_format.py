"""One log line as `villages-sync logs` prints it: the zone shown, the function by its name."""

from __future__ import annotations

import argparse

import pytest
from villages_sync_ops.cli.function_logs import format_record, function_choice, matches_function

RECORD = {
    "level": "INFO",
    "message": "run completed",
    "timestamp": "2026-12-06 04:31:56,240+0000",
    "function_name": "villages-sync-test-consumer",
}


def test_format_record_shows_the_time_with_its_zone():
    assert format_record(RECORD).startswith("04:31:56Z INFO    consumer run completed")


@pytest.mark.parametrize(
    ("given", "short"),
    [("producer", "producer"), ("ProducerFunction", "producer"), ("CONSUMER", "consumer")],
)
def test_function_choice_takes_short_names_and_logical_ids(given, short):
    assert function_choice(given) == short


def test_function_choice_refuses_unknown_names_listing_the_known():
    with pytest.raises(argparse.ArgumentTypeError, match="producer, reminders, skill, sweep"):
        function_choice("nosuch")


def test_matches_function_is_the_function_not_a_substring():
    assert matches_function(RECORD, "consumer")
    assert not matches_function(RECORD, "sum")


def test_format_record_cuts_long_values_only_when_asked_for_a_terminal():
    record = {**RECORD, "detail": "x" * 300}
    assert "x" * 300 + "" in format_record(record, whole=True)
    assert "..." in format_record(record) and "x" * 300 not in format_record(record)
