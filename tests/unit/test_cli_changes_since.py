"""`changes --since WHEN`: the moments an operator can name."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from villages_sync_ops.cli.changes import parse_since
from villages_sync_ops.cli.errors import UsageError

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 6, 14, 30, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", NOW - timedelta(minutes=90)),
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("today", datetime(2026, 12, 6, tzinfo=TZ)),
        ("Yesterday", datetime(2026, 12, 5, tzinfo=TZ)),
        ("2026-11-30", datetime(2026, 11, 30, tzinfo=TZ)),
        ("2026-12-01T09:15", datetime(2026, 12, 1, 9, 15, tzinfo=TZ)),
        ("2026-12-01T09:15+00:00", datetime.fromisoformat("2026-12-01T09:15+00:00")),
    ],
)
def test_parse_since_each_form_names_its_moment(text: str, expected: datetime) -> None:
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["", "last week", "7 days ago", "2026-02-30", "-3h"])
def test_parse_since_unknown_form_is_a_usage_error_naming_the_grammar(text: str) -> None:
    with pytest.raises(UsageError, match="24h"):
        parse_since(text, now=NOW)
